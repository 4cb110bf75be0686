"""The affiliate provider contract.

An affiliate provider runs a KOL (influencer) programme: given a paid order
that a shopper placed with a referral code, it answers the commission the
programme owes to the KOL behind the code, or ``None`` when the code is not
one of its KOLs or the order earns nothing. Amounts are integer minor units
of the order's currency; a commission is never negative and never above the
order's subtotal. A ``None`` is a refusal, not an error; exceptions are bugs
or outages (the commission is then retried with the order's event).

Caravan asks when the order is paid, records the commission once per order
and provider, holds it as ``pending`` and reverses it in proportion when the
order is refunded or canceled. An event may be delivered more than once, so
the same request must always get the same answer.

Example::

    class TenPercent(AffiliateProvider):
        code = "ten_percent"
        name = "10 % of net sales"

        class Config(msgspec.Struct, forbid_unknown_fields=True):
            kols: dict[str, str] = {}

        async def commission(self, request: CommissionRequest) -> Commission | None:
            kol = self.config.kols.get(request.referral_code)
            if kol is None:
                return None
            net = max(0, request.subtotal - request.discount)
            return Commission(affiliate=kol, amount=net // 10)
"""

from __future__ import annotations

from abc import abstractmethod

import msgspec

from core.providers import Provider


class CommissionLine(msgspec.Struct, frozen=True, kw_only=True):
    """One order line as the programme sees it."""

    variant_id: str
    product_id: str
    sku: str
    quantity: int
    #: The line's total, minor units (tax included when the region adds it).
    total: int


class CommissionRequest(msgspec.Struct, frozen=True, kw_only=True):
    """A paid order placed with a referral code. Amounts are minor units of ``currency``."""

    store_id: str
    region_id: str
    order_id: str
    #: The order's human number (1001, 1002…).
    order_number: int
    currency: str
    #: The code the shopper came with (1-64 letters, digits, ``_`` or ``-``).
    referral_code: str
    #: The country the order ships to (ISO 3166-1 alpha-2), when it has an address.
    country: str | None = None
    #: Whether ``subtotal`` and line totals include tax (EU/UK/AU style).
    tax_inclusive: bool
    subtotal: int
    discount: int
    shipping: int
    tax: int
    total: int
    lines: tuple[CommissionLine, ...]


class Commission(msgspec.Struct, frozen=True, kw_only=True):
    """What the programme owes for an order: ``amount`` minor units to ``affiliate``."""

    #: The KOL's code or id at the programme.
    affiliate: str
    #: Minor units of the order's currency; from 0 to the order's subtotal.
    amount: int
    #: The programme's own id of the commission, if it keeps one.
    reference: str | None = None


class AffiliateProvider(Provider):
    """Works out KOL commissions on the orders of the regions it is activated for."""

    kind = "affiliate"

    @abstractmethod
    async def commission(self, request: CommissionRequest) -> Commission | None:
        """Return the commission ``request`` earns, or ``None`` when it earns none.

        The same request always gets the same answer; ``amount`` is an
        integer from 0 to ``request.subtotal``.
        """
