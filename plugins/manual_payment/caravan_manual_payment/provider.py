"""The manual payment provider: bank transfer or cash on delivery.

Opening a session records a ``pending`` payment and tells the storefront to
do nothing but show the instructions. The money arrives outside Caravan; the
merchant's "mark paid" is a :meth:`ManualPayment.capture`, and a refund is
money the merchant pays back the same way. Every state lives in the
plugin's tables, keyed by reference, so any process and any instance of the
provider sees the same payment; captures and refunds are recorded once per
idempotency key.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from caravan_manual_payment.tables import ManualPaymentOperation as Operation
from caravan_manual_payment.tables import ManualPaymentRecord as PaymentRow
from core.plugins import (
    LocaleCode,
    NextAction,
    PaymentProvider,
    PaymentSession,
    PaymentSessionRequest,
    PaymentState,
    RefundResult,
    insert,
    is_unique_violation,
    negotiate,
    new_id,
    now,
    select,
    transaction,
)

Method = Literal["bank_transfer", "cash_on_delivery"]
Instructions = Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]

#: What the customer is told when the configuration has no text for any locale.
DEFAULT_INSTRUCTIONS: dict[str, str] = {
    "bank_transfer": "Pay by bank transfer; your order ships once the payment has arrived.",
    "cash_on_delivery": "Pay the courier when your order arrives.",
}
#: Why a capture or refund was refused.
REFUSALS = {
    "capture": "exceeds the amount left to capture",
    "refund": "exceeds the captured amount not yet refunded",
}


class UnknownPaymentError(LookupError):
    """No manual payment has this reference (a bug of the caller)."""


class ManualConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """How the region's customers pay by hand."""

    #: ``bank_transfer`` or ``cash_on_delivery``.
    kind: Method = "bank_transfer"
    #: What to tell the customer, by locale (``{"en": "IBAN DE89 …", "de": "…"}``).
    instructions: Annotated[dict[LocaleCode, Instructions], msgspec.Meta(max_length=50)] = {}


def _positive(amount: int) -> None:
    if type(amount) is not int or amount <= 0:
        raise ValueError(f"amount must be a positive integer of minor units, got {amount!r}")


def _state(row: dict[str, Any]) -> PaymentState:
    return PaymentState(
        status=row["status"],
        amount=row["amount"],
        captured=row["captured"],
        refunded=row["refunded"],
    )


async def _row(reference: str) -> dict[str, Any]:
    rows = await select(PaymentRow, "id = {}", reference)
    if not rows:
        raise UnknownPaymentError(reference)
    return rows[0]


async def _operation(reference: str, kind: str, key: str) -> dict[str, Any] | None:
    found: dict[str, Any] | None = (
        await Operation.select()
        .where(
            (Operation.payment == reference)
            & (Operation.kind == kind)
            & (Operation.idempotency_key == key)
        )
        .first()
    )
    return found


#: Conditional updates: each applies only while the payment can take it.
_CAPTURE = (
    "UPDATE manual_payments SET captured = captured + {}, status = 'captured', updated_at = {} "
    "WHERE id = {} AND status IN ('pending', 'captured') AND captured + {} <= amount "
    "RETURNING id"
)
_REFUND = (
    "UPDATE manual_payments SET refunded = refunded + {}, updated_at = {} "
    "WHERE id = {} AND status = 'captured' AND refunded + {} <= captured RETURNING id"
)


