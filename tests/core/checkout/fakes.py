"""Providers for checkout tests: configurable, with faults on demand.

They go through the same registry and activation API as real plugins; only
their behaviour is scripted (a payment service that captures, declines, asks
for action or hangs; a tax service that raises, hangs or answers nonsense).
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Literal

import msgspec

from core.payments.providers import (
    NextAction,
    PaymentProvider,
    PaymentSession,
    PaymentSessionRequest,
    PaymentState,
    RefundResult,
)
from core.providers.registry import provider_registry
from core.shipping.providers import ShippingOption, ShippingProvider, ShippingRequest
from core.tax.providers import TaxLineResult, TaxProvider, TaxRequest, TaxResult, tax_of

#: reference → state, as the fake payment service knows it.
LEDGER: dict[str, PaymentState] = {}
#: Every call that opened a payment: (idempotency key, amount).
OPENED: list[tuple[str, int]] = []
#: Every capture that moved money: (reference, amount).
CAPTURED: list[tuple[str, int]] = []


class FakePay(PaymentProvider):
    """A card-like provider: the session is authorized (or not) as the config says."""

    code = "fakepay"
    name = "Fake card payments"
    timeout = 0.5

    class Config(msgspec.Struct, forbid_unknown_fields=True):
        mode: Literal["authorize", "decline", "action", "hang", "error"] = "authorize"

    async def create_session(self, request: PaymentSessionRequest) -> PaymentSession:
        if self.config.mode == "hang":
            await asyncio.sleep(5)
        if self.config.mode == "error":
            raise ConnectionError("fake provider down")
        reference = f"fp_{request.idempotency_key}"
        if reference not in LEDGER:
            OPENED.append((request.idempotency_key, request.amount))
            status = {"authorize": "authorized", "decline": "failed", "action": "requires_action"}
            LEDGER[reference] = PaymentState(
                status=status[self.config.mode],  # type: ignore[arg-type]
                amount=request.amount,
                failure_reason="card_declined" if self.config.mode == "decline" else None,
            )
        action = (
            NextAction(type="client_secret", client_secret=f"{reference}_secret")
            if self.config.mode == "action"
            else NextAction()
        )
        return PaymentSession(
            reference=reference, status=LEDGER[reference].status, next_action=action
        )

    async def retrieve(self, reference: str) -> PaymentState:
        return LEDGER[reference]

    async def capture(self, reference: str, amount: int, idempotency_key: str) -> PaymentState:
        state = LEDGER[reference]
        if state.status == "authorized":
            CAPTURED.append((reference, amount))
            state = msgspec.structs.replace(state, status="captured", captured=amount)
            LEDGER[reference] = state
        return state

    async def refund(
        self, reference: str, amount: int, idempotency_key: str, reason: str | None = None
    ) -> RefundResult:
        state = LEDGER[reference]
        if amount > state.captured - state.refunded:
            return RefundResult(reference="", status="failed", failure_reason="too much")
        LEDGER[reference] = msgspec.structs.replace(state, refunded=state.refunded + amount)
        return RefundResult(reference=f"re_{idempotency_key}", status="succeeded")

    async def cancel(self, reference: str) -> PaymentState:
        state = LEDGER[reference]
        if state.status in ("pending", "authorized", "requires_action"):
            state = msgspec.structs.replace(state, status="canceled")
            LEDGER[reference] = state
        return state


class FlatTax(TaxProvider):
    """One rate for everything; faults on demand."""

    code = "flat_tax"
    name = "Flat tax"
    timeout = 0.5

    class Config(msgspec.Struct, forbid_unknown_fields=True):
        rate: str = "0.2"
        mode: Literal["ok", "raise", "hang", "negative", "missing"] = "ok"

    async def calculate(self, request: TaxRequest) -> TaxResult:
        mode = self.config.mode
        if mode == "raise":
            raise RuntimeError("tax service exploded")
        if mode == "hang":
            await asyncio.sleep(5)
        rate = Decimal(self.config.rate)
        lines = [
            TaxLineResult(
                line.id,
                -1 if mode == "negative" else tax_of(line.amount, rate, request.tax_inclusive),
                self.config.rate,
            )
            for line in request.lines
        ]
        if mode == "missing":
            lines = lines[1:]
        return TaxResult(
            lines=tuple(lines), shipping=tax_of(request.shipping, rate, request.tax_inclusive)
        )


class FlatShipping(ShippingProvider):
    """Standard and express at fixed prices; free standard above a threshold."""

    code = "flat_ship"
    name = "Flat shipping"

    class Config(msgspec.Struct, forbid_unknown_fields=True):
        standard: int = 490
        express: int = 1290
        free_above: int | None = None

    async def quote(self, request: ShippingRequest) -> list[ShippingOption]:
        if request.ship_to is None:
            return []
        free = self.config.free_above is not None and request.subtotal >= self.config.free_above
        return [
            ShippingOption(
                id="standard", name="Standard", amount=0 if free else self.config.standard
            ),
            ShippingOption(id="express", name="Express", amount=self.config.express),
        ]


def install() -> None:
    """Register the fakes (idempotent)."""
    registry = provider_registry()
    for cls in (FakePay, FlatTax, FlatShipping):
        registry.add(cls, "tests")
