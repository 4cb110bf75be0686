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


class RefundingPay(checkout_fakes.FakePay):
    """Captures at checkout (as :class:`FakePay`); refunds as ``refunds`` says."""

    code = "orderpay"
    name = "Fake card payments with scripted refunds"

    class Config(msgspec.Struct, forbid_unknown_fields=True):
        mode: Literal["authorize"] = "authorize"
        refunds: Literal["succeed", "refuse", "pending", "down"] = "succeed"

    async def refund(
        self, reference: str, amount: int, idempotency_key: str, reason: str | None = None
    ) -> RefundResult:
        """Refund as configured (``down`` raises: the provider is unreachable)."""
        mode = self.config.refunds
        if mode == "down":
            raise ConnectionError("refund service unreachable")
        if mode == "refuse":
            return RefundResult(reference="", status="failed", failure_reason="insufficient_funds")
        result = await super().refund(reference, amount, idempotency_key, reason)
        if result.status != "failed":
            REFUNDED.append((reference, amount))
        if mode == "pending" and result.status == "succeeded":
            return RefundResult(reference=result.reference, status="pending")
        return result


def install() -> None:
    """Register the fake (idempotent)."""
    provider_registry().add(RefundingPay, "tests")