async def _apply_once(
    reference: str, kind: str, key: str, amount: int, update: str, reason: str = ""
) -> dict[str, Any]:
    """Record operation ``kind`` under ``key`` and apply ``update`` (once per key).

    The operation row is inserted first: a concurrent call with the same key
    waits on its unique key and then finds it, so the money moves once.
    """
    await _row(reference)
    try:
        async with transaction():
            operation_id = new_id("mpop")
            await Operation.insert(
                Operation(
                    id=operation_id,
                    payment=reference,
                    kind=kind,
                    idempotency_key=key,
                    amount=amount,
                    status="succeeded",
                    reason=reason,
                    created_at=now(),
                )
            )
            applied = await PaymentRow.raw(update, amount, now(), reference, amount)
            if not applied:
                await Operation.update(
                    {Operation.status: "failed", Operation.failure_reason: REFUSALS[kind]}
                ).where(Operation.id == operation_id)
    except Exception as exc:
        if not is_unique_violation(exc):
            raise
    found = await _operation(reference, kind, key)
    assert found is not None  # inserted above, or by the call that won the key
    return found


class ManualPayment(PaymentProvider):
    """Bank transfer or cash on delivery: the order waits for the merchant to mark it paid."""

    code = "manual"
    name = "Bank transfer / cash on delivery"
    manual = True
    Config = ManualConfig
    config: ManualConfig

    def instructions(self, locale: str | None) -> str:
        """The configured instructions best matching ``locale`` (else a default text)."""
        texts = self.config.instructions
        if not texts:
            return DEFAULT_INSTRUCTIONS[self.config.kind]
        chosen = negotiate((locale,) if locale else (), tuple(texts))
        return texts[chosen]

    async def create_session(self, request: PaymentSessionRequest) -> PaymentSession:
        """Record a pending payment; the same idempotency key finds the first one."""
        stamp = now()
        row = {
            "id": new_id("mpay"),
            "store_id": request.store_id,
            "cart_id": request.cart_id,
            "kind": self.config.kind,
            "status": "pending",
            "amount": request.amount,
            "currency": request.currency,
            "captured": 0,
            "refunded": 0,
            "idempotency_key": request.idempotency_key,
            "created_at": stamp,
            "updated_at": stamp,
        }
        inserted = await insert(
            PaymentRow,
            [row],
            "ON CONFLICT (store_id, idempotency_key) DO NOTHING RETURNING id, status, kind",
        )
        found = inserted[0] if inserted else None
        if found is None:  # opened before with this key
            found = (
                await PaymentRow.select()
                .where(
                    (PaymentRow.store_id == request.store_id)
                    & (PaymentRow.idempotency_key == request.idempotency_key)
                )
                .first()
            )
        assert found is not None
        action = NextAction(type="none", instructions=self.instructions(request.locale))
        return PaymentSession(
            reference=found["id"],
            status=found["status"],
            next_action=action,
            data={"kind": found["kind"]},
        )

    async def retrieve(self, reference: str) -> PaymentState:
        """The payment as recorded: pending until the merchant marks it paid."""
        return _state(await _row(reference))

    async def capture(self, reference: str, amount: int, idempotency_key: str) -> PaymentState:
        """Record ``amount`` as received ("mark paid"); more than is left is refused.

        A refusal leaves the payment as it was (the answer shows it).
        """
        _positive(amount)
        await _apply_once(reference, "capture", idempotency_key, amount, _CAPTURE)
        return await self.retrieve(reference)

    async def refund(
        self, reference: str, amount: int, idempotency_key: str, reason: str | None = None
    ) -> RefundResult:
        """Record ``amount`` as paid back by the merchant, up to what was captured."""
        _positive(amount)
        operation = await _apply_once(
            reference, "refund", idempotency_key, amount, _REFUND, (reason or "")[:500]
        )
        return RefundResult(
            reference=operation["id"],
            status=operation["status"],
            failure_reason=operation["failure_reason"] or None,
        )

    async def cancel(self, reference: str) -> PaymentState:
        """Cancel a pending payment; a captured, failed or canceled one stays as it is."""
        await _row(reference)
        async with transaction():
            await PaymentRow.update(
                {PaymentRow.status: "canceled", PaymentRow.updated_at: now()}
            ).where((PaymentRow.id == reference) & (PaymentRow.status == "pending"))
        return await self.retrieve(reference)
