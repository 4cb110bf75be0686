"""An affiliate provider for the tests: a share of the subtotal, faults on demand.

It goes through the same registry and activation API as a real plugin's;
only its behaviour is scripted (raising, hanging, answering impossibly).
"""

from __future__ import annotations

import asyncio
from typing import Literal

import msgspec

from core.affiliates.providers import AffiliateProvider, Commission, CommissionRequest
from core.providers.registry import provider_registry

#: Every request the programme was asked about: (region id, order number).
CALLS: list[tuple[str, int]] = []


class Programme(AffiliateProvider):
    """Pays ``basis_points`` of the subtotal to the KOL whose code the order carries."""

    code = "kol_programme"
    name = "Test KOL programme"
    timeout = 0.3

    class Config(msgspec.Struct, forbid_unknown_fields=True):
        basis_points: int = 1_000
        #: Referral code → the KOL's id at the programme.
        affiliates: dict[str, str] = {}
        mode: Literal["ok", "raise", "hang", "negative", "above", "float"] = "ok"

    async def commission(self, request: CommissionRequest) -> Commission | None:
        CALLS.append((request.region_id, request.order_number))
        mode = self.config.mode
        if mode == "raise":
            raise ConnectionError("programme API unreachable")
        if mode == "hang":
            await asyncio.sleep(5)
        affiliate = self.config.affiliates.get(request.referral_code)
        if affiliate is None:
            return None
        amount = request.subtotal * self.config.basis_points // 10_000
        if mode == "negative":
            amount = -amount
        elif mode == "above":
            amount = request.subtotal + 1
        answer = Commission(affiliate=affiliate, amount=amount, reference=f"ref-{request.order_id}")
        if mode == "float":
            return msgspec.structs.replace(answer, amount=amount / 1)  # type: ignore[arg-type]
        return answer


class SecondProgramme(Programme):
    """Another programme with the same rules, active next to the first."""

    code = "kol_second"
    name = "Second test KOL programme"


def install() -> None:
    """Register the fakes (idempotent)."""
    registry = provider_registry()
    for cls in (Programme, SecondProgramme):
        registry.add(cls, "tests")
