"""Reading orders: the admin listing (filters, search, pages), the customer's own orders,
and a guest's order by its access token; whatever is not the caller's is a plain 404."""

from __future__ import annotations

from typing import Any

from core.plugins.testing.api import Api, place_order
from tests.factories.orders import OrderShop, make_order_shop


async def listing(shop: OrderShop, **params: Any) -> list[dict[str, Any]]:
    """Every order of the admin listing with ``params``, following the cursors (3 a page)."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**params, "limit": 3, **({"cursor": cursor} if cursor else {})}
        r = await shop.admin("GET", "/admin/orders", params=query)
        assert r.status_code == 200, r.text
        items += r.json()["items"]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            return items


async def test_admin_lists_filters_and_searches_orders_newest_first(
    api: Api, shop: OrderShop
) -> None:
    customer = await api.register_customer(shop.store, email="Mixed.Case@Example.com")
    mine = await place_order(api, shop.store, [(shop.variants[0], 1)], session=customer["token"])
    others = [(await shop.order())["order"] for _ in range(4)]
    paid = await shop.act(others[0]["id"], "mark-paid")
    everything = await listing(shop)
    ids = [o["id"] for o in everything]
    assert ids == [o["id"] for o in reversed(others)] + [mine["order"]["id"]]
    assert [o["number"] for o in everything] == [1005, 1004, 1003, 1002, 1001]
    assert everything[0]["lines"]
    assert everything[0]["lines"][0]["quantity"] == 1

    assert [o["id"] for o in await listing(shop, status="paid")] == [paid["id"]]
    assert len(await listing(shop, status="pending")) == 4
    by_customer = await listing(shop, customer_id=customer["customer"]["id"])
    assert [o["id"] for o in by_customer] == [mine["order"]["id"]]
    assert await listing(shop, email="BUYER@example.com") != []
    assert [o["number"] for o in await listing(shop, q="1003")] == [1003]
    assert [o["number"] for o in await listing(shop, q="#1003")] == [1003]
    assert len(await listing(shop, q="buyer@")) == 5
    assert await listing(shop, q="%") == []
    assert await listing(shop, q="_") == []
    placed = everything[2]["placed_at"]
    assert [o["placed_at"] for o in await listing(shop, placed_after=placed)] == [
        o["placed_at"] for o in everything[:3]
    ]
    assert len(await listing(shop, placed_before=placed)) == 2
    for bad in ({"status": "lost"}, {"limit": 0}, {"cursor": "!!"}, {"placed_after": "soon"}):
        r = await shop.admin("GET", "/admin/orders", params=bad)
        assert (r.status_code, r.json()["code"]) == (422, "validation_failed"), (bad, r.text)


async def test_admin_reads_only_its_own_orders(api: Api, shop: OrderShop) -> None:
    order = (await shop.order())["order"]
    other = await make_order_shop(api)
    r = await other.admin("GET", f"/admin/orders/{order['id']}")
    assert r.status_code == 404
    assert r.json()["code"] == "order_not_found"
    assert await listing(other) == []
    for action in ("mark-paid", "cancel"):
        r = await other.admin("POST", f"/admin/orders/{order['id']}/{action}")
        assert r.status_code == 404
    assert (await shop.get(order["id"]))["status"] == "pending"


async def test_a_guest_reads_the_order_with_its_token_only(api: Api, shop: OrderShop) -> None:
    placed = await shop.order((0, 2))
    order_id, token = placed["order"]["id"], placed["access_token"]
    url = f"/store/orders/{order_id}"
    r = await api.store_call("GET", url, shop.store, headers={"X-Order-Token": token})
    assert r.status_code == 200, r.text
    seen = r.json()
    assert seen["id"] == order_id
    assert seen["total"] == placed["order"]["total"]
    assert seen["fulfillments"] == []
    assert seen["returns"] == []
    assert "timeline" not in seen
    assert "payments" not in seen
    assert "access_token_hash" not in seen
    for headers in (
        {},
        {"X-Order-Token": ""},
        {"X-Order-Token": token + "x"},
        {"X-Order-Token": "otok_x"},
    ):
        r = await api.store_call("GET", url, shop.store, headers=headers)
        assert r.status_code == 404, headers
        assert r.json()["code"] == "order_not_found", headers
    r = await api.store_call(
        "GET", "/store/orders/order_nothing", shop.store, headers={"X-Order-Token": token}
    )
    assert r.status_code == 404
    assert r.json()["code"] == "order_not_found"
    other = await make_order_shop(api)
    r = await api.store_call("GET", url, other.store, headers={"X-Order-Token": token})
    assert r.status_code == 404
    # Another order's token opens only that order.
    second = await shop.order()
    r = await api.store_call(
        "GET", url, shop.store, headers={"X-Order-Token": second["access_token"]}
    )
    assert r.status_code == 404


async def test_customers_see_their_own_orders_only(api: Api, shop: OrderShop) -> None:
    alice = await api.register_customer(shop.store)
    bob = await api.register_customer(shop.store)
    a1 = await place_order(api, shop.store, [(shop.variants[0], 1)], session=alice["token"])
    a2 = await place_order(api, shop.store, [(shop.variants[1], 2)], session=alice["token"])
    b1 = await place_order(api, shop.store, [(shop.variants[0], 1)], session=bob["token"])
    await shop.order()  # a guest's

    r = await api.as_customer("GET", "/store/customers/me/orders", shop.store, alice["token"])
    assert r.status_code == 200, r.text
    assert [o["id"] for o in r.json()["items"]] == [a2["order"]["id"], a1["order"]["id"]]
    r = await api.as_customer(
        "GET", "/store/customers/me/orders?limit=1", shop.store, alice["token"]
    )
    assert len(r.json()["items"]) == 1
    assert r.json()["next_cursor"]

    mine = f"/store/customers/me/orders/{a1['order']['id']}"
    r = await api.as_customer("GET", mine, shop.store, alice["token"])
    assert r.status_code == 200
    assert r.json()["id"] == a1["order"]["id"]
    r = await api.as_customer("GET", mine, shop.store, bob["token"])
    assert r.status_code == 404
    assert r.json()["code"] == "order_not_found"
    r = await api.as_customer("GET", mine, shop.store, None)
    assert r.status_code == 401
    r = await api.as_customer(
        "GET", f"/store/customers/me/orders/{b1['order']['id']}", shop.store, alice["token"]
    )
    assert r.status_code == 404

    other = await make_order_shop(api)
    carol = await api.register_customer(other.store)
    r = await api.as_customer("GET", mine, other.store, carol["token"])
    assert r.status_code == 404
    r = await api.as_customer("GET", "/store/customers/me/orders", other.store, carol["token"])
    assert r.json()["items"] == []


async def test_customers_and_guests_ask_for_returns_of_their_own_orders(
    api: Api, shop: OrderShop
) -> None:
    alice = await api.register_customer(shop.store)
    bob = await api.register_customer(shop.store)
    placed = await place_order(api, shop.store, [(shop.variants[0], 2)], session=alice["token"])
    order_id = placed["order"]["id"]
    line = placed["order"]["lines"][0]["id"]
    await shop.act(order_id, "mark-paid")
    await shop.ship_all(order_id)
    url = f"/store/orders/{order_id}/returns"
    body = {"lines": [{"line_id": line, "quantity": 1, "reason": "broken"}], "note": "sorry"}

    r = await api.as_customer("POST", url, shop.store, bob["token"], json=body)
    assert r.status_code == 404
    r = await api.as_customer("POST", url, shop.store, None, json=body)
    assert r.status_code == 404  # a guest without the token
    assert (await shop.get(order_id))["returns"] == []

    r = await api.as_customer("POST", url, shop.store, alice["token"], json=body)
    assert r.status_code == 201, r.text
    assert r.json()["returns"][0]["lines"][0]["reason"] == "broken"
    headers = {"X-Order-Token": placed["access_token"]}
    r = await api.store_call("POST", url, shop.store, json=body, headers=headers)
    assert r.status_code == 201, r.text
    r = await api.store_call("POST", url, shop.store, json=body, headers=headers)
    assert r.status_code == 422  # both shipped units are asked back already
    detail = await shop.get(order_id)
    assert [x["requested_by"] for x in detail["returns"]] == ["customer", "customer"]
    actors = [t["actor"] for t in detail["timeline"] if t["kind"] == "return"]
    assert actors == [f"customer:{alice['customer']['id']}", "guest"]
