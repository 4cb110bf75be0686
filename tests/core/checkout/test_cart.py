"""Carts through the storefront API: lines, addresses, shipping and the totals pipeline."""

from __future__ import annotations

from typing import Any

import pytest

from core.plugins.testing.api import Api, address
from tests.factories.checkout import CheckoutShop, make_checkout_shop


def assert_identities(cart: dict[str, Any]) -> None:
    """The money identities every cart and order must satisfy."""
    inclusive = cart["region"]["tax_inclusive"] if "region" in cart else cart["tax_inclusive"]
    tax_added = 0 if inclusive else cart["tax_total"]
    assert (
        cart["subtotal"] - cart["discount_total"] + cart["shipping_total"] + tax_added
        == cart["total"]
    )
    assert cart["subtotal"] == sum(line["subtotal"] for line in cart["lines"])
    for line in cart["lines"]:
        assert line["subtotal"] == line["unit_price"] * line["quantity"]
        net = line["subtotal"] - line["discount"]
        assert line["total"] == (net if inclusive else net + line["tax"])
    for key in ("subtotal", "discount_total", "shipping_total", "tax_total", "total"):
        assert isinstance(cart[key], int)
        assert cart[key] >= 0


async def test_cart_is_priced_in_the_region_with_tax_included(api: Api, shop: CheckoutShop) -> None:
    cart = await api.cart(shop.store, [(shop.variant, 2)])
    assert cart["currency"] == "EUR"
    assert cart["lines"][0]["unit_price"] == 2500
    assert cart["subtotal"] == 5000
    # 20 % contained in 5000: 5000 - 5000/1.2 = 833.33 → 833
    assert cart["tax_total"] == 833
    assert cart["total"] == 5000
    assert cart["formatted"]["total"].startswith("€") or "€" in cart["formatted"]["total"]
    assert_identities(cart)


async def test_tax_is_added_in_a_tax_exclusive_region(api: Api, shop: CheckoutShop) -> None:
    cart = await api.cart(shop.store, [(shop.variant, 3)], region="us")
    assert cart["currency"] == "USD"
    assert cart["subtotal"] == 3 * 2800
    assert cart["tax_total"] == 1680
    assert cart["total"] == 8400 + 1680
    assert_identities(cart)


async def test_lines_merge_update_and_remove(api: Api, shop: CheckoutShop) -> None:
    cart = await api.cart(shop.store, [(shop.variant, 1)])
    r = await api.store_call(
        "POST",
        f"/store/carts/{cart['id']}/lines",
        shop.store,
        json={"variant_id": shop.variant, "quantity": 2},
    )
    assert r.status_code == 201, r.text
    cart = r.json()
    assert len(cart["lines"]) == 1
    assert cart["lines"][0]["quantity"] == 3
    line_id = cart["lines"][0]["id"]
    r = await api.store_call(
        "PATCH", f"/store/carts/{cart['id']}/lines/{line_id}", shop.store, json={"quantity": 5}
    )
    assert r.status_code == 200, r.text
    assert r.json()["subtotal"] == 5 * 2500
    r = await api.store_call("DELETE", f"/store/carts/{cart['id']}/lines/{line_id}", shop.store)
    assert r.status_code == 200, r.text
    assert r.json()["lines"] == []
    assert r.json()["total"] == 0


async def test_shipping_options_and_method_enter_the_totals(api: Api, shop: CheckoutShop) -> None:
    cart = await api.ready_cart(shop.store, [(shop.variant, 1)])
    r = await api.store_call("GET", f"/store/carts/{cart['id']}/shipping-options", shop.store)
    assert r.status_code == 200, r.text
    options = r.json()
    assert [o["option_id"] for o in options] == ["standard", "express"]
    r = await api.store_call(
        "PUT",
        f"/store/carts/{cart['id']}/shipping-method",
        shop.store,
        json={"provider": "flat_ship", "option_id": "express"},
    )
    assert r.status_code == 200, r.text
    cart = r.json()
    assert cart["shipping_total"] == 1290
    assert cart["shipping_method"]["name"] == "Express"
    # tax included in goods and shipping: 2500 → 417, 1290 → 215
    assert cart["tax_total"] == 417 + 215
    assert cart["total"] == 2500 + 1290
    assert_identities(cart)


async def test_unknown_shipping_option_is_refused(api: Api, shop: CheckoutShop) -> None:
    cart = await api.ready_cart(shop.store, [(shop.variant, 1)])
    r = await api.store_call(
        "PUT",
        f"/store/carts/{cart['id']}/shipping-method",
        shop.store,
        json={"provider": "flat_ship", "option_id": "teleport"},
    )
    assert r.status_code == 422
    assert r.json()["code"] == "shipping_option_unavailable"


