"""Every money identity holds on every order, in currencies with 0, 2 and 3 decimals
(JPY, EUR, KWD), tax included or added, for random prices, quantities and rates.

Two properties: one places real orders through the storefront API with the built-in
providers (few examples: each is a whole checkout), one drives the totals pipeline
(:func:`core.cart.totals.compute`) directly with many more.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.cart import totals
from core.cart.schemas import ShippingMethod
from core.cart.totals import DraftLine, PricingRegion, VariantFacts
from core.kernel.addresses import Address
from core.plugins.testing.api import Api, StoreHandle, builtin_providers, place_order
from core.tax.providers import tax_of
from tests.core.checkout import fakes as checkout_fakes

CURRENCIES = ("JPY", "EUR", "KWD")
#: ISO 4217 minor units of each currency (prices are drawn up to 10**7 minor units).
RATES = st.sampled_from(["0", "0.05", "0.07", "0.1", "0.19", "0.2", "0.0775", "0.255"])
AMOUNTS = st.integers(min_value=0, max_value=10**7)
LINES = st.lists(
    st.tuples(AMOUNTS, st.integers(min_value=1, max_value=999)), min_size=1, max_size=3
)


def assert_identities(order: dict[str, Any]) -> None:
    """The identities of one order (or priced cart), exactly."""
    inclusive = order["tax_inclusive"]
    added = 0 if inclusive else order["tax_total"]
    amounts = ["subtotal", "discount_total", "shipping_total", "shipping_tax", "tax_total", "total"]
    for key in amounts:
        assert type(order[key]) is int, (key, order[key])
        assert order[key] >= 0, (key, order[key])
    assert (
        order["subtotal"] - order["discount_total"] + order["shipping_total"] + added
        == (order["total"])
    )
    shipping_tax = 0 if inclusive else order["shipping_tax"]
    lines = order["lines"]
    assert (
        sum(line["total"] for line in lines) + order["shipping_total"] + shipping_tax
        == (order["total"])
    )
    assert sum(line["tax"] for line in lines) + order["shipping_tax"] == order["tax_total"]
    assert sum(line["subtotal"] for line in lines) == order["subtotal"]
    for line in lines:
        for key in ("unit_price", "subtotal", "discount", "tax", "total"):
            assert type(line[key]) is int, (key, line)
            assert line[key] >= 0, (key, line)
        assert line["subtotal"] == line["unit_price"] * line["quantity"]
        net = line["subtotal"] - line["discount"]
        assert line["total"] == (net if inclusive else net + line["tax"])


# ---------------------------------------------------------------------------
# Through the API, with the built-in providers
# ---------------------------------------------------------------------------

_SHOPS: dict[tuple[str, bool, str], dict[str, Any]] = {}


async def _shop(api: Api, currency: str, inclusive: bool) -> dict[str, Any]:
    """A store selling three variants in one region of ``currency`` (made once per run)."""
    key = (currency, inclusive, str(id(api.client)))
    if key not in _SHOPS:
        store = await api.create_store(base_currency=currency)
        await api.add_region(
            store,
            code="r",
            name="Region",
            currency=currency,
            countries=["DE"],
            locales=["en"],
            tax_inclusive=inclusive,
        )
        await api.add_storefront(store)
        await builtin_providers(api, store, "r", tax_rate="0.19", shipping=0)
        variants = [await api.add_variant_product(store, {currency: 100}) for _ in range(3)]
        warehouse = await api.warehouse(store, ["r"])
        for variant in variants:
            await api.stock(store, variant, warehouse, 10**6)
        listed = await api.request("GET", "/admin/products?limit=100", store.token)
        products = {p["variants"][0]["id"]: p["id"] for p in listed.json()["items"]}
        rates = await api.request("GET", "/admin/tax-rates", store.token)
        zones = await api.request("GET", "/admin/shipping-zones", store.token)
        zone = zones.json()["items"][0]
        _SHOPS[key] = {
            "store": store,
            "variants": variants,
            "products": products,
            "tax_rate": rates.json()["items"][0]["id"],
            "zone": zone["id"],
            "shipping_rate": zone["rates"][0]["id"],
        }
    return _SHOPS[key]


async def _price(api: Api, shop: dict[str, Any], prices: list[int], rate: str, ship: int) -> None:
    """Set the variants' prices, the tax rate and the shipping rate of the example."""
    store: StoreHandle = shop["store"]
    currency = store.regions["r"]["currency"]
    for variant, price in zip(shop["variants"], prices, strict=False):
        r = await api.request(
            "PATCH",
            f"/admin/products/{shop['products'][variant]}/variants/{variant}",
            store.token,
            json={"prices": [{"amount": price, "currency": currency}]},
        )
        assert r.status_code == 200, r.text
    r = await api.request(
        "PATCH", f"/admin/tax-rates/{shop['tax_rate']}", store.token, json={"rate": rate}
    )
    assert r.status_code == 200, r.text
    r = await api.request(
        "PATCH",
        f"/admin/shipping-zones/{shop['zone']}/rates/{shop['shipping_rate']}",
        store.token,
        json={"amount": ship},
    )
    assert r.status_code == 200, r.text


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    currency=st.sampled_from(CURRENCIES),
    inclusive=st.booleans(),
    lines=LINES,
    rate=RATES,
    shipping=AMOUNTS,
)
async def test_every_placed_order_satisfies_the_money_identities(
    api: Api,
    currency: str,
    inclusive: bool,
    lines: list[tuple[int, int]],
    rate: str,
    shipping: int,
) -> None:
    shop = await _shop(api, currency, inclusive)
    await _price(api, shop, [price for price, _ in lines], rate, shipping)
    wanted = [(shop["variants"][i], qty) for i, (_, qty) in enumerate(lines)]
    placed = await place_order(api, shop["store"], wanted, region="r")
    order = placed["order"]
    assert_identities(order)
    assert order["currency"] == currency
    assert order["tax_inclusive"] is inclusive
    assert order["shipping_total"] == shipping
    for line, (price, qty) in zip(order["lines"], lines, strict=True):
        assert (line["unit_price"], line["quantity"]) == (price, qty)
        assert line["tax"] == tax_of(line["subtotal"], Decimal(rate), inclusive)
    assert order["shipping_tax"] == tax_of(shipping, Decimal(rate), inclusive)
    store: StoreHandle = shop["store"]
    if order["total"] == 0:  # nothing to pay: placed paid
        assert (order["status"], order["paid_total"]) == ("paid", 0)
        return
    assert order["status"] == "pending"
    r = await api.request("POST", f"/admin/orders/{order['id']}/mark-paid", store.token)
    assert r.status_code == 200, r.text
    assert r.json()["paid_total"] == order["total"]
    assert_identities(r.json())


