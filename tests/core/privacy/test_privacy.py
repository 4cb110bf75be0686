"""A shopper's personal data: exported whole, then erased everywhere but the tax facts."""

from __future__ import annotations

import json
from typing import Any

import pytest

from core.db.engine import fetch
from core.plugins.current import current_host
from core.plugins.testing.api import Api, address, place_order, unique
from tests.factories.orders import OrderShop, make_order_shop


def _canaries(tag: str) -> dict[str, str]:
    """Values found nowhere else in the database, one per kind of personal data."""
    return {
        "email": f"{tag}@canary.example",
        "first_name": f"{tag}First",
        "last_name": f"{tag}Last",
        "phone": "+49 " + " ".join(str(ord(c) % 10) * 3 for c in tag[-4:]),
        "line1": f"{tag} Street 1",
        "line2": f"{tag} Floor 2",
        "city": f"{tag}City",
        "company": f"{tag} GmbH",
        "book_line1": f"{tag} Book Lane 9",
        "billing_line1": f"{tag} Billing Road 5",
        "note": f"{tag} asked to leave it with the neighbour",
    }


def _address(c: dict[str, str], line1: str) -> dict[str, Any]:
    return address(
        "DE",
        first_name=c["first_name"],
        last_name=c["last_name"],
        line1=line1,
        line2=c["line2"],
        city=c["city"],
        company=c["company"],
        phone=c["phone"],
        postal_code="10115",
    )


async def _shopper(api: Api, shop: OrderShop, c: dict[str, str]) -> dict[str, Any]:
    """An account, its address book, two orders (one as a guest, under the email in
    other letter case, answered under an Idempotency-Key), a return with a note and
    an open cart."""
    made = await api.register_customer(
        shop.store,
        email=c["email"],
        first_name=c["first_name"],
        last_name=c["last_name"],
        phone=c["phone"],
    )
    r = await api.as_customer(
        "POST",
        "/store/customers/me/addresses",
        shop.store,
        made["token"],
        json={"address": _address(c, c["book_line1"])},
    )
    assert r.status_code == 201, r.text
    changes = {
        "email": c["email"],
        "shipping_address": _address(c, c["line1"]),
        "billing_address": _address(c, c["billing_line1"]),
    }
    mine = await place_order(
        api, shop.store, [(shop.variants[0], 2)], session=made["token"], cart_changes=changes
    )
    await shop.act(mine["order"]["id"], "mark-paid")
    await shop.ship_all(mine["order"]["id"])
    r = await shop.admin(
        "POST",
        f"/admin/orders/{mine['order']['id']}/returns",
        json={
            "lines": [{"line_id": mine["order"]["lines"][0]["id"], "quantity": 1}],
            "note": c["note"],
        },
    )
    assert r.status_code == 201, r.text
    guest = await _guest_order(api, shop, c)
    open_cart = await api.cart(shop.store, [(shop.variants[1], 1)], email=c["email"])
    return {"customer": made["customer"], "orders": [mine["order"], guest], "open_cart": open_cart}


async def _guest_order(api: Api, shop: OrderShop, c: dict[str, str]) -> dict[str, Any]:
    """A guest order under the email in upper case, completed with an Idempotency-Key."""
    changes = {"email": c["email"].upper(), "shipping_address": _address(c, c["line1"])}
    placed = await place_order(
        api, shop.store, [(shop.variants[1], 1)], cart_changes=changes, keyed=True
    )
    order: dict[str, Any] = placed["order"]
    return order


async def _found_in_database(values: list[str]) -> dict[str, list[str]]:
    """Every table and column whose text holds one of ``values`` (any letter case)."""
    wanted = [v.casefold() for v in values]
    found: dict[str, list[str]] = {}
    for table in current_host().tables:
        name = table._meta.tablename
        for row in await fetch(f"SELECT * FROM {name}"):  # noqa: S608
            for column, value in row.items():
                text = (
                    value.decode(errors="replace") if isinstance(value, bytes) else str(value)
                ).casefold()
                hits = [v for v, w in zip(values, wanted, strict=True) if w in text]
                if hits:
                    found.setdefault(f"{name}.{column}", []).extend(hits)
    return found


