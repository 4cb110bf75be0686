"""Checkout through the storefront API: payment sessions, completion, stock and faults."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from core.checkout import idempotency
from core.db.engine import fetch
from core.plugins.testing.api import Api
from tests.core.checkout import fakes
from tests.core.checkout.test_cart import assert_identities
from tests.factories.checkout import CheckoutShop, make_checkout_shop


async def stock_of(variant_id: str) -> dict[str, int]:
    """on_hand, reserved and the sum of live reservations of a variant."""
    level = await fetch(
        "SELECT SUM(on_hand) AS on_hand, SUM(reserved) AS reserved FROM stock_levels "
        "WHERE variant = {}",
        variant_id,
    )
    live = await fetch(
        "SELECT COALESCE(SUM(quantity), 0) AS q FROM stock_reservations "
        "WHERE variant = {} AND state = 'active'",
        variant_id,
    )
    return {
        "on_hand": int(level[0]["on_hand"]),
        "reserved": int(level[0]["reserved"]),
        "live": int(live[0]["q"]),
    }


async def open_session(
    api: Api, shop: CheckoutShop, cart: dict[str, Any], provider: str
) -> httpx.Response:
    """Open a payment session for ``cart`` with ``provider``."""
    return await api.store_call(
        "POST",
        f"/store/carts/{cart['id']}/payment-sessions",
        shop.store,
        json={"provider": provider},
    )


async def checkout_ready(
    api: Api, shop: CheckoutShop, qty: int = 1, region: str = "eu"
) -> dict[str, Any]:
    """A cart with address and express shipping chosen."""
    country = "US" if region == "us" else "DE"
    cart = await api.ready_cart(shop.store, [(shop.variant, qty)], country=country, region=region)
    r = await api.store_call(
        "PUT",
        f"/store/carts/{cart['id']}/shipping-method",
        shop.store,
        json={"provider": "flat_ship", "option_id": "standard"},
    )
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()
    return data


async def test_checkout_places_a_paid_order_and_commits_stock(api: Api, shop: CheckoutShop) -> None:
    cart = await checkout_ready(api, shop, 2, region="us")
    r = await open_session(api, shop, cart, "fakepay")
    assert r.status_code == 201, r.text
    session = r.json()
    assert session["status"] == "authorized"
    assert session["amount"] == cart["total"]
    assert (await stock_of(shop.variant)) == {"on_hand": 50, "reserved": 2, "live": 2}
    r = await api.store_call("POST", f"/store/carts/{cart['id']}/complete", shop.store)
    assert r.status_code == 201, r.text
    placed = r.json()
    order = placed["order"]
    assert order["status"] == "paid"
    assert order["paid_total"] == order["total"] == cart["total"]
    assert order["number"] == 1001
    assert placed["access_token"].startswith("otok_")
    assert_identities(order)
    assert order["subtotal"] == 2 * 2800
    assert (await stock_of(shop.variant)) == {"on_hand": 48, "reserved": 0, "live": 0}
    r = await api.store_call("GET", f"/store/carts/{cart['id']}", shop.store)
    assert r.json()["status"] == "completed"
    assert r.json()["order_id"] == order["id"]
    events = await fetch(
        "SELECT type FROM outbox_events WHERE aggregate_id = {} ORDER BY id", order["id"]
    )
    assert [e["type"] for e in events] == ["order.placed", "order.paid"]


async def test_completing_twice_is_a_conflict(api: Api, shop: CheckoutShop) -> None:
    cart = await checkout_ready(api, shop)
    r = await api.pay_and_complete(shop.store, cart["id"], "fakepay")
    assert r.status_code == 201, r.text
    r = await api.store_call("POST", f"/store/carts/{cart['id']}/complete", shop.store)
    assert r.status_code == 409
    assert r.json()["code"] == "cart_not_open"
    r = await api.store_call(
        "POST",
        f"/store/carts/{cart['id']}/lines",
        shop.store,
        json={"variant_id": shop.variant, "quantity": 1},
    )
    assert r.status_code == 409


async def test_cart_not_ready_lists_what_is_missing(api: Api, shop: CheckoutShop) -> None:
    cart = await api.cart(shop.store, [(shop.variant, 1)])
    r = await open_session(api, shop, cart, "fakepay")
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} == {
        "email",
        "shipping_address",
        "shipping_method",
    }
    assert (await stock_of(shop.variant))["reserved"] == 0


async def test_provider_not_active_in_region(api: Api, shop: CheckoutShop) -> None:
    cart = await checkout_ready(api, shop)
    for provider in ("manual_nonexistent", "flat_tax"):
        r = await open_session(api, shop, cart, provider)
        assert r.status_code == 422, r.text
        assert r.json()["code"] == "provider_not_active"
    assert (await stock_of(shop.variant))["reserved"] == 0


async def test_complete_without_session_or_after_change(api: Api, shop: CheckoutShop) -> None:
    cart = await checkout_ready(api, shop)
    r = await api.store_call("POST", f"/store/carts/{cart['id']}/complete", shop.store)
    assert r.status_code == 422
    assert r.json()["code"] == "payment_session_required"
    r = await open_session(api, shop, cart, "fakepay")
    assert r.status_code == 201
    r = await api.store_call(
        "PATCH", f"/store/carts/{cart['id']}", shop.store, json={"email": "other@example.com"}
    )
    assert r.status_code == 200
    r = await api.store_call("POST", f"/store/carts/{cart['id']}/complete", shop.store)
    assert r.status_code == 409
    assert r.json()["code"] == "cart_changed"


async def test_expired_reservation_refuses_completion(api: Api, shop: CheckoutShop) -> None:
    from core.inventory import service as inventory

    cart = await checkout_ready(api, shop)
    r = await open_session(api, shop, cart, "fakepay")
    assert r.status_code == 201
    from datetime import UTC, datetime, timedelta

    await inventory.sweep_expired(datetime.now(UTC) + timedelta(minutes=16))
    r = await api.store_call("POST", f"/store/carts/{cart['id']}/complete", shop.store)
    assert r.status_code == 409
    assert r.json()["code"] == "reservation_expired"
    assert (await stock_of(shop.variant)) == {"on_hand": 50, "reserved": 0, "live": 0}
    orders = await fetch("SELECT id FROM orders WHERE cart_id = {}", cart["id"])
    assert orders == []


async def _cart_with_session(api: Api, shop: CheckoutShop, qty: int = 1) -> dict[str, Any]:
    cart = await checkout_ready(api, shop, qty)
    r = await open_session(api, shop, cart, "fakepay")
    assert r.status_code == 201, r.text
    return cart


async def test_a_reservation_about_to_expire_refuses_completion(
    api: Api, shop: CheckoutShop
) -> None:
    """Stock that would lapse while the provider confirms the payment is not sold on."""
    from datetime import UTC, datetime, timedelta

    from core.inventory.service import HOLD_MARGIN

    cart = await _cart_with_session(api, shop, 2)
    captures_before = len(fakes.CAPTURED)
    soon = datetime.now(UTC) + HOLD_MARGIN - timedelta(seconds=10)
    await fetch("UPDATE stock_reservations SET expires_at = {} WHERE owner = {}", soon, cart["id"])
    r = await api.store_call("POST", f"/store/carts/{cart['id']}/complete", shop.store)
    assert r.status_code == 409
    assert r.json()["code"] == "reservation_expired"
    assert len(fakes.CAPTURED) == captures_before  # refused before any money moved
    assert await fetch("SELECT id FROM orders WHERE cart_id = {}", cart["id"]) == []
    assert (await stock_of(shop.variant)) == {"on_hand": 50, "reserved": 2, "live": 2}


async def test_stock_released_while_the_provider_confirms_places_no_order(
    api: Api, shop: CheckoutShop, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import UTC, datetime, timedelta

    from core.inventory import service as inventory

    cart = await _cart_with_session(api, shop, 2)
    retrieve = fakes.FakePay.retrieve

    async def swept_meanwhile(self: fakes.FakePay, reference: str) -> Any:
        await inventory.sweep_expired(datetime.now(UTC) + timedelta(minutes=16))
        return await retrieve(self, reference)

    monkeypatch.setattr(fakes.FakePay, "retrieve", swept_meanwhile)
    r = await api.store_call("POST", f"/store/carts/{cart['id']}/complete", shop.store)
    assert r.status_code == 409
    assert r.json()["code"] == "reservation_expired"
    assert await fetch("SELECT id FROM orders WHERE cart_id = {}", cart["id"]) == []
    status = await fetch("SELECT status FROM carts WHERE id = {}", cart["id"])
    assert status == [{"status": "open"}]  # the cart's close was rolled back with the rest
    assert (await stock_of(shop.variant)) == {"on_hand": 50, "reserved": 0, "live": 0}


async def test_declined_payment_releases_stock(api: Api) -> None:
    shop = await make_checkout_shop(api, pay={"mode": "decline"})
    cart = await checkout_ready(api, shop, 3)
    r = await api.pay_and_complete(shop.store, cart["id"], "fakepay")
    assert r.status_code == 402, r.text
    assert r.json()["code"] == "payment_failed"
    assert (await stock_of(shop.variant)) == {"on_hand": 50, "reserved": 0, "live": 0}
    assert await fetch("SELECT id FROM orders WHERE cart_id = {}", cart["id"]) == []


async def test_unconfirmed_payment_is_not_an_order(api: Api) -> None:
    shop = await make_checkout_shop(api, pay={"mode": "action"})
    cart = await checkout_ready(api, shop)
    r = await open_session(api, shop, cart, "fakepay")
    assert r.status_code == 201
    assert r.json()["next_action"]["type"] == "client_secret"
    r = await api.store_call("POST", f"/store/carts/{cart['id']}/complete", shop.store)
    assert r.status_code == 409
    assert r.json()["code"] == "payment_not_confirmed"
    assert await fetch("SELECT id FROM orders WHERE cart_id = {}", cart["id"]) == []
    assert (await stock_of(shop.variant))["reserved"] == 1  # still held for the shopper


@pytest.mark.parametrize("mode", ["hang", "error"])
async def test_payment_provider_outage_is_503_and_holds_nothing(api: Api, mode: str) -> None:
    shop = await make_checkout_shop(api, pay={"mode": mode})
    cart = await checkout_ready(api, shop)
    r = await open_session(api, shop, cart, "fakepay")
    assert r.status_code == 503, r.text
    assert r.headers["retry-after"]
    assert r.json()["code"] == "provider_unavailable"
    assert (await stock_of(shop.variant))["reserved"] == 0
    assert await fetch("SELECT id FROM payments WHERE cart_id = {}", cart["id"]) == []


# ---------------------------------------------------------------------------
# Idempotency
# ---------------------------------------------------------------------------


async def test_idempotent_completion_under_concurrency(api: Api, shop: CheckoutShop) -> None:
    cart = await checkout_ready(api, shop)
    r = await open_session(api, shop, cart, "fakepay")
    assert r.status_code == 201
    captures_before = len(fakes.CAPTURED)
    key = {"Idempotency-Key": f"complete-{cart['id']}"}
    url = f"/store/carts/{cart['id']}/complete"
    first = await asyncio.gather(
        *[api.store_call("POST", url, shop.store, headers=key) for _ in range(50)]
    )
    codes = sorted({r.status_code for r in first})
    assert set(codes) <= {201, 409}, [r.text for r in first if r.status_code not in (201, 409)]
    winners = [r for r in first if r.status_code == 201]
    assert winners
    for r in first:
        if r.status_code == 409:
            assert r.json()["code"] in ("idempotency_in_flight", "cart_not_open")
    later = [await api.store_call("POST", url, shop.store, headers=key) for _ in range(50)]
    assert all(r.status_code == 201 for r in later)
    assert len({r.content for r in later + winners}) == 1  # byte for byte
    assert all(r.headers.get("idempotent-replayed") == "true" for r in later)
    orders = await fetch("SELECT id FROM orders WHERE cart_id = {}", cart["id"])
    assert len(orders) == 1
    assert len(fakes.CAPTURED) - captures_before == 1


@pytest.mark.parametrize(
    ("provider", "status", "stock", "holder"),
    [
        ("manual", "pending", {"on_hand": 50, "reserved": 2, "live": 2}, "active"),
        ("fakepay", "paid", {"on_hand": 48, "reserved": 0, "live": 0}, "committed"),
    ],
)
async def test_concurrent_completions_without_keys_place_one_order(
    api: Api, shop: CheckoutShop, provider: str, status: str, stock: dict[str, int], holder: str
) -> None:
    """Twenty completions of one cart at once, no Idempotency-Key: one order, the others
    a clear 409, the stock held (or sold) once, by the order."""
    if provider == "manual":
        await api.activate(shop.store, "eu", "payment", "manual")
    cart = await checkout_ready(api, shop, 2)
    r = await open_session(api, shop, cart, provider)
    assert r.status_code == 201, r.text
    url = f"/store/carts/{cart['id']}/complete"
    answers = await asyncio.gather(*[api.store_call("POST", url, shop.store) for _ in range(20)])
    assert sorted(r.status_code for r in answers) == [201] + [409] * 19, [
        r.text for r in answers if r.status_code not in (201, 409)
    ]
    codes = {r.json()["code"] for r in answers if r.status_code == 409}
    assert codes <= {"cart_changed", "cart_not_open", "reservation_expired"}
    orders = await fetch("SELECT id, status FROM orders WHERE cart_id = {}", cart["id"])
    assert [order["status"] for order in orders] == [status]
    assert (await stock_of(shop.variant)) == stock
    owners = await fetch(
        "SELECT owner FROM stock_reservations WHERE state = {} AND variant = {}",
        holder,
        shop.variant,
    )
    assert [row["owner"] for row in owners] == [orders[0]["id"]]


async def test_idempotency_key_with_another_body_or_store(api: Api, shop: CheckoutShop) -> None:
    cart = await checkout_ready(api, shop)
    key = {"Idempotency-Key": f"session-{cart['id']}"}
    url = f"/store/carts/{cart['id']}/payment-sessions"
    r1 = await api.store_call("POST", url, shop.store, headers=key, json={"provider": "fakepay"})
    assert r1.status_code == 201
    r2 = await api.store_call("POST", url, shop.store, headers=key, json={"provider": "fakepay"})
    assert r2.content == r1.content
    r3 = await api.store_call(
        "POST",
        url,
        shop.store,
        headers=key,
        json={"provider": "fakepay", "return_url": "https://shop.example/back"},
    )
    assert r3.status_code == 422
    assert r3.json()["code"] == "idempotency_key_reused"
    payments = await fetch("SELECT id FROM payments WHERE cart_id = {}", cart["id"])
    assert len(payments) == 1
    other = await make_checkout_shop(api)
    other_cart = await checkout_ready(api, other)
    r4 = await api.store_call(
        "POST",
        f"/store/carts/{other_cart['id']}/payment-sessions",
        other.store,
        headers=key,
        json={"provider": "fakepay"},
    )
    assert r4.status_code == 201  # the same key in another store is another key
    r5 = await api.store_call(
        "POST",
        url,
        shop.store,
        headers={"Idempotency-Key": "has spaces " * 3},
        json={"provider": "fakepay"},
    )
    assert r5.status_code == 400


@pytest.mark.parametrize("provider", ["manual", "fakepay"])
async def test_answers_are_saved_in_the_commit_of_their_work(
    api: Api, shop: CheckoutShop, monkeypatch: pytest.MonkeyPatch, provider: str
) -> None:
    """A payment session and an order are saved under their Idempotency-Key in their own
    commit: a database lost right after it (a key's answer saved apart fails) loses
    neither answer, and retries get them back byte for byte."""
    if provider == "manual":
        await api.activate(shop.store, "eu", "payment", "manual")
    cart = await checkout_ready(api, shop)
    write = idempotency.write

    async def lost(sql: str, *args: Any) -> list[dict[str, Any]]:
        if sql.startswith("UPDATE idempotency_keys SET state = 'done'"):
            raise ConnectionError("the database went away")
        return await write(sql, *args)

    monkeypatch.setattr(idempotency, "write", lost)
    calls = [
        (f"/store/carts/{cart['id']}/payment-sessions", {"provider": provider}, "session"),
        (f"/store/carts/{cart['id']}/complete", None, "complete"),
    ]
    for url, body, name in calls:
        key = {"Idempotency-Key": f"{name}-{cart['id']}"}
        first = await api.store_call("POST", url, shop.store, headers=key, json=body)
        assert first.status_code == 201, first.text
        again = await api.store_call("POST", url, shop.store, headers=key, json=body)
        assert again.status_code == 201, again.text
        assert again.headers.get("idempotent-replayed") == "true"
        assert again.content == first.content
    orders = await fetch("SELECT id FROM orders WHERE cart_id = {}", cart["id"])
    assert len(orders) == 1


# ---------------------------------------------------------------------------
# Races
# ---------------------------------------------------------------------------


async def _ready(
    api: Api, shop: CheckoutShop, lines: list[tuple[str, int]]
) -> dict[str, Any] | httpx.Response:
    """A cart holding ``lines`` with its shipping method chosen, or the answer that
    refused one of the steps."""
    cart = await api.ready_cart(shop.store, [(v, 1) for v, _ in lines[:1]])
    for variant, qty in lines[1:]:
        r = await api.store_call(
            "POST",
            f"/store/carts/{cart['id']}/lines",
            shop.store,
            json={"variant_id": variant, "quantity": qty},
        )
        if r.status_code != 201:
            return r
    if lines[0][1] > 1:
        line_id = cart["lines"][0]["id"]
        r = await api.store_call(
            "PATCH",
            f"/store/carts/{cart['id']}/lines/{line_id}",
            shop.store,
            json={"quantity": lines[0][1]},
        )
        if r.status_code != 200:
            return r
    r = await api.store_call(
        "PUT",
        f"/store/carts/{cart['id']}/shipping-method",
        shop.store,
        json={"provider": "flat_ship", "option_id": "standard"},
    )
    assert r.status_code == 200, r.text
    return cart


async def _attempt(api: Api, shop: CheckoutShop, lines: list[tuple[str, int]]) -> httpx.Response:
    cart = await _ready(api, shop, lines)
    if isinstance(cart, httpx.Response):
        return cart
    return await api.pay_and_complete(shop.store, cart["id"], "fakepay")


async def test_last_units_race(api: Api) -> None:
    shop = await make_checkout_shop(api, stock=10)
    # 200 carts of the last 10 units, then their 200 checkouts at once.
    carts = await asyncio.gather(*[_ready(api, shop, [(shop.variant, 1)]) for _ in range(200)])
    results = await asyncio.gather(
        *[
            api.pay_and_complete(shop.store, cart["id"], "fakepay")
            for cart in carts
            if isinstance(cart, dict)
        ]
    )
    assert len(results) == 200
    codes = [r.status_code for r in results]
    assert codes.count(201) == 10, sorted(set(codes))
    assert codes.count(409) == 190
    assert all(r.json()["code"] == "insufficient_stock" for r in results if r.status_code == 409)
    stock = await stock_of(shop.variant)
    assert stock == {"on_hand": 0, "reserved": 0, "live": 0}
    orders = await fetch(
        'SELECT COUNT(*) AS n FROM orders o JOIN order_lines l ON l."order" = o.id '
        "WHERE l.variant_id = {}",
        shop.variant,
    )
    assert orders[0]["n"] == 10


async def test_mixed_concurrent_carts_never_oversell(api: Api) -> None:
    shop = await make_checkout_shop(api, stock=10)
    second = await api.add_variant_product(shop.store, {"EUR": 900, "USD": 1000})
    await api.stock(shop.store, second, shop.warehouse, 10)
    plans = [
        [(shop.variant, 6)],
        [(shop.variant, 6)],
        [(second, 3), (shop.variant, 2)],
        [(shop.variant, 1), (second, 4)],
    ] * 25
    results = await asyncio.gather(*[_attempt(api, shop, plan) for plan in plans])
    assert all(r.status_code in (201, 409) for r in results), {r.status_code for r in results}
    for variant in (shop.variant, second):
        stock = await stock_of(variant)
        assert stock["reserved"] == stock["live"] == 0
        assert stock["on_hand"] >= 0
        sold = await fetch(
            "SELECT COALESCE(SUM(l.quantity), 0) AS q FROM order_lines l WHERE l.variant_id = {}",
            variant,
        )
        assert int(sold[0]["q"]) + stock["on_hand"] == 10
