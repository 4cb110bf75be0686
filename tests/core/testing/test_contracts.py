"""The contract suites hold providers to their semantics: a correct provider passes
every check, and each broken one below fails the check that names its fault."""

from __future__ import annotations

import inspect
import itertools
from decimal import Decimal
from typing import Any, Literal

import msgspec
import pytest

from core.affiliates.providers import (
    AffiliateProvider,
    Commission,
    CommissionLine,
    CommissionRequest,
)
from core.kernel.addresses import Address
from core.payments.providers import (
    PaymentProvider,
    PaymentSession,
    PaymentSessionRequest,
    PaymentState,
    RefundResult,
)
from core.plugins.testing.contracts import (
    AffiliateProviderContract,
    PaymentProviderContract,
    ShippingProviderContract,
    TaxProviderContract,
)
from core.shipping.providers import ShippingLine, ShippingOption, ShippingProvider, ShippingRequest
from core.tax.providers import (
    TaxLine,
    TaxLineResult,
    TaxProvider,
    TaxRequest,
    TaxResult,
    tax_of,
)


async def run(contract: object, name: str, **fixtures: Any) -> None:
    """Call one check of ``contract`` with the fixtures it asks for."""
    method = getattr(contract, name)
    wanted = inspect.signature(method).parameters
    result = method(**{key: fixtures[key] for key in wanted})
    if inspect.isawaitable(result):
        await result


def checks(suite: type) -> list[str]:
    """The checks of ``suite`` a provider outside the plugin registry can run."""
    return [n for n in dir(suite) if n.startswith("test_") and "registered" not in n]


# ---------------------------------------------------------------------------
# Tax
# ---------------------------------------------------------------------------


class FlatTax(TaxProvider):
    code = "flat_test"
    name = "Flat"

    class Config(msgspec.Struct, forbid_unknown_fields=True):
        rate: str = "0.2"

    async def calculate(self, request: TaxRequest) -> TaxResult:
        rate = Decimal(self.config.rate)
        inclusive = request.tax_inclusive
        return TaxResult(
            lines=tuple(
                TaxLineResult(line.id, tax_of(line.amount, rate, inclusive), self.config.rate)
                for line in request.lines
            ),
            shipping=tax_of(request.shipping, rate, inclusive),
        )


class DropsALine(FlatTax):
    async def calculate(self, request: TaxRequest) -> TaxResult:
        result = await super().calculate(request)
        return TaxResult(lines=result.lines[1:], shipping=result.shipping)


class TaxesZero(FlatTax):
    async def calculate(self, request: TaxRequest) -> TaxResult:
        result = await super().calculate(request)
        lines = tuple(msgspec.structs.replace(r, amount=r.amount + 1) for r in result.lines)
        return TaxResult(lines=lines, shipping=result.shipping)


class InvertsInclusion(FlatTax):
    async def calculate(self, request: TaxRequest) -> TaxResult:
        flipped = msgspec.structs.replace(request, tax_inclusive=not request.tax_inclusive)
        return await super().calculate(flipped)


class Drifts(FlatTax):
    calls = itertools.count()

    async def calculate(self, request: TaxRequest) -> TaxResult:
        result = await super().calculate(request)
        return TaxResult(lines=result.lines, shipping=result.shipping + next(self.calls) % 2)


class FloatRate(FlatTax):
    async def calculate(self, request: TaxRequest) -> TaxResult:
        result = await super().calculate(request)
        lines = tuple(msgspec.structs.replace(r, rate="twenty %") for r in result.lines)
        return TaxResult(lines=lines, shipping=result.shipping)


def tax_requests() -> list[TaxRequest]:
    lines = tuple(
        TaxLine(id=f"l{i}", variant_id="v", product_id="p", quantity=1, amount=amount)
        for i, amount in enumerate((1_000, 2_499, 5))
    )
    return [
        TaxRequest(
            store_id="s",
            region_id="r",
            currency="EUR",
            tax_inclusive=True,
            lines=lines,
            shipping=500,
        )
    ]


async def test_a_correct_tax_provider_passes_every_check() -> None:
    suite = TaxProviderContract()
    for name in checks(TaxProviderContract):
        await run(suite, name, provider=FlatTax(FlatTax.Config()), tax_requests=tax_requests())


