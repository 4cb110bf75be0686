"""The tax provider contract.

A tax provider computes the tax of a cart for one region. It is given the
lines after discounts and the shipping amount, in integer minor units of the
region's currency, and whether the region's prices include tax. It answers
the tax of every line and of shipping, also in minor units. A refusal is a
result; exceptions are bugs or outages (the checkout answers 503).

Example::

    class FlatTax(TaxProvider):
        code = "flat"
        name = "Flat rate"

        class Config(msgspec.Struct, forbid_unknown_fields=True):
            rate: str = "0.1"

        async def calculate(self, request: TaxRequest) -> TaxResult:
            rate = Decimal(self.config.rate)
            return TaxResult(
                lines=[TaxLineResult(line.id, tax_of(line.amount, rate, request.tax_inclusive),
                                     self.config.rate) for line in request.lines],
                shipping=tax_of(request.shipping, rate, request.tax_inclusive),
            )
"""

from __future__ import annotations

from abc import abstractmethod
from decimal import ROUND_HALF_EVEN, Decimal

import msgspec

from core.kernel.addresses import Address
from core.providers import Provider


class TaxLine(msgspec.Struct, frozen=True, kw_only=True):
    """One cart line as the tax provider sees it."""

    id: str
    variant_id: str
    product_id: str
    quantity: int
    #: The line's amount after discounts, minor units (tax included when ``tax_inclusive``).
    amount: int
    tax_category: str = "standard"
    hs_code: str | None = None
    origin_country: str | None = None


class TaxRequest(msgspec.Struct, frozen=True, kw_only=True):
    """What a tax provider computes over."""

    store_id: str
    region_id: str
    currency: str
    #: Whether amounts already include tax (EU/UK/AU style) or tax is added (US style).
    tax_inclusive: bool
    lines: tuple[TaxLine, ...]
    #: The shipping amount, minor units.
    shipping: int
    ship_to: Address | None = None
    #: The store's home country (the origin of the goods for duty and nexus purposes).
    ship_from: str | None = None


class TaxLineResult(msgspec.Struct, frozen=True):
    """The tax of one line: ``amount`` in minor units and the rate as a decimal string."""

    line_id: str
    amount: int
    rate: str
    name: str = "Tax"


class TaxResult(msgspec.Struct, frozen=True, kw_only=True):
    """The tax of a whole cart."""

    lines: tuple[TaxLineResult, ...]
    #: Tax on shipping, minor units.
    shipping: int = 0

    @property
    def total(self) -> int:
        """Line taxes plus shipping tax."""
        return sum(line.amount for line in self.lines) + self.shipping


class TaxProvider(Provider):
    """Computes the tax of carts in the regions it is activated for."""

    kind = "tax"

    @abstractmethod
    async def calculate(self, request: TaxRequest) -> TaxResult:
        """Return the tax of every line of ``request`` and of its shipping.

        Every line of the request must have exactly one result; amounts are
        non-negative and, for tax-inclusive regions, no larger than the line.
        """


def tax_of(amount: int, rate: Decimal, inclusive: bool) -> int:
    """The tax in ``amount`` minor units at ``rate``, rounded half-even to a minor unit.

    Exclusive: ``amount * rate``. Inclusive: the part of ``amount`` that is
    tax, ``amount - amount / (1 + rate)``.
    """
    if amount == 0 or rate == 0:
        return 0
    value = Decimal(amount)
    tax = value - value / (1 + rate) if inclusive else value * rate
    return int(tax.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
