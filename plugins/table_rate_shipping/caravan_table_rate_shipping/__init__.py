"""Caravan's built-in table-rate shipping provider.

The store's staff define zones (countries) and rates by weight or order
value band under ``/admin/shipping-zones``; the provider quotes them.
Registered through the same hooks as any plugin.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from piccolo.table import Table

from caravan_table_rate_shipping.provider import TableRateShipping
from caravan_table_rate_shipping.routes import ShippingZonesController
from caravan_table_rate_shipping.tables import ShippingRate, ShippingZone, ShippingZoneCountry
from core.hookspecs import hookimpl
from core.shipping.providers import ShippingProvider

__all__ = ["TableRateShipping"]
HERE = Path(__file__).parent


@hookimpl
def register_shipping_providers() -> list[type[ShippingProvider]]:
    """The table-rate provider (code ``table_rate``)."""
    return [TableRateShipping]


@hookimpl
def register_tables() -> list[type[Table]]:
    """Zones, their countries and their rates."""
    return [ShippingZone, ShippingZoneCountry, ShippingRate]


@hookimpl
def register_migrations() -> Path:
    """The plugin's Alembic branch (``table_rate_shipping``)."""
    return HERE / "migrations"


@hookimpl
def register_routes() -> list[Any]:
    """``/admin/shipping-zones``."""
    return [ShippingZonesController]


@hookimpl
def register_translations() -> Path:
    """The messages of the plugin's error codes."""
    return HERE / "locales"