@pytest.mark.parametrize(
    ("broken", "check"),
    [
        (DropsALine, "test_one_result_per_line"),
        (TaxesZero, "test_zero_amounts_give_zero_tax"),
        (InvertsInclusion, "test_inclusive_tax_is_part_of_the_amount"),
        (Drifts, "test_is_deterministic"),
        (FloatRate, "test_amounts_are_non_negative_integers_and_rates_decimals"),
    ],
)
async def test_a_broken_tax_provider_fails_its_check(broken: type[FlatTax], check: str) -> None:
    provider = broken(broken.Config())
    with pytest.raises((AssertionError, pytest.fail.Exception)):
        await run(TaxProviderContract(), check, provider=provider, tax_requests=tax_requests())


def test_a_config_that_ignores_unknown_fields_fails() -> None:
    class Lenient(FlatTax):
        class Config(msgspec.Struct):
            rate: str = "0.2"

    with pytest.raises(AssertionError, match="forbid_unknown_fields"):
        TaxProviderContract().test_config_is_a_strict_struct(Lenient(Lenient.Config()))


# ---------------------------------------------------------------------------
# Shipping
# ---------------------------------------------------------------------------


class Flat(ShippingProvider):
    code = "flat_test"
    name = "Flat"

    class Config(msgspec.Struct, forbid_unknown_fields=True):
        amount: int = 500

    async def quote(self, request: ShippingRequest) -> list[ShippingOption]:
        if request.ship_to is None or request.ship_to.country != "DE":
            return []
        return [
            ShippingOption(
                id="std", name="Standard", amount=self.config.amount, min_days=2, max_days=4
            ),
            ShippingOption(id="exp", name="Express", amount=2 * self.config.amount),
        ]


class SameIds(Flat):
    async def quote(self, request: ShippingRequest) -> list[ShippingOption]:
        return [msgspec.structs.replace(o, id="x") for o in await super().quote(request)]


class Negative(Flat):
    async def quote(self, request: ShippingRequest) -> list[ShippingOption]:
        return [msgspec.structs.replace(o, amount=-1) for o in await super().quote(request)]


class ServesEverywhere(Flat):
    async def quote(self, request: ShippingRequest) -> list[ShippingOption]:
        return [ShippingOption(id="any", name="Anywhere", amount=1)]


class BackwardsEstimate(Flat):
    async def quote(self, request: ShippingRequest) -> list[ShippingOption]:
        return [
            msgspec.structs.replace(o, min_days=5, max_days=1) for o in await super().quote(request)
        ]


def shipping_request(country: str) -> ShippingRequest:
    line = ShippingLine(id="l", variant_id="v", quantity=1, amount=1_000, weight_grams=300)
    address = Address(first_name="A", last_name="B", line1="C", city="D", country=country)
    return ShippingRequest(
        store_id="s",
        region_id="r",
        currency="EUR",
        lines=(line,),
        subtotal=1_000,
        ship_to=address,
    )


def shipping_fixtures(provider: ShippingProvider) -> dict[str, Any]:
    return {
        "provider": provider,
        "shipping_requests": [shipping_request("DE")],
        "unserved_requests": [shipping_request("JP")],
    }


async def test_a_correct_shipping_provider_passes_every_check() -> None:
    suite = ShippingProviderContract()
    for name in checks(ShippingProviderContract):
        await run(suite, name, **shipping_fixtures(Flat(Flat.Config())))


@pytest.mark.parametrize(
    ("broken", "check"),
    [
        (SameIds, "test_served_requests_get_options_with_unique_ids"),
        (Negative, "test_amounts_and_estimates_are_well_formed"),
        (BackwardsEstimate, "test_amounts_and_estimates_are_well_formed"),
        (ServesEverywhere, "test_unserved_requests_get_no_options"),
    ],
)
async def test_a_broken_shipping_provider_fails_its_check(broken: type[Flat], check: str) -> None:
    with pytest.raises(AssertionError):
        await run(ShippingProviderContract(), check, **shipping_fixtures(broken(broken.Config())))


# ---------------------------------------------------------------------------
# Payment
# ---------------------------------------------------------------------------


