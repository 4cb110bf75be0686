"""Builders of the inventory tests: a store with a region, warehouses and products, plus the
stock invariants every change must keep."""

from __future__ import annotations

from typing import Any

import msgspec

from core.inventory.tables import InventoryItem, Reservation, StockLevel
from core.plugins.testing.api import Api, StoreHandle, unique
from tests.matrix_support import product_body


class StockShop(msgspec.Struct, kw_only=True):
    """A store with one region (eu), warehouses by code and product variants."""

    api: Api
    store: StoreHandle
    region_id: str
    warehouses: dict[str, str] = {}

    async def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """An admin request with the owner token; returns the response."""
        return await self.api.request(method, path, self.store.token, **kwargs)

    async def warehouse(self, code: str, country: str = "DE", **extra: Any) -> str:
        """Create a warehouse and return its id."""
        body = {"code": code, "name": f"Warehouse {code}", "country": country, **extra}
        r = await self.call("POST", "/admin/warehouses", json=body)
        assert r.status_code == 201, r.text
        self.warehouses[code] = r.json()["id"]
        return str(r.json()["id"])

    async def route(self, *codes: str) -> None:
        """Make the region take stock from these warehouses, in this order."""
        ids = [self.warehouses[c] for c in codes]
        r = await self.call(
            "PUT", f"/admin/regions/{self.region_id}/warehouses", json={"warehouse_ids": ids}
        )
        assert r.status_code == 200, r.text

    async def variants(self, count: int = 1) -> list[str]:
        """Create a product with ``count`` variants; return their ids."""
        body = product_body()
        body["options"] = [{"name": "Size", "values": [f"S{i}" for i in range(count)]}]
        body["variants"] = [
            {"sku": unique("SKU"), "options": {"Size": f"S{i}"}} for i in range(count)
        ]
        r = await self.call("POST", "/admin/products", json=body)
        assert r.status_code == 201, r.text
        return [v["id"] for v in r.json()["variants"]]

    async def stock(self, variant_id: str, code: str, quantity: int, **extra: Any) -> Any:
        """Set the units on hand of a variant in a warehouse (a recount)."""
        body = {"quantity": quantity, "mode": "set", "reason": "recount", **extra}
        path = f"/admin/variants/{variant_id}/inventory/{self.warehouses[code]}/adjustments"
        r = await self.call("POST", path, json=body)
        assert r.status_code == 201, r.text
        return r.json()

    async def stocked(self, quantity: int) -> str:
        """A new variant with ``quantity`` units in a warehouse ``main`` (made if missing)."""
        if "main" not in self.warehouses:
            await self.warehouse("main")
        [variant] = await self.variants()
        await self.stock(variant, "main", quantity)
        return variant

    async def settings(self, variant_id: str, **body: Any) -> Any:
        """Change a variant's inventory settings."""
        r = await self.call("PATCH", f"/admin/variants/{variant_id}/inventory", json=body)
        assert r.status_code == 200, r.text
        return r.json()

    async def levels(self, variant_id: str) -> dict[str, tuple[int, int]]:
        """``{warehouse code: (on_hand, reserved)}`` of a variant, through the admin API."""
        r = await self.call("GET", f"/admin/variants/{variant_id}/inventory")
        assert r.status_code == 200, r.text
        codes = {v: k for k, v in self.warehouses.items()}
        return {
            codes[level["warehouse_id"]]: (level["on_hand"], level["reserved"])
            for level in r.json()["levels"]
        }


async def check_invariants(store_id: str) -> None:
    """For every stock level of the store: ``reserved`` is the sum of its active
    reservations, nothing is negative, and ``on_hand >= reserved`` unless on backorder."""
    levels = await StockLevel.select().where(StockLevel.store == store_id)
    active = await Reservation.select().where(
        (Reservation.store == store_id) & (Reservation.state == "active")
    )
    backorder = {
        r["variant"]
        for r in await InventoryItem.select(InventoryItem.variant).where(
            (InventoryItem.store == store_id) & (InventoryItem.allow_backorder == True)  # noqa: E712
        )
    }
    sums: dict[tuple[str, str], int] = {}
    for r in active:
        assert r["quantity"] > 0, r
        key = (r["variant"], r["warehouse"])
        sums[key] = sums.get(key, 0) + r["quantity"]
    seen = set()
    for level in levels:
        key = (level["variant"], level["warehouse"])
        seen.add(key)
        assert level["reserved"] == sums.get(key, 0), (level, sums.get(key))
        assert level["reserved"] >= 0, level
        if level["variant"] not in backorder:
            assert level["on_hand"] >= level["reserved"] >= 0, level
    assert set(sums) <= seen