async def test_address_outside_the_region_is_refused(api: Api, shop: CheckoutShop) -> None:
    cart = await api.cart(shop.store, [(shop.variant, 1)])
    r = await api.store_call(
        "PATCH",
        f"/store/carts/{cart['id']}",
        shop.store,
        json={"shipping_address": address("US")},
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "shipping_address.country"
    assert r.json()["errors"][0]["code"] == "country_not_served"


@pytest.mark.parametrize("quantity", [0, -1, 1000, 2**63, 1e309, "1", None, 1.5], ids=repr)
async def test_bad_quantities_are_refused_and_write_nothing(
    api: Api, shop: CheckoutShop, quantity: Any
) -> None:
    cart = await api.cart(shop.store, [(shop.variant, 1)])
    r = await api.store_call(
        "POST",
        f"/store/carts/{cart['id']}/lines",
        shop.store,
        content=f'{{"variant_id": "{shop.variant}", "quantity": {_json(quantity)}}}',
        headers={"content-type": "application/json"},
    )
    assert 400 <= r.status_code < 500, r.text
    after = (await api.store_call("GET", f"/store/carts/{cart['id']}", shop.store)).json()
    assert after["lines"][0]["quantity"] == 1
    assert after["version"] == cart["version"]


def _json(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return f'"{value}"'
    if value == 1e309:
        return "1e309"
    return str(value)


@pytest.mark.parametrize(
    "field", ["unit_price", "total", "subtotal", "status", "tax_total", "store_id", "paid_at"]
)
async def test_tampered_fields_are_refused(api: Api, shop: CheckoutShop, field: str) -> None:
    cart = await api.cart(shop.store, [(shop.variant, 1)])
    r = await api.store_call("PATCH", f"/store/carts/{cart['id']}", shop.store, json={field: 1})
    assert r.status_code == 422
    r = await api.store_call(
        "POST",
        f"/store/carts/{cart['id']}/lines",
        shop.store,
        json={"variant_id": shop.variant, "quantity": 1, field: 1},
    )
    assert r.status_code == 422
    after = (await api.store_call("GET", f"/store/carts/{cart['id']}", shop.store)).json()
    assert after["total"] == cart["total"]
    assert after["version"] == cart["version"]


async def test_variant_not_sold_in_region_or_out_of_stock(api: Api, shop: CheckoutShop) -> None:
    eur_only = await api.add_variant_product(shop.store, {"EUR": 1000})
    await api.stock(shop.store, eur_only, shop.warehouse, 5)
    r = await api.store_call(
        "POST",
        "/store/carts",
        shop.store,
        json={"region": "us", "lines": [{"variant_id": eur_only, "quantity": 1}]},
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["code"] == "variant_unavailable"
    r = await api.store_call(
        "POST",
        "/store/carts",
        shop.store,
        json={"region": "eu", "lines": [{"variant_id": eur_only, "quantity": 6}]},
    )
    assert r.status_code == 409
    assert r.json()["code"] == "insufficient_stock"


async def test_adding_a_line_checks_its_variant_and_stock(api: Api, shop: CheckoutShop) -> None:
    """A line added to a cart: its variant must be for sale in the cart's region and its
    merged quantity in stock (unless sold on backorder); a refusal changes nothing."""
    eur_only = await api.add_variant_product(shop.store, {"EUR": 1000})
    await api.stock(shop.store, eur_only, shop.warehouse, 5)
    other = await make_checkout_shop(api)
    cart = await api.cart(shop.store, [(shop.variant, 1)])
    us_cart = await api.cart(shop.store, [(shop.variant, 1)], region="us")

    async def add(cart_id: str, variant_id: str, quantity: int) -> Any:
        return await api.store_call(
            "POST",
            f"/store/carts/{cart_id}/lines",
            shop.store,
            json={"variant_id": variant_id, "quantity": quantity},
        )

    r = await add(cart["id"], eur_only, 2)
    assert r.status_code == 201, r.text
    before = r.json()
    assert [line["quantity"] for line in before["lines"]] == [1, 2]
    r = await add(cart["id"], eur_only, 4)  # 2 + 4 > 5 in stock
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "insufficient_stock", r.text
    for variant_id, cart_id in [(other.variant, cart["id"]), (eur_only, us_cart["id"])]:
        r = await add(cart_id, variant_id, 1)  # another store's; no price in USD
        assert r.status_code == 422, r.text
        assert r.json()["errors"] == [
            {
                "field": "variant_id",
                "code": "variant_unavailable",
                "message": r.json()["errors"][0]["message"],
            }
        ]
    r = await api.store_call("GET", f"/store/carts/{cart['id']}", shop.store)
    assert r.json() == before
    r = await api.request(
        "PATCH",
        f"/admin/variants/{eur_only}/inventory",
        shop.store.token,
        json={"allow_backorder": True},
    )
    assert r.status_code == 200, r.text
    r = await add(cart["id"], eur_only, 40)  # sold on backorder: beyond the stock
    assert r.status_code == 201, r.text
    assert [line["quantity"] for line in r.json()["lines"]] == [1, 42]


async def test_another_stores_cart_is_not_found(api: Api, shop: CheckoutShop) -> None:
    other = await make_checkout_shop(api)
    cart = await api.cart(shop.store, [(shop.variant, 1)])
    for method, path, body in [
        ("GET", f"/store/carts/{cart['id']}", None),
        ("PATCH", f"/store/carts/{cart['id']}", {"email": "x@example.com"}),
        ("POST", f"/store/carts/{cart['id']}/lines", {"variant_id": other.variant, "quantity": 1}),
        ("POST", f"/store/carts/{cart['id']}/payment-sessions", {"provider": "fakepay"}),
        ("POST", f"/store/carts/{cart['id']}/complete", None),
    ]:
        r = await api.store_call(method, path, other.store, json=body)
        assert r.status_code == 404, (method, path, r.text)
        assert r.json()["code"] == "cart_not_found"


@pytest.mark.parametrize("mode", ["raise", "hang", "negative", "missing"])
async def test_a_failing_tax_provider_fails_closed(
    api: Api, mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    shop = await make_checkout_shop(api, tax={"mode": mode})
    r = await api.store_call(
        "POST",
        "/store/carts",
        shop.store,
        json={"region": "eu", "lines": [{"variant_id": shop.variant, "quantity": 1}]},
    )
    assert r.status_code == 503, r.text
    assert r.headers["retry-after"]
    assert r.json()["code"] in ("provider_unavailable", "provider_bad_answer")
    # Logged with the provider and the plugin it comes from.
    assert "tax provider flat_tax (plugin tests)" in caplog.text
