"""Inventory through the real admin API: warehouses, region routing, adjustments, ledger."""

from __future__ import annotations

from typing import Any

from core.plugins.testing.api import Api
from tests.factories.inventory import StockShop, check_invariants


def problem(r: Any, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = r.json()
    assert body["code"] == code, body
    return body


async def movements(shop: StockShop, **params: Any) -> list[dict[str, Any]]:
    r = await shop.call("GET", "/admin/stock-movements", params={"limit": 100, **params})
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


# ---------------------------------------------------------------------------
# Warehouses
# ---------------------------------------------------------------------------


async def test_warehouse_crud(shop: StockShop) -> None:
    r = await shop.call(
        "POST", "/admin/warehouses", json={"code": "berlin", "name": "Berlin", "country": "DE"}
    )
    assert r.status_code == 201, r.text
    created = r.json()
    assert {k: created[k] for k in ("code", "name", "country", "active")} == {
        "code": "berlin",
        "name": "Berlin",
        "country": "DE",
        "active": True,
    }
    wid = created["id"]
    assert (await shop.call("GET", f"/admin/warehouses/{wid}")).json() == created

    r = await shop.call(
        "PATCH", f"/admin/warehouses/{wid}", json={"name": "Berlin 2", "active": False}
    )
    assert r.status_code == 200, r.text
    assert (r.json()["name"], r.json()["active"], r.json()["code"]) == ("Berlin 2", False, "berlin")

    other = await shop.warehouse("paris", "FR")
    r = await shop.call("GET", "/admin/warehouses", params={"limit": 1})
    page = r.json()
    assert [w["id"] for w in page["items"]] == [other]
    r = await shop.call("GET", "/admin/warehouses", params={"cursor": page["next_cursor"]})
    assert [w["id"] for w in r.json()["items"]] == [wid]
    assert r.json()["next_cursor"] is None

    r = await shop.call("DELETE", f"/admin/warehouses/{wid}")
    assert r.status_code == 204
    problem(await shop.call("GET", f"/admin/warehouses/{wid}"), 404, "warehouse_not_found")


async def test_warehouse_validation_writes_nothing(shop: StockShop) -> None:
    await shop.warehouse("main")
    cases = [
        ({"code": "x", "name": "X", "country": "ZZ"}, "country", "invalid_country"),
        ({"code": "x", "name": "X", "country": "de"}, "country", "invalid_pattern"),
        ({"code": "Bad Code", "name": "X", "country": "DE"}, "code", "invalid_pattern"),
        ({"code": "x", "name": "", "country": "DE"}, "name", "too_short"),
        ({"code": "x", "name": "X", "country": "DE", "id": "wh_x"}, "id", "unknown_field"),
    ]
    for body, field, code in cases:
        r = await shop.call("POST", "/admin/warehouses", json=body)
        errors = problem(r, 422, "validation_failed")["errors"]
        assert [(e["field"], e["code"]) for e in errors] == [(field, code)], body
    r = await shop.call(
        "POST", "/admin/warehouses", json={"code": "main", "name": "Again", "country": "DE"}
    )
    problem(r, 409, "warehouse_code_taken")
    listed = (await shop.call("GET", "/admin/warehouses")).json()["items"]
    assert [w["code"] for w in listed] == ["main"]


async def test_region_warehouses_replace_in_order(shop: StockShop) -> None:
    a, b = await shop.warehouse("a"), await shop.warehouse("b")
    path = f"/admin/regions/{shop.region_id}/warehouses"
    assert (await shop.call("GET", path)).json() == {"region_id": shop.region_id, "warehouses": []}
    r = await shop.call("PUT", path, json={"warehouse_ids": [b, a]})
    assert r.status_code == 200, r.text
    assert [w["id"] for w in r.json()["warehouses"]] == [b, a]
    r = await shop.call("PUT", path, json={"warehouse_ids": [a]})
    assert [w["id"] for w in (await shop.call("GET", path)).json()["warehouses"]] == [a]

    r = await shop.call("PUT", path, json={"warehouse_ids": [a, a, "wh_nope"]})
    errors = problem(r, 422, "validation_failed")["errors"]
    assert {(e["field"], e["code"]) for e in errors} == {
        ("warehouse_ids[1]", "duplicate"),
        ("warehouse_ids[2]", "not_found"),
    }
    assert [w["id"] for w in (await shop.call("GET", path)).json()["warehouses"]] == [a]
    r = await shop.call("PUT", "/admin/regions/reg_nope/warehouses", json={"warehouse_ids": []})
    problem(r, 404, "region_not_found")


async def test_another_stores_warehouse_is_404(api: Api, shop: StockShop) -> None:
    wid = await shop.warehouse("mine")
    [variant] = await shop.variants()
    other = await api.create_store()
    region = await api.add_region(other)
    r = await api.request("GET", f"/admin/warehouses/{wid}", other.token)
    problem(r, 404, "warehouse_not_found")
    r = await api.request(
        "PUT",
        f"/admin/regions/{region['id']}/warehouses",
        other.token,
        json={"warehouse_ids": [wid]},
    )
    assert problem(r, 422, "validation_failed")["errors"][0]["code"] == "not_found"
    path = f"/admin/variants/{variant}/inventory/{wid}/adjustments"
    body = {"quantity": 5, "reason": "received"}
    problem(await api.request("POST", path, other.token, json=body), 404, "variant_not_found")
    assert await shop.levels(variant) == {}


# ---------------------------------------------------------------------------
# Stock levels, adjustments and the ledger
# ---------------------------------------------------------------------------


async def test_adjustments_change_stock_and_write_the_ledger(shop: StockShop) -> None:
    wid = await shop.warehouse("main")
    [variant] = await shop.variants()
    path = f"/admin/variants/{variant}/inventory/{wid}/adjustments"

    r = await shop.call("POST", path, json={"quantity": 10, "reason": "received", "note": "PO 7"})
    assert r.status_code == 201, r.text
    assert {k: r.json()[k] for k in ("on_hand", "reserved", "available")} == {
        "on_hand": 10,
        "reserved": 0,
        "available": 10,
    }
    r = await shop.call("POST", path, json={"quantity": -3, "reason": "damaged"})
    assert r.json()["on_hand"] == 7
    r = await shop.call("POST", path, json={"quantity": 4, "mode": "set", "reason": "recount"})
    assert r.json()["on_hand"] == 4

    ledger = await movements(shop, variant_id=variant)
    assert [(m["reason"], m["delta_on_hand"], m["delta_reserved"], m["note"]) for m in ledger] == [
        ("recount", -3, 0, ""),
        ("damaged", -3, 0, ""),
        ("received", 10, 0, "PO 7"),
    ]
    assert {m["warehouse_id"] for m in ledger} == {wid}
    assert await movements(shop, warehouse_id=wid) == ledger
    assert await movements(shop, variant_id="var_other") == []

    r = await shop.call("GET", f"/admin/variants/{variant}/inventory")
    assert r.json()["on_hand"] == 4
    assert r.json()["allow_backorder"] is False
    r = await shop.call("GET", f"/admin/warehouses/{wid}/stock")
    assert [(s["variant_id"], s["on_hand"]) for s in r.json()["items"]] == [(variant, 4)]


async def test_bad_adjustments_are_refused_and_write_nothing(shop: StockShop) -> None:
    variant = await shop.stocked(5)
    wid = shop.warehouses["main"]
    before = await movements(shop)
    path = f"/admin/variants/{variant}/inventory/{wid}/adjustments"

    r = await shop.call("POST", path, json={"quantity": -6, "reason": "damaged"})
    assert problem(r, 409, "stock_below_zero")["detail"].startswith(
        "This adjustment would leave -1 units on hand"
    )
    for body, field, code in [
        ({"quantity": 0, "reason": "received"}, "quantity", "out_of_range"),
        ({"quantity": -1, "mode": "set", "reason": "recount"}, "quantity", "out_of_range"),
        ({"quantity": 10**9 + 1, "reason": "received"}, "quantity", "out_of_range"),
        ({"quantity": 1, "reason": "gift"}, "reason", "invalid_choice"),
        ({"quantity": 1.5, "reason": "received"}, "quantity", "invalid_type"),
        ({"quantity": 1}, "reason", "required"),
    ]:
        errors = problem(await shop.call("POST", path, json=body), 422, "validation_failed")
        assert [(e["field"], e["code"]) for e in errors["errors"]] == [(field, code)], body
    r = await shop.call(
        "POST",
        f"/admin/variants/{variant}/inventory/wh_nope/adjustments",
        json={"quantity": 1, "reason": "received"},
    )
    problem(r, 404, "warehouse_not_found")
    assert await movements(shop) == before
    assert await shop.levels(variant) == {"main": (5, 0)}


async def test_adjustment_below_reserved_is_refused(shop: StockShop) -> None:
    from core.db.engine import transaction
    from core.inventory import service

    variant = await shop.stocked(5)
    wid = shop.warehouses["main"]
    async with transaction():
        await service.reserve(
            shop.store.id, shop.region_id, "cart_1", [(variant, 3)], expires_at=None
        )
    path = f"/admin/variants/{variant}/inventory/{wid}/adjustments"
    r = await shop.call("POST", path, json={"quantity": 2, "mode": "set", "reason": "recount"})
    problem(r, 409, "stock_below_reserved")
    r = await shop.call("POST", path, json={"quantity": -3, "reason": "lost"})
    problem(r, 409, "stock_below_reserved")
    r = await shop.call("POST", path, json={"quantity": -2, "reason": "lost"})
    assert (r.json()["on_hand"], r.json()["reserved"], r.json()["available"]) == (3, 3, 0)
    # A warehouse with reserved stock cannot be deleted.
    problem(await shop.call("DELETE", f"/admin/warehouses/{wid}"), 409, "warehouse_not_empty")
    await check_invariants(shop.store.id)


async def test_settings(shop: StockShop) -> None:
    [variant] = await shop.variants()
    got = await shop.settings(variant, allow_backorder=True, low_stock_threshold=3)
    assert (got["allow_backorder"], got["low_stock_threshold"]) == (True, 3)
    got = await shop.settings(variant, allow_backorder=False)
    assert (got["allow_backorder"], got["low_stock_threshold"]) == (False, 3)
    got = await shop.settings(variant, low_stock_threshold=None)
    assert got["low_stock_threshold"] is None
    r = await shop.call(
        "PATCH", f"/admin/variants/{variant}/inventory", json={"low_stock_threshold": -1}
    )
    problem(r, 422, "validation_failed")
    r = await shop.call("PATCH", "/admin/variants/var_nope/inventory", json={})
    problem(r, 404, "variant_not_found")


async def test_warehouse_with_stock_cannot_be_deleted(shop: StockShop) -> None:
    variant = await shop.stocked(2)
    wid = shop.warehouses["main"]
    problem(await shop.call("DELETE", f"/admin/warehouses/{wid}"), 409, "warehouse_not_empty")
    await shop.stock(variant, "main", 0)
    assert (await shop.call("DELETE", f"/admin/warehouses/{wid}")).status_code == 204
    assert await shop.levels(variant) == {}
    # The ledger keeps the history of the deleted warehouse.
    assert [m["delta_on_hand"] for m in await movements(shop, warehouse_id=wid)] == [-2, 2]


async def test_low_stock_event_on_adjustment(shop: StockShop) -> None:
    from core.events.tables import OutboxEvent

    await shop.warehouse("main")
    [variant] = await shop.variants()
    await shop.settings(variant, low_stock_threshold=3)
    await shop.stock(variant, "main", 10)
    await shop.stock(variant, "main", 4)
    events = (
        await OutboxEvent.select(OutboxEvent.payload)
        .where((OutboxEvent.store == shop.store.id) & (OutboxEvent.type == "inventory.low"))
        .output(load_json=True)
    )
    assert events == []
    await shop.stock(variant, "main", 3)
    events = (
        await OutboxEvent.select(OutboxEvent.payload)
        .where((OutboxEvent.store == shop.store.id) & (OutboxEvent.type == "inventory.low"))
        .output(load_json=True)
    )
    assert [e["payload"] for e in events] == [
        {"variant_id": variant, "warehouse_id": shop.warehouses["main"], "available": 3}
    ]
