"""The referral code: set on a cart by the storefront (well-formed or refused with nothing
written), frozen onto the order when it is placed."""

from __future__ import annotations

from typing import Any

import pytest

from core.db.engine import fetch
from tests.factories.affiliates import referred_order
from tests.factories.orders import OrderShop

LONGEST = "K" * 64


async def _cart(shop: OrderShop) -> dict[str, Any]:
    r = await shop.api.store_call(
        "POST",
        "/store/carts",
        shop.store,
        json={"region": "eu", "lines": [{"variant_id": shop.variants[0], "quantity": 1}]},
    )
    assert r.status_code == 201, r.text
    cart: dict[str, Any] = r.json()
    assert cart["referral_code"] is None
    return cart


async def _patch(shop: OrderShop, cart_id: str, body: Any) -> Any:
    return await shop.api.store_call("PATCH", f"/store/carts/{cart_id}", shop.store, json=body)


@pytest.mark.parametrize("code", ["ANNA10", "kol_anna-10", "7", LONGEST])
async def test_a_well_formed_code_is_kept_and_null_clears_it(shop: OrderShop, code: str) -> None:
    cart = await _cart(shop)
    r = await _patch(shop, cart["id"], {"referral_code": code})
    assert r.status_code == 200, r.text
    assert (r.json()["referral_code"], r.json()["version"]) == (code, cart["version"] + 1)
    assert r.json()["total"] == cart["total"]
    r = await shop.api.store_call("GET", f"/store/carts/{cart['id']}", shop.store)
    assert r.json()["referral_code"] == code
    # Another change leaves it alone; null clears it.
    r = await _patch(shop, cart["id"], {"email": "kol-fan@example.com"})
    assert r.json()["referral_code"] == code
    r = await _patch(shop, cart["id"], {"referral_code": None})
    assert (r.status_code, r.json()["referral_code"]) == (200, None)


@pytest.mark.parametrize(
    ("code", "problem"),
    [
        ("", "too_short"),
        (LONGEST + "K", "too_long"),
        ("anna 10", "invalid_pattern"),
        ("ánna10", "invalid_pattern"),
        ("ANNA10\n", "invalid_pattern"),
        ("anna/10", "invalid_pattern"),
        ("anna%2010", "invalid_pattern"),
        (10, "invalid_type"),
        (["ANNA10"], "invalid_type"),
    ],
)
async def test_a_malformed_code_is_422_and_writes_nothing(
    shop: OrderShop, code: Any, problem: str
) -> None:
    cart = await _cart(shop)
    r = await _patch(shop, cart["id"], {"referral_code": code, "email": "fan@example.com"})
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["code"] == "validation_failed"
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("referral_code", problem)]
    after = await shop.api.store_call("GET", f"/store/carts/{cart['id']}", shop.store)
    assert after.json() == cart
    [row] = await fetch("SELECT referral_code, email FROM carts WHERE id = {}", cart["id"])
    assert row == {"referral_code": None, "email": None}


async def test_the_code_is_frozen_onto_the_order(shop: OrderShop) -> None:
    order = await referred_order(shop, "ANNA10", paid=False)
    assert order["referral_code"] == "ANNA10"
    [row] = await fetch("SELECT referral_code FROM orders WHERE id = {}", order["id"])
    assert row["referral_code"] == "ANNA10"
    listed = await shop.admin("GET", "/admin/orders?limit=1")
    assert listed.json()["items"][0]["referral_code"] == "ANNA10"
    plain = await referred_order(shop, None, paid=False)
    assert plain["referral_code"] is None