@pytest.fixture
async def shop(api: Api) -> OrderShop:
    return await make_order_shop(api)


async def test_export_holds_everything_and_erasure_leaves_none_of_it(
    api: Api, shop: OrderShop
) -> None:
    c = _canaries(unique("cnry").replace("_", ""))
    held = await _shopper(api, shop, c)
    other = await place_order(api, shop.store, [(shop.variants[0], 1)])  # buyer@example.com
    before = {o["id"]: (await shop.get(o["id"])) for o in held["orders"]}

    r = await shop.admin(
        "POST", "/admin/privacy/exports", json={"email": f"  {c['email'].upper()} "}
    )
    assert r.status_code == 200, r.text
    exported = r.json()
    assert [x["id"] for x in exported["customers"]] == [held["customer"]["id"]]
    assert sorted(o["id"] for o in exported["orders"]) == sorted(o["id"] for o in held["orders"])
    assert held["open_cart"]["id"] in {cart["id"] for cart in exported["carts"]}
    text = json.dumps(exported)
    assert [name for name, value in c.items() if value not in text] == []
    assert "password_hash" not in text
    assert "access_token_hash" not in text
    assert exported["orders"][0]["lines"]
    assert exported["customers"][0]["addresses"]

    r = await shop.admin("POST", "/admin/privacy/erasures", json={"email": c["email"]})
    assert r.status_code == 200, r.text
    erased = r.json()
    assert erased["customers"] == [held["customer"]["id"]]
    assert sorted(erased["orders"]) == sorted(before)

    assert await _found_in_database(list(c.values())) == {}
    for order_id, was in before.items():
        now = await shop.get(order_id)
        for name in (
            "number",
            "status",
            "currency",
            "subtotal",
            "tax_total",
            "shipping_total",
            "total",
            "paid_total",
        ):
            assert now[name] == was[name], name
        assert [(x["sku"], x["quantity"], x["total"]) for x in now["lines"]] == [
            (x["sku"], x["quantity"], x["total"]) for x in was["lines"]
        ]
        assert now["shipping_address"]["country"] == "DE"
        assert now["shipping_address"]["postal_code"] == "101"
    # The other shopper's order is untouched; the erased one cannot log in.
    assert (await shop.get(other["order"]["id"]))["email"] == "buyer@example.com"
    login = {"email": c["email"], "password": "correct horse battery"}
    r = await api.as_customer("POST", "/store/customers/login", shop.store, None, json=login)
    assert r.status_code == 401, r.text
    # Plugins and receivers hear of it, without the data.
    events = await fetch(
        "SELECT payload FROM outbox_events WHERE store = {} AND type = 'customer.erased'",
        shop.store.id,
    )
    assert len(events) == 1
    r = await shop.admin("POST", "/admin/privacy/exports", json={"email": c["email"]})
    assert (r.json()["customers"], r.json()["orders"], r.json()["carts"]) == ([], [], [])


@pytest.mark.parametrize(
    "body", [{}, {"email": "not-an-email"}, {"email": "a@b.c", "extra": 1}, {"email": 5}]
)
async def test_bad_requests_are_refused_and_change_nothing(
    api: Api, shop: OrderShop, body: dict[str, Any]
) -> None:
    c = _canaries(unique("cnry").replace("_", ""))
    await api.register_customer(shop.store, email=c["email"], first_name=c["first_name"])
    for path in ("/admin/privacy/exports", "/admin/privacy/erasures"):
        r = await shop.admin("POST", path, json=body)
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
    assert set(await _found_in_database([c["email"], c["first_name"]])) == {
        "customers.email",
        "customers.email_normalized",
        "customers.first_name",
    }


async def test_another_store_is_not_reached(api: Api, shop: OrderShop) -> None:
    c = _canaries(unique("cnry").replace("_", ""))
    await api.register_customer(shop.store, email=c["email"], first_name=c["first_name"])
    elsewhere = await make_order_shop(api)
    r = await elsewhere.admin("POST", "/admin/privacy/erasures", json={"email": c["email"]})
    assert r.status_code == 200, r.text
    assert r.json()["customers"] == []
    assert "customers.first_name" in await _found_in_database([c["first_name"]])
