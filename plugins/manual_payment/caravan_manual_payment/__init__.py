"""Caravan's built-in manual payment provider (bank transfer, cash on delivery).

Registered through the same hooks as any plugin: the provider class, its
tables and its migration branch.
"""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

from piccolo.table import Table

from caravan_manual_payment.provider import ManualPayment
from caravan_manual_payment.tables import ManualPaymentOperation, ManualPaymentRecord
from core.plugins import Capability, Manifest, PaymentProvider, hookimpl

__version__ = version("caravan-manual-payment")

__all__ = ["ManualPayment"]


@hookimpl
def plugin_manifest() -> Manifest:
    """What this plugin is (see :mod:`core.plugins.manifests`)."""
    return Manifest(
        name="caravan-manual-payment",
        version=__version__,
        author="Caravan",
        summary="Bank transfer and cash on delivery: the order waits until the merchant "
        "marks it paid",
        license="Apache-2.0",
        caravan_api=">=1.0,<2",
        permissions=["orders:write"],
    )


@hookimpl
def register_payment_providers() -> list[type[PaymentProvider]]:
    """The manual provider (code ``manual``)."""
    return [ManualPayment]


@hookimpl
def register_storefront_capabilities() -> list[Capability]:
    """A note the theme shows where manual payment is offered: the order ships once paid."""
    return [
        Capability(
            code="manual_payment.pay_later_notice",
            title="Pay by bank transfer or cash on delivery",
            description="Your order is confirmed now and shipped once the payment arrives.",
            provider="payment:manual",
            data={"icon": "bank"},
        )
    ]


@hookimpl
def register_tables() -> list[type[Table]]:
    """The payments and their captures and refunds."""
    return [ManualPaymentRecord, ManualPaymentOperation]


@hookimpl
def register_migrations() -> Path:
    """The plugin's Alembic branch (``manual_payment``)."""
    return Path(__file__).parent / "migrations"