class Memory(PaymentProvider):
    """A correct in-memory payment provider."""

    code = "memory_test"
    name = "Memory"

    class Config(msgspec.Struct, forbid_unknown_fields=True):
        pass

    def __init__(self, config: Any) -> None:
        super().__init__(config)
        self.payments: dict[str, dict[str, Any]] = {}
        self.keys: dict[tuple[str, str], str] = {}
        self.refunds: dict[str, RefundResult] = {}

    async def create_session(self, request: PaymentSessionRequest) -> PaymentSession:
        reference = self.keys.setdefault(("open", request.idempotency_key), f"p{len(self.keys)}")
        self.payments.setdefault(
            reference, {"status": "pending", "amount": request.amount, "captured": 0, "refunded": 0}
        )
        return PaymentSession(reference=reference, status=self.payments[reference]["status"])

    async def retrieve(self, reference: str) -> PaymentState:
        return PaymentState(**self.payments[reference])

    async def capture(self, reference: str, amount: int, idempotency_key: str) -> PaymentState:
        payment = self.payments[reference]
        if ("capture", idempotency_key) not in self.keys:
            self.keys[("capture", idempotency_key)] = reference
            left = payment["amount"] - payment["captured"]
            if payment["status"] in ("pending", "captured") and amount <= left:
                payment.update(status="captured", captured=payment["captured"] + amount)
        return await self.retrieve(reference)

    async def refund(
        self, reference: str, amount: int, idempotency_key: str, reason: str | None = None
    ) -> RefundResult:
        if idempotency_key not in self.refunds:
            payment = self.payments[reference]
            ok = amount <= payment["captured"] - payment["refunded"]
            if ok:
                payment["refunded"] += amount
            status: Literal["succeeded", "failed"] = "succeeded" if ok else "failed"
            self.refunds[idempotency_key] = RefundResult(
                reference=f"r{len(self.refunds)}", status=status
            )
        return self.refunds[idempotency_key]

    async def cancel(self, reference: str) -> PaymentState:
        payment = self.payments[reference]
        if payment["status"] == "pending":
            payment["status"] = "canceled"
        return await self.retrieve(reference)


class CapturesTwice(Memory):
    async def capture(self, reference: str, amount: int, idempotency_key: str) -> PaymentState:
        self.keys.pop(("capture", idempotency_key), None)
        payment = self.payments[reference]
        payment.update(
            status="captured", captured=min(payment["captured"] + amount, payment["amount"] * 2)
        )
        return PaymentState(**{**payment, "captured": min(payment["captured"], payment["amount"])})


class RefundsAnything(Memory):
    async def refund(
        self, reference: str, amount: int, idempotency_key: str, reason: str | None = None
    ) -> RefundResult:
        return RefundResult(reference="r", status="succeeded")


class CancelsCaptured(Memory):
    async def cancel(self, reference: str) -> PaymentState:
        self.payments[reference]["status"] = "canceled"
        return await self.retrieve(reference)


class OpensTwice(Memory):
    async def create_session(self, request: PaymentSessionRequest) -> PaymentSession:
        key = msgspec.structs.replace(
            request, idempotency_key=f"{request.idempotency_key}{len(self.keys)}"
        )
        return await super().create_session(key)


async def test_a_correct_payment_provider_passes_every_check() -> None:
    suite = PaymentProviderContract()
    for name in checks(PaymentProviderContract):
        await run(suite, name, provider=Memory(Memory.Config()))


@pytest.mark.parametrize(
    ("broken", "check"),
    [
        (OpensTwice, "test_the_same_idempotency_key_opens_one_payment"),
        (CapturesTwice, "test_capture_takes_the_amount_once_per_key"),
        (RefundsAnything, "test_refund_beyond_the_captured_amount_is_refused"),
        (RefundsAnything, "test_refund_gives_back_once_per_key"),
        (CancelsCaptured, "test_a_captured_payment_is_not_canceled"),
    ],
)
async def test_a_broken_payment_provider_fails_its_check(broken: type[Memory], check: str) -> None:
    with pytest.raises(AssertionError):
        await run(PaymentProviderContract(), check, provider=broken(broken.Config()))


# ---------------------------------------------------------------------------
# Affiliate
# ---------------------------------------------------------------------------


