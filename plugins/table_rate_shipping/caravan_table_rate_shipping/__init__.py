"""Caravan's built-in table-rate shipping provider.

The store's staff define zones (countries) and rates by weight or order
value band under ``/admin/shipping-zones``; the provider quotes them.
Registered through the same hooks as any plugin.
"""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path
from typing import Any

from piccolo.table import Table

from caravan_table_rate_shipping.provider import TableRateShipping
from caravan_table_rate_shipping.routes import ShippingZonesController
from caravan_table_rate_shipping.tables import ShippingRate, ShippingZone, ShippingZoneCountry
from core.plugins import Manifest, ShippingProvider, hookimpl

__version__ = version("caravan-table-rate-shipping")

__all__ = ["TableRateShipping"]
HERE = Path(__file__).parent


@hookimpl
def plugin_manifest() -> Manifest:
    """What this plugin is (see :mod:`core.plugins.manifests`)."""
    return Manifest(
        name="caravan-table-rate-shipping",
        version=__version__,
        author="Caravan",
        summary="Shipping zones by country with rates by weight band or order value, "
        "free above a threshold",
        license="Apache-2.0",
        caravan_api=">=1.0,<2",
        permissions=["settings:write"],
    )


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
