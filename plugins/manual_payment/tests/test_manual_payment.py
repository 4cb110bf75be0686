"""The manual payment provider: the contract suite, its state in the database, its config."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import msgspec
import pytest
from caravan_manual_payment import ManualPayment
from caravan_manual_payment.provider import UnknownPaymentError

from core.plugins import PaymentSessionRequest, Settings, new_id
from core.plugins.testing.contracts import PaymentProviderContract

INSTRUCTIONS = {
    "en": "Transfer to IBAN DE89 3704 0044 0532 0130 00, reference: your order number.",
    "de": "Überweisung an IBAN DE89 3704 0044 0532 0130 00, Verwendungszweck: Bestellnummer.",
}


def make(**config: Any) -> ManualPayment:
    """A provider configured as a store would activate it (strict JSON config)."""
    return ManualPayment(msgspec.convert(config, ManualPayment.Config, strict=True))


def request(amount: int = 4_990, **overrides: Any) -> PaymentSessionRequest:
    values: dict[str, Any] = {
        "store_id": "store_manual_tests",
        "cart_id": new_id("cart"),
        "amount": amount,
        "currency": "EUR",
        "idempotency_key": new_id("idem"),
        **overrides,
    }
    return PaymentSessionRequest(**values)


class TestManualPaymentContract(PaymentProviderContract):
    @pytest.fixture
    def provider(self, client: Any) -> ManualPayment:
        return make(kind="bank_transfer", instructions=INSTRUCTIONS)


class TestCashOnDeliveryContract(PaymentProviderContract):
    amount = 123_456
    currency = "KWD"

    @pytest.fixture
    def provider(self, client: Any) -> ManualPayment:
        return make(kind="cash_on_delivery")


# ---------------------------------------------------------------------------
# Sessions and instructions
# ---------------------------------------------------------------------------


async def test_a_session_is_pending_with_the_customers_instructions(client: Any) -> None:
    provider = make(instructions=INSTRUCTIONS)
    session = await provider.create_session(request(locale="de_AT"))
    assert session.status == "pending"
    assert session.next_action.type == "none"
    assert session.next_action.instructions == INSTRUCTIONS["de"]
    assert session.data == {"kind": "bank_transfer"}
    assert session.reference.startswith("mpay_")
    english = await provider.create_session(request(locale="fr"))
    assert english.next_action.instructions == INSTRUCTIONS["en"]  # the first configured


async def test_without_instructions_a_default_text_per_kind(client: Any) -> None:
    cod = await make(kind="cash_on_delivery").create_session(request())
    assert cod.next_action.instructions == "Pay the courier when your order arrives."
    assert cod.data == {"kind": "cash_on_delivery"}


def test_config_is_validated_strictly() -> None:
    config = ManualPayment.Config
    for bad in (
        {"kind": "cheque"},
        {"instructions": {"en": ""}},
        {"instructions": {"not a locale!": "x"}},
        {"instructions": "Pay us"},
        {"kind": "bank_transfer", "iban": "DE89"},
    ):
        with pytest.raises(msgspec.ValidationError):
            msgspec.convert(bad, config, strict=True)
    assert msgspec.convert({}, config, strict=True) == config(kind="bank_transfer")


# ---------------------------------------------------------------------------
# State: shared by every instance and process, moved once per key
# ---------------------------------------------------------------------------


async def test_state_is_shared_by_every_instance(client: Any) -> None:
    session = await make().create_session(request(amount=2_500))
    assert (await make().retrieve(session.reference)).status == "pending"
    captured = await make(kind="cash_on_delivery").capture(session.reference, 2_500, "paid-1")
    assert (captured.status, captured.captured) == ("captured", 2_500)
    refund = await make().refund(session.reference, 500, "refund-1", "damaged")
    assert refund.status == "succeeded"
    state = await make().retrieve(session.reference)
    assert (state.status, state.amount, state.captured, state.refunded) == (
        "captured",
        2_500,
        2_500,
        500,
    )


RETRIEVE = """
import asyncio, sys
from caravan_manual_payment import ManualPayment
from core.plugins import Settings
from core.plugins.testing.fixtures import running