class TenPercent(AffiliateProvider):
    """A correct programme: 10 % of net sales to the KOLs it knows."""

    code = "ten_percent_test"
    name = "Ten percent"

    class Config(msgspec.Struct, forbid_unknown_fields=True):
        kols: dict[str, str] = {}

    async def commission(self, request: CommissionRequest) -> Commission | None:
        kol = self.config.kols.get(request.referral_code)
        if kol is None:
            return None
        return Commission(affiliate=kol, amount=max(0, request.subtotal - request.discount) // 10)


class PaysNegative(TenPercent):
    async def commission(self, request: CommissionRequest) -> Commission | None:
        answer = await super().commission(request)
        return answer and msgspec.structs.replace(answer, amount=-1)


class PaysAboveTheSubtotal(TenPercent):
    async def commission(self, request: CommissionRequest) -> Commission | None:
        answer = await super().commission(request)
        return answer and msgspec.structs.replace(answer, amount=request.subtotal + 1)


class PaysFloats(TenPercent):
    async def commission(self, request: CommissionRequest) -> Commission | None:
        answer = await super().commission(request)
        return answer and msgspec.structs.replace(answer, amount=answer.amount / 1)  # type: ignore[arg-type]


class PaysEveryone(TenPercent):
    async def commission(self, request: CommissionRequest) -> Commission | None:
        return Commission(affiliate=request.referral_code, amount=0)


class FlatFee(TenPercent):
    """Five euros a sale, whatever the order is worth."""

    async def commission(self, request: CommissionRequest) -> Commission | None:
        answer = await super().commission(request)
        return answer and msgspec.structs.replace(answer, amount=500)


class ConvertsToCents(TenPercent):
    """Takes every amount for one with two decimals: a yen order earns a hundred times."""

    async def commission(self, request: CommissionRequest) -> Commission | None:
        answer = await super().commission(request)
        if answer is None or request.currency != "JPY":
            return answer
        return msgspec.structs.replace(answer, amount=answer.amount * 100)


class Drifting(TenPercent):
    calls = itertools.count()

    async def commission(self, request: CommissionRequest) -> Commission | None:
        answer = await super().commission(request)
        return answer and msgspec.structs.replace(answer, amount=answer.amount + next(self.calls))


class Anonymous(TenPercent):
    async def commission(self, request: CommissionRequest) -> Commission | None:
        answer = await super().commission(request)
        return answer and msgspec.structs.replace(answer, affiliate=" ")


def commission_request(code: str) -> CommissionRequest:
    line = CommissionLine(variant_id="v", product_id="p", sku="S", quantity=2, total=5_000)
    return CommissionRequest(
        store_id="s",
        region_id="r",
        order_id="o",
        order_number=1001,
        currency="EUR",
        referral_code=code,
        country="DE",
        tax_inclusive=True,
        subtotal=5_000,
        discount=500,
        shipping=490,
        tax=870,
        total=4_990,
        lines=(line,),
    )


def affiliate_fixtures(provider: AffiliateProvider) -> dict[str, Any]:
    return {
        "provider": provider,
        "commission_requests": [commission_request("ANNA10")],
        "no_commission_requests": [commission_request("NOBODY")],
    }


async def test_a_correct_affiliate_provider_passes_every_check() -> None:
    suite = AffiliateProviderContract()
    provider = TenPercent(TenPercent.Config(kols={"ANNA10": "kol-anna"}))
    for name in checks(AffiliateProviderContract):
        await run(suite, name, **affiliate_fixtures(provider))
    assert (await provider.commission(commission_request("ANNA10"))) == Commission(
        affiliate="kol-anna", amount=450
    )


@pytest.mark.parametrize(
    ("broken", "check"),
    [
        (PaysNegative, "test_examples_earn_a_commission_for_an_affiliate"),
        (PaysAboveTheSubtotal, "test_examples_earn_a_commission_for_an_affiliate"),
        (PaysFloats, "test_examples_earn_a_commission_for_an_affiliate"),
        (Anonymous, "test_examples_earn_a_commission_for_an_affiliate"),
        (PaysEveryone, "test_requests_that_earn_nothing_get_none"),
        (FlatFee, "test_an_order_worth_nothing_earns_nothing"),
        (ConvertsToCents, "test_amounts_are_minor_units_of_the_request_currency"),
        (Drifting, "test_is_deterministic"),
    ],
)
async def test_a_broken_affiliate_provider_fails_its_check(
    broken: type[TenPercent], check: str
) -> None:
    provider = broken(broken.Config(kols={"ANNA10": "kol-anna"}))
    with pytest.raises(AssertionError):
        await run(AffiliateProviderContract(), check, **affiliate_fixtures(provider))
