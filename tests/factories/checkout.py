"""Builders of the checkout tests: a store whose EU region (tax included) and US region (tax
added) sell one stocked variant through the fake providers."""

from __future__ import annotations

from typing import Any

import msgspec

from core.plugins.testing.api import Api, StoreHandle
from tests.core.checkout import fakes


class CheckoutShop(msgspec.Struct, kw_only=True):
    """A store ready to check out, and what it sells."""

    store: StoreHandle
    variant: str
    warehouse: str


async def make_checkout_shop(
    api: Api,
    *,
    stock: int = 50,
    price: int = 2500,
    pay: dict[str, Any] | None = None,
    tax: dict[str, Any] | None = None,
    ship: dict[str, Any] | None = None,
) -> CheckoutShop:
    """A store with EU (EUR, tax included) and US (USD, tax added), each with the fake
    payment, tax and shipping providers active, and one variant with ``stock`` units."""
    fakes.install()
    store = await api.create_store()
    await api.add_region(store, tax_inclusive=True)
    await api.add_region(
        store, code="us", name="United States", currency="USD", countries=["US"], locales=["en"]
    )
    await api.add_storefront(store)
    for region in ("eu", "us"):
        await api.activate(store, region, "payment", "fakepay", pay)
        await api.activate(store, region, "tax", "flat_tax", tax)
        await api.activate(store, region, "shipping", "flat_ship", ship)
    variant = await api.add_variant_product(store, {"EUR": price, "USD": price + 300})
    warehouse = await api.warehouse(store, ["eu", "us"])
    if stock:
        await api.stock(store, variant, warehouse, stock)
    return CheckoutShop(store=store, variant=variant, warehouse=warehouse)
