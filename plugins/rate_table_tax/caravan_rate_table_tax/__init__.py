"""Caravan's built-in rate-table tax provider.

The store's staff set a rate per country (or subdivision) and tax category
under ``/admin/tax-rates``; the provider applies them. Registered through the
same hooks as any plugin.
"""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path
from typing import Any

from piccolo.table import Table

from caravan_rate_table_tax.provider import RateTableTax
from caravan_rate_table_tax.routes import TaxRatesController
from caravan_rate_table_tax.tables import TaxRate
from core.plugins import Manifest, TaxProvider, hookimpl

__version__ = version("caravan-rate-table-tax")

__all__ = ["RateTableTax"]
HERE = Path(__file__).parent


@hookimpl
def plugin_manifest() -> Manifest:
    """What this plugin is (see :mod:`core.plugins.manifests`)."""
    return Manifest(
        name="caravan-rate-table-tax",
        version=__version__,
        author="Caravan",
        summary="Tax from a table of rates per country, subdivision and tax category, "
        "set by the merchant",
        license="Apache-2.0",
        caravan_api=">=1.0,<2",
        permissions=["settings:write"],
    )


@hookimpl
def register_tax_providers() -> list[type[TaxProvider]]:
    """The rate-table provider (code ``rate_table``)."""
    return [RateTableTax]


@hookimpl
def register_tables() -> list[type[Table]]:
    """The rates."""
    return [TaxRate]


@hookimpl
def register_migrations() -> Path:
    """The plugin's Alembic branch (``rate_table_tax``)."""
    return HERE / "migrations"


@hookimpl
def register_routes() -> list[Any]:
    """``/admin/tax-rates``."""
    return [TaxRatesController]


@hookimpl
def register_translations() -> Path:
    """The messages of the plugin's error codes."""
    return HERE / "locales"