# ---------------------------------------------------------------------------
# The totals pipeline alone
# ---------------------------------------------------------------------------


def _facts(prices: list[int]) -> dict[str, VariantFacts]:
    return {
        f"var_{i}": VariantFacts(
            id=f"var_{i}",
            product_id=f"prod_{i}",
            sku=f"SKU{i}",
            options={},
            weight_grams=100,
            hs_code="",
            origin_country="",
            tax_category="standard",
            active=True,
            price=price,
            titles={},
        )
        for i, price in enumerate(prices)
    }


async def _compute(
    currency: str, inclusive: bool, lines: list[tuple[int, int]], rate: str, shipping: int
) -> totals.Totals:
    tax = checkout_fakes.FlatTax(checkout_fakes.FlatTax.Config(rate=rate))
    ship = checkout_fakes.FlatShipping(checkout_fakes.FlatShipping.Config(standard=shipping))

    async def active(_region_id: str, kind: str) -> list[Any]:
        return [tax] if kind == "tax" else [ship] if kind == "shipping" else []

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(totals.providers, "active", active)
        return await totals.compute(
            "store_x",
            PricingRegion(id="reg_x", currency=currency, tax_inclusive=inclusive),
            [
                DraftLine(id=f"line_{i}", variant_id=f"var_{i}", quantity=q)
                for i, (_, q) in enumerate(lines)
            ],
            _facts([price for price, _ in lines]),
            address=Address(first_name="A", last_name="B", line1="x", city="y", country="DE"),
            shipping_method=ShippingMethod(
                provider="flat_ship", option_id="standard", name="Standard", amount=0
            ),
        )


@settings(max_examples=1000, deadline=None)
@given(
    currency=st.sampled_from(CURRENCIES),
    inclusive=st.booleans(),
    lines=LINES,
    rate=RATES,
    shipping=AMOUNTS,
)
def test_the_totals_pipeline_satisfies_the_money_identities(
    currency: str, inclusive: bool, lines: list[tuple[int, int]], rate: str, shipping: int
) -> None:
    result = asyncio.run(_compute(currency, inclusive, lines, rate, shipping))
    order = {
        **{k: getattr(result, k) for k in ("subtotal", "discount_total", "shipping_total")},
        "shipping_tax": result.shipping_tax,
        "tax_total": result.tax_total,
        "total": result.total,
        "tax_inclusive": inclusive,
        "lines": [
            {
                k: getattr(line, k)
                for k in ("unit_price", "quantity", "subtotal", "discount", "tax", "total")
            }
            for line in result.lines
        ],
    }
    assert_identities(order)
    assert result.shipping_total == shipping
    for line in result.lines:
        assert line.tax == tax_of(line.subtotal, Decimal(rate), inclusive)
