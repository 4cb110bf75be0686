"""A card-like payment provider whose refunds go through, are refused, stay pending or
fail (an outage), as its region's configuration says."""

from __future__ import annotations

from typing import Literal

import msgspec

from core.payments.providers import RefundResult
from core.providers.registry import provider_registry
from tests.core.checkout import fakes as checkout_fakes

#: Every refund the provider gave: (reference, amount).
REFUNDED: list[tuple[str, int]] = []
#: The answer given for each idempotency key (a key asked again gets it again).
ANSWERS: dict[str, RefundResult] = {}


class RefundingPay(checkout_fakes.FakePay):
    """Captures at checkout (as :class:`FakePay`); refunds as ``refunds`` says."""

    code = "orderpay"
    name = "Fake card payments with scripted refunds"

    class Config(msgspec.Struct, forbid_unknown_fields=True):
        mode: Literal["authorize"] = "authorize"
        refunds: Literal["succeed", "refuse", "pending", "down", "lost"] = "succeed"

    async def refund(
        self, reference: str, amount: int, idempotency_key: str, reason: str | None = None
    ) -> RefundResult:
        """Refund as configured: ``down`` raises (the provider is unreachable), ``lost``
        refunds and then raises (the answer never arrived). A key asked again gets
        its first answer, as real providers' idempotency keys do."""
        mode = self.config.refunds
        if mode == "down":
            raise ConnectionError("refund service unreachable")
        if idempotency_key in ANSWERS:
            return ANSWERS[idempotency_key]
        if mode == "refuse":
            return RefundResult(reference="", status="failed", failure_reason="insufficient_funds")
        result = await super().refund(reference, amount, idempotency_key, reason)
        if result.status != "failed":
            REFUNDED.append((reference, amount))
        if mode == "pending" and result.status == "succeeded":
            result = RefundResult(reference=result.reference, status="pending")
        ANSWERS[idempotency_key] = result
        if mode == "lost":
            raise TimeoutError("the refund answer was lost")
        return result


def install() -> None:
    """Register the fake (idempotent)."""
    provider_registry().add(RefundingPay, "tests")
