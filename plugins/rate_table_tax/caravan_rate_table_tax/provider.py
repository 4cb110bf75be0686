"""The rate-table tax provider: the store's own rates by country and tax category."""

from __future__ import annotations

from decimal import Decimal

import msgspec

from caravan_rate_table_tax.service import CountryRates, country_rates
from core.plugins import Address, TaxLineResult, TaxProvider, TaxRequest, TaxResult, tax_of

STANDARD = "standard"
NO_TAX = (Decimal(0), "Tax")


class RateTableConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """How the rate table applies."""

    #: Tax shipping at the destination's standard rate.
    tax_shipping: bool = True


def pick(rates: CountryRates, address: Address, category: str) -> tuple[Decimal, str]:
    """The rate for ``category`` at ``address``: the subdivision's, else the country's;
    a category without a rate falls back to ``standard``; no rate at all is no tax."""
    subdivision = (address.subdivision or "").upper()
    for key in (
        (subdivision, category),
        ("", category),
        (subdivision, STANDARD),
        ("", STANDARD),
    ):
        if key in rates:
            return rates[key]
    return NO_TAX


class RateTableTax(TaxProvider):
    """Applies the rates the store's staff set under ``/admin/tax-rates``.

    Each line is taxed at the ship-to country's rate for its tax category
    (rounded half-even per line); shipping at the standard rate when
    configured. A cart without a shipping address is not taxed yet.
    """

    code = "rate_table"
    name = "Rate table"
    Config = RateTableConfig
    config: RateTableConfig

    async def calculate(self, request: TaxRequest) -> TaxResult:
        """The tax of every line and of shipping at the ship-to address's rates."""
        address = request.ship_to
        rates: CountryRates = {}
        if address is not None and (request.lines or request.shipping):
            rates = await country_rates(request.store_id, address.country)
        inclusive = request.tax_inclusive

        def rate_of(category: str) -> tuple[Decimal, str]:
            return pick(rates, address, category) if address is not None else NO_TAX

        lines = []
        for line in request.lines:
            rate, name = rate_of(line.tax_category)
            amount = tax_of(line.amount, rate, inclusive)
            lines.append(TaxLineResult(line.id, amount, format(rate, "f"), name))
        shipping = 0
        if self.config.tax_shipping:
            shipping = tax_of(request.shipping, rate_of(STANDARD)[0], inclusive)
        return TaxResult(lines=tuple(lines), shipping=shipping)
