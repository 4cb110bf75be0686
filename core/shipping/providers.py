"""The shipping provider contract.

A shipping provider quotes the ways a cart can be shipped in one region:
each option has a provider-local ``id``, a name and a price in minor units of
the region's currency. An empty list means the provider does not serve the
address (a refusal, not an error); exceptions are bugs or outages.

Example::

    class FlatShipping(ShippingProvider):
        code = "flat"
        name = "Flat rate"

        class Config(msgspec.Struct, forbid_unknown_fields=True):
            amount: int = 500

        async def quote(self, request: ShippingRequest) -> list[ShippingOption]:
            return [ShippingOption(id="standard", name="Standard", amount=self.config.amount)]
"""

from __future__ import annotations

from abc import abstractmethod

import msgspec

from core.kernel.addresses import Address
from core.providers import Provider


class ShippingLine(msgspec.Struct, frozen=True, kw_only=True):
    """One cart line as the shipping provider sees it."""

    id: str
    variant_id: str
    quantity: int
    #: The line's amount, minor units.
    amount: int
    #: Weight of one unit, grams (0 when unknown).
    weight_grams: int = 0


class ShippingRequest(msgspec.Struct, frozen=True, kw_only=True):
    """What a shipping provider quotes for."""

    store_id: str
    region_id: str
    currency: str
    lines: tuple[ShippingLine, ...]
    #: The cart's subtotal after discounts, minor units.
    subtotal: int
    ship_to: Address | None = None
    #: The country the goods leave from (the serving warehouse, else the store's home).
    ship_from: str | None = None

    @property
    def weight_grams(self) -> int:
        """The cart's total weight in grams."""
        return sum(line.weight_grams * line.quantity for line in self.lines)


class ShippingOption(msgspec.Struct, frozen=True, kw_only=True):
    """One way to ship: a price in minor units, optionally a delivery estimate in days."""

    id: str
    name: str
    amount: int
    min_days: int | None = None
    max_days: int | None = None


class ShippingProvider(Provider):
    """Quotes shipping options in the regions it is activated for."""

    kind = "shipping"

    @abstractmethod
    async def quote(self, request: ShippingRequest) -> list[ShippingOption]:
        """Return the options for ``request`` (empty: the address is not served).

        Option ids are unique within one answer; amounts are non-negative.
        """
