"""The table-rate shipping provider: the contract suite and exact quotes from the zones."""

from __future__ import annotations

from typing import Any

import pytest
from caravan_table_rate_shipping import TableRateShipping

from core.plugins import Address, ShippingLine, ShippingOption, ShippingRequest
from core.plugins.testing.api import Api, StoreHandle
from core.plugins.testing.contracts import ShippingProviderContract


class Shop(StoreHandle, kw_only=True):
    """A store with an EU zone (DE, FR, AT) and a US zone, and their rate ids by name."""

    rates: dict[str, str] = {}


EU_RATES: list[dict[str, Any]] = [
    {
        "name": "Standard",
        "amount": 490,
        "currency": "EUR",
        "max": 2_000,
        "free_above": 10_000,
        "min_days": 2,
        "max_days": 4,
    },
    {"name": "Heavy", "amount": 990, "currency": "EUR", "min": 2_000, "min_days": 3, "max_days": 6},
    {
        "name": "Express",
        "amount": 1_500,
        "currency": "EUR",
        "basis": "subtotal",
        "min_days": 1,
        "max_days": 1,
    },
    {"name": "Large order", "amount": 0, "currency": "EUR", "basis": "subtotal", "min": 50_000},
    {"name": "Standard (USD)", "amount": 600, "currency": "USD"},
]


async def make_shop(api: Api) -> Shop:
    handle = await api.create_store()
    shop = Shop(id=handle.id, handle=handle.handle, token=handle.token)
    zones = {
        "Europe": (["DE", "FR", "AT"], EU_RATES),
        "United States": (["US"], [{"name": "Ground", "amount": 800, "currency": "USD"}]),
    }
    for name, (countries, rates) in zones.items():
        r = await api.request(
            "POST", "/admin/shipping-zones", shop.token, json={"name": name, "countries": countries}
        )
        assert r.status_code == 201, r.text
        for body in rates:
            url = f"/admin/shipping-zones/{r.json()['id']}/rates"
            made = await api.request("POST", url, shop.token, json=body)
            assert made.status_code == 201, made.text
            shop.rates[str(body["name"])] = made.json()["id"]
    return shop


@pytest.fixture
async def shop(api: Api) -> Shop:
    return await make_shop(api)


def to(country: str) -> Address:
    return Address(first_name="Ada", last_name="L", line1="1 Street", city="Town", country=country)


def cart(
    shop: Shop, country: str | None, *, grams: int = 500, subtotal: int = 5_000, **extra: Any
) -> ShippingRequest:
    values: dict[str, Any] = {
        "store_id": shop.id,
        "region_id": "reg_1",
        "currency": "EUR",
        "lines": (
            ShippingLine(
                id="l1", variant_id="v1", quantity=2, amount=subtotal, weight_grams=grams // 2
            ),
        ),
        "subtotal": subtotal,
        "ship_to": to(country) if country else None,
        **extra,
    }
    return ShippingRequest(**values)


def provider() -> TableRateShipping:
    return TableRateShipping(TableRateShipping.Config())


class TestTableRateContract(ShippingProviderContract):
    @pytest.fixture
    def provider(self) -> TableRateShipping:
        return provider()

    @pytest.fixture
    def shipping_requests(self, shop: Shop) -> list[ShippingRequest]:
        return [
            cart(shop, "DE"),
            cart(shop, "FR", grams=5_000, subtotal=60_000),
            cart(shop, "US", currency="USD"),
        ]

    @pytest.fixture
    def unserved_requests(self, shop: Shop) -> list[ShippingRequest]:
        return [cart(shop, "JP"), cart(shop, None), cart(shop, "US")]  # US has no EUR rate


async def test_the_zones_rates_in_band_cheapest_first(shop: Shop) -> None:
    options = await provider().quote(cart(shop, "AT"))
    assert options == [
        ShippingOption(
            id=shop.rates["Standard"], name="Standard", amount=490, min_days=2, max_days=4
        ),
        ShippingOption(
            id=shop.rates["Express"], name="Express", amount=1_500, min_days=1, max_days=1
        ),
    ]


async def test_weight_bands_include_min_and_exclude_max(shop: Shop) -> None:
    names = [o.name for o in await provider().quote(cart(shop, "DE", grams=1_998))]
    assert names == ["Standard", "Express"]
    names = [o.name for o in await provider().quote(cart(shop, "DE", grams=2_000))]
    assert names == ["Heavy", "Express"]


async def test_free_above_the_threshold_and_value_bands(shop: Shop) -> None:
    below = await provider().quote(cart(shop, "DE", subtotal=9_999))
    assert [(o.name, o.amount) for o in below] == [("Standard", 490), ("Express", 1_500)]
    at = await provider().quote(cart(shop, "DE", subtotal=10_000))
    assert [(o.name, o.amount) for o in at] == [("Standard", 0), ("Express", 1_500)]
    large = await provider().quote(cart(shop, "DE", subtotal=50_000, grams=3_000))
    assert [(o.name, o.amount) for o in large] == [
        ("Large order", 0),
        ("Heavy", 990),
        ("Express", 1_500),
    ]


async def test_only_rates_in_the_carts_currency(shop: Shop) -> None:
    usd = await provider().quote(cart(shop, "DE", currency="USD"))
    assert [(o.name, o.amount) for o in usd] == [("Standard (USD)", 600)]
    assert await provider().quote(cart(shop, "DE", currency="SGD")) == []


async def test_no_address_or_no_zone_means_no_option(shop: Shop) -> None:
    assert await provider().quote(cart(shop, None)) == []
    assert await provider().quote(cart(shop, "CH")) == []


async def test_another_stores_zones_do_not_apply(api: Api, shop: Shop) -> None:
    other = await api.create_store()
    request = cart(shop, "DE", store_id=other.id)
    assert await provider().quote(request) == []