async def main(url, reference):
    async with running(Settings(database_url=url, pool_min=1, pool_max=1)):
        state = await ManualPayment(ManualPayment.Config()).retrieve(reference)
        print(state.status, state.captured, state.refunded)

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


async def test_state_survives_a_process_restart(client: Any, settings: Settings) -> None:
    """Another process (a restarted server) reads what this one recorded."""
    provider = make()
    session = await provider.create_session(request(amount=7_000))
    await provider.capture(session.reference, 7_000, "mark-paid")
    await provider.refund(session.reference, 1_000, "refund")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        RETRIEVE,
        settings.database_url,
        session.reference,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    assert out.decode().split() == ["captured", "7000", "1000"]


async def test_concurrent_captures_with_one_key_capture_once(client: Any) -> None:
    provider = make()
    session = await provider.create_session(request(amount=1_000))
    states = await asyncio.gather(
        *(provider.capture(session.reference, 400, "same-key") for _ in range(10))
    )
    assert {state.captured for state in states} == {400}
    assert (await provider.retrieve(session.reference)).captured == 400


async def test_concurrent_captures_never_exceed_the_amount(client: Any) -> None:
    provider = make()
    session = await provider.create_session(request(amount=1_000))
    await asyncio.gather(*(provider.capture(session.reference, 300, f"key-{i}") for i in range(10)))
    assert (await provider.retrieve(session.reference)).captured == 900  # three of 300 fit


async def test_concurrent_refunds_never_exceed_the_captured_amount(client: Any) -> None:
    provider = make()
    session = await provider.create_session(request(amount=1_000))
    await provider.capture(session.reference, 1_000, "paid")
    results = await asyncio.gather(
        *(provider.refund(session.reference, 300, f"refund-{i}") for i in range(6))
    )
    assert sorted(r.status for r in results) == ["failed"] * 3 + ["succeeded"] * 3
    assert len({r.reference for r in results}) == 6
    assert (await provider.retrieve(session.reference)).refunded == 900


async def test_a_refused_refund_says_why_and_stays_refused(client: Any) -> None:
    provider = make()
    session = await provider.create_session(request(amount=1_000))
    await provider.capture(session.reference, 600, "paid-part")
    refused = await provider.refund(session.reference, 700, "too-much")
    assert (refused.status, refused.failure_reason) == (
        "failed",
        "exceeds the captured amount not yet refunded",
    )
    # The same key answers the same refusal, even once the money would be there.
    await provider.capture(session.reference, 400, "paid-rest")
    again = await provider.refund(session.reference, 700, "too-much")
    assert (again.reference, again.status) == (refused.reference, "failed")
    done = await provider.refund(session.reference, 700, "enough-now")
    assert done.status == "succeeded"
    assert (await provider.retrieve(session.reference)).refunded == 700


async def test_cancel_applies_to_pending_payments_only(client: Any) -> None:
    provider = make()
    pending = await provider.create_session(request())
    assert (await provider.cancel(pending.reference)).status == "canceled"
    paid = await provider.create_session(request(amount=100))
    await provider.capture(paid.reference, 100, "paid")
    assert (await provider.cancel(paid.reference)).status == "captured"


async def test_the_same_session_key_in_another_store_is_another_payment(client: Any) -> None:
    provider = make()
    first = await provider.create_session(request(idempotency_key="shared"))
    other = await provider.create_session(request(store_id="store_other", idempotency_key="shared"))
    assert first.reference != other.reference


async def test_caller_bugs_raise(client: Any) -> None:
    provider = make()
    session = await provider.create_session(request())
    for amount in (0, -1):
        with pytest.raises(ValueError, match="positive integer"):
            await provider.capture(session.reference, amount, new_id("idem"))
        with pytest.raises(ValueError, match="positive integer"):
            await provider.refund(session.reference, amount, new_id("idem"))
    for call in (
        provider.retrieve("mpay_missing"),
        provider.capture("mpay_missing", 1, "k"),
        provider.refund("mpay_missing", 1, "k"),
        provider.cancel("mpay_missing"),
    ):
        with pytest.raises(UnknownPaymentError):
            await call
