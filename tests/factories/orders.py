"""Builders of the order tests: a store selling two stocked variants through the built-in
providers, and helpers that drive an order through the admin API."""

from __future__ import annotations

from typing import Any

import msgspec
from httpx import Response

from core.db.engine import fetch
from core.plugins.testing.api import Api, StoreHandle, builtin_providers, place_order

STOCK = 20


class OrderShop(msgspec.Struct, kw_only=True):
    """A store ready to sell: EU (EUR, 19 % included), US (USD, 10 % added)."""

    store: StoreHandle
    variants: list[str]
    warehouse: str
    api: Api

    async def order(
        self, *lines: tuple[int, int], region: str = "eu", **kwargs: Any
    ) -> dict[str, Any]:
        """Place an order of ``(variant index, quantity)`` lines; the completion's body."""
        wanted = [(self.variants[i], q) for i, q in lines] or [(self.variants[0], 1)]
        return await place_order(self.api, self.store, wanted, region=region, **kwargs)

    async def admin(self, method: str, path: str, **kwargs: Any) -> Response:
        """An admin request with the store's token."""
        return await self.api.request(method, path, self.store.token, **kwargs)

    async def get(self, order_id: str) -> dict[str, Any]:
        """The order as the admin API shows it."""
        r = await self.admin("GET", f"/admin/orders/{order_id}")
        assert r.status_code == 200, r.text
        data: dict[str, Any] = r.json()
        return data

    async def act(
        self, order_id: str, action: str, body: Any = None, status: int = 200
    ) -> dict[str, Any]:
        """POST an action on an order and expect ``status``; the answer."""
        r = await self.admin("POST", f"/admin/orders/{order_id}/{action}", json=body)
        assert r.status_code == status, r.text
        data: dict[str, Any] = r.json()
        return data

    async def ship_all(self, order_id: str) -> dict[str, Any]:
        """One fulfilment of every unshipped unit."""
        order = await self.get(order_id)
        lines = [
            {"line_id": line["id"], "quantity": line["quantity"] - line["fulfilled_quantity"]}
            for line in order["lines"]
            if line["quantity"] > line["fulfilled_quantity"]
        ]
        return await self.act(order_id, "fulfillments", self.shipment(lines), 201)

    def shipment(self, lines: list[dict[str, Any]]) -> dict[str, Any]:
        """A fulfilment body from the shop's warehouse."""
        return {
            "warehouse_id": self.warehouse,
            "carrier": "DHL",
            "tracking_number": "JD0001",
            "tracking_url": "https://track.example/JD0001",
            "lines": lines,
        }


async def make_order_shop(api: Api, stock: int = STOCK) -> OrderShop:
    """A fresh store (see :class:`OrderShop`)."""
    store = await api.create_store()
    await api.add_region(store, tax_inclusive=True)
    await api.add_region(
        store, code="us", name="United States", currency="USD", countries=["US"], locales=["en"]
    )
    await api.add_storefront(store)
    await builtin_providers(api, store, "eu", tax_rate="0.19", shipping=490)
    await builtin_providers(api, store, "us", tax_rate="0.1", shipping=999)
    variants = [
        await api.add_variant_product(store, {"EUR": 2500, "USD": 2999}),
        await api.add_variant_product(store, {"EUR": 1333, "USD": 1001}),
    ]
    warehouse = await api.warehouse(store, ["eu", "us"])
    for variant in variants:
        await api.stock(store, variant, warehouse, stock)
    return OrderShop(store=store, variants=variants, warehouse=warehouse, api=api)


async def stock_of(variant_id: str) -> tuple[int, int]:
    """``(on_hand, reserved)`` of a variant over all warehouses."""
    rows = await fetch(
        "SELECT COALESCE(SUM(on_hand), 0) AS h, COALESCE(SUM(reserved), 0) AS r "
        "FROM stock_levels WHERE variant = {}",
        variant_id,
    )
    return int(rows[0]["h"]), int(rows[0]["r"])


async def events_of(order_id: str) -> list[str]:
    """The outbox event types of an order, oldest first."""
    rows = await fetch(
        "SELECT type FROM outbox_events WHERE aggregate_id = {} ORDER BY created_at, id", order_id
    )
    return [r["type"] for r in rows]
