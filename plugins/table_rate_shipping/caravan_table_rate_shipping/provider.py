"""The table-rate shipping provider: the store's zones and rate bands."""

from __future__ import annotations

from typing import Any

import msgspec

from caravan_table_rate_shipping.service import rates_for
from core.plugins import ShippingOption, ShippingProvider, ShippingRequest


class TableRateConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Nothing to configure: the zones and rates are set under ``/admin/shipping-zones``."""


def _in_band(rate: dict[str, Any], request: ShippingRequest) -> bool:
    value = request.weight_grams if rate["basis"] == "weight" else request.subtotal
    upper = rate["band_max"]
    return bool(rate["band_min"] <= value and (upper is None or value < upper))


def _option(rate: dict[str, Any], subtotal: int) -> ShippingOption:
    free_above = rate["free_above"]
    free = free_above is not None and subtotal >= free_above
    return ShippingOption(
        id=rate["id"],
        name=rate["name"],
        amount=0 if free else rate["amount"],
        min_days=rate["min_days"],
        max_days=rate["max_days"],
    )


class TableRateShipping(ShippingProvider):
    """Quotes the rates of the zone holding the ship-to country.

    A rate is offered when the cart's total weight (grams) or subtotal
    (minor units), by the rate's ``basis``, is in its band, and only in the
    cart's currency; it is free when the subtotal reaches ``free_above``.
    Options come cheapest first; an option's id is the rate's id. A cart
    without a shipping address, or to a country in no zone, gets no option.
    """

    code = "table_rate"
    name = "Table rates"
    Config = TableRateConfig
    config: TableRateConfig

    async def quote(self, request: ShippingRequest) -> list[ShippingOption]:
        """The options of the ship-to country's zone whose band the cart falls in."""
        if request.ship_to is None:
            return []
        rates = await rates_for(request.store_id, request.ship_to.country, request.currency)
        options = [_option(rate, request.subtotal) for rate in rates if _in_band(rate, request)]
        return sorted(options, key=lambda option: (option.amount, option.name, option.id))
