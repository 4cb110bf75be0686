"""The demo seed on the shared test database, checked through the real HTTP API.

Each test seeds its own store (``seed_demo(handle=…)``), so a ``demo`` store
left by another test (or by ``caravan demo``) does not matter.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import msgspec
import pytest

from core.app.demo import (
    DemoCredentials,
    credentials_path,
    display_url,
    read_credentials,
    seed_demo,
)
from core.kernel.settings import Settings
from core.plugins.testing.api import Api, StoreHandle, place_order, unique


async def _all(api: Api, path: str, token: str) -> list[dict[str, Any]]:
    """Every item of an admin listing, following cursors."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 100, **({"cursor": cursor} if cursor else {})}
        r = await api.request("GET", path, token, params=params)
        assert r.status_code == 200, r.text
        items += r.json()["items"]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            return items


async def _shop(api: Api, key: str, path: str, **params: str) -> Any:
    r = await api.client.get(path, headers={"X-Publishable-Key": key}, params=params)
    assert r.status_code == 200, r.text
    return r.json()


async def _counts(api: Api, credentials: DemoCredentials) -> dict[str, int]:
    token = credentials.stores[0].admin_token
    return {
        path: len(await _all(api, f"/admin/{path}", token))
        for path in ("regions", "storefronts", "collections", "products")
    }


async def _seed(
    api: Api, settings: Settings, handle: str, path: Path, lines: list[str] | None = None
) -> DemoCredentials:
    say = lines.append if lines is not None else None
    return await seed_demo(
        say, settings=settings, handle=handle, credentials_file=path, api=api.client
    )


async def test_seed_creates_the_demo_store(api: Api, settings: Settings, tmp_path: Path) -> None:
    handle = unique("demo")
    path = tmp_path / "creds.json"
    lines: list[str] = []
    credentials = await _seed(api, settings, handle, path, lines)

    [store] = credentials.stores
    assert store.handle == handle
    assert store.name == "Caravan Demo Outfitters"
    assert credentials.operator_token.startswith("op_")
    assert store.admin_token.startswith("sk_")
    [storefront] = store.storefronts
    assert storefront.name == "Web"
    assert storefront.publishable_key.startswith("pk_")
    assert credentials.database == display_url(settings.database_url)
    assert any(line.startswith(f"store {handle}: created") for line in lines)
    assert "catalog: 3 collections, 12 products (12 new)" in lines

    r = await api.request("GET", "/admin/store", store.admin_token)
    assert r.status_code == 200, r.text
    own = r.json()
    assert (own["id"], own["name"], own["base_currency"], own["home_country"]) == (
        store.id,
        "Caravan Demo Outfitters",
        "EUR",
        "DE",
    )
    assert own["default_locale"] == "en"
    r = await api.request("GET", f"/admin/stores/{store.id}", credentials.operator_token)
    assert r.status_code == 200, r.text

    regions = await _shop(api, storefront.publishable_key, "/store/regions")
    assert [
        (r["code"], r["currency"], r["countries"], r["locales"], r["tax_inclusive"])
        for r in regions
    ] == [
        ("eu", "EUR", ["DE", "FR", "AT", "NL", "BE", "ES", "IT", "IE"], ["de", "fr", "en"], True),
        ("us", "USD", ["US"], ["en"], False),
        ("sea", "SGD", ["SG", "MY", "ID", "TH"], ["en", "zh_Hans", "id"], False),
    ]
    [web] = await _all(api, "/admin/storefronts", store.admin_token)
    eu = next(r for r in await _all(api, "/admin/regions", store.admin_token) if r["code"] == "eu")
    assert web["cors_origins"] == ["http://localhost:3000", "http://127.0.0.1:3000"]
    assert web["default_region"] == eu["id"]

    collections = await _all(api, "/admin/collections", store.admin_token)
    assert sorted(c["handle"] for c in collections) == ["accessories", "apparel", "bags"]
    products = await _all(api, "/admin/products", store.admin_token)
    assert len(products) == 12
    for product in products:
        assert product["status"] == "active"
        assert {"en", "de", "fr"} <= set(product["translations"])
        assert 1 <= len(product["variants"]) <= 3
        assert len(product["collection_ids"]) == 1
        for variant in product["variants"]:
            assert sorted(p["currency"] for p in variant["prices"]) == ["EUR", "SGD", "USD"]
            assert all(isinstance(p["amount"], int) and p["amount"] > 0 for p in variant["prices"])
            assert variant["weight_g"] > 0
            assert len(variant["hs_code"]) == 6
            assert variant["origin_country"]


async def test_storefront_serves_translated_prices(
    api: Api, settings: Settings, tmp_path: Path
) -> None:
    credentials = await _seed(api, settings, unique("demo"), tmp_path / "creds.json")
    key = credentials.stores[0].storefronts[0].publishable_key

    tote = await _shop(api, key, "/store/products/everyday-tote", locale="de")
    assert (tote["title"], tote["locale"]) == ("Alltags-Tasche", "de")
    assert tote["price"] == {"amount": 4900, "currency": "EUR", "formatted": "49,00\xa0€"}
    assert [v["sku"] for v in tote["variants"]] == ["CDO-TOTE-SAND", "CDO-TOTE-BLACK"]

    tote = await _shop(api, key, "/store/products/everyday-tote", region="sea", locale="zh_Hans")
    assert tote["title"] == "日常托特包"
    assert (tote["price"]["amount"], tote["price"]["currency"]) == (7200, "SGD")

    tote = await _shop(api, key, "/store/products/everyday-tote", region="us")
    assert (tote["title"], tote["price"]["amount"], tote["price"]["currency"]) == (
        "Everyday Tote",
        5400,
        "USD",
    )
    page = await _shop(api, key, "/store/products", region="us", collection="bags", limit="50")
    assert sorted(p["handle"] for p in page["items"]) == [
        "city-backpack",
        "everyday-tote",
        "leather-crossbody",
        "weekender-duffel",
    ]


async def test_second_run_changes_nothing(api: Api, settings: Settings, tmp_path: Path) -> None:
    handle, path = unique("demo"), tmp_path / "creds.json"
    first = await _seed(api, settings, handle, path)
    before = await _counts(api, first)
    saved = path.read_bytes()
    lines: list[str] = []

    second = await _seed(api, settings, handle, path, lines)

    assert second == first
    assert (
        await _counts(api, second)
        == before
        == {
            "regions": 3,
            "storefronts": 1,
            "collections": 3,
            "products": 12,
        }
    )
    assert path.read_bytes() == saved
    assert "catalog: 3 collections, 12 products (0 new)" in lines
    assert not any("created" in line or "minted" in line for line in lines)


async def test_credentials_file_is_private_and_readable(
    settings: Settings, api: Api, tmp_path: Path
) -> None:
    path = tmp_path / "creds.json"
    credentials = await _seed(api, settings, unique("demo"), path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert await read_credentials(path) == credentials
    assert msgspec.json.decode(path.read_bytes())["stores"][0]["id"] == credentials.stores[0].id


@pytest.mark.parametrize("damage", ["deleted", "garbage", "other database"])
async def test_lost_secrets_are_replaced(
    api: Api, settings: Settings, tmp_path: Path, damage: str
) -> None:
    handle, path = unique("demo"), tmp_path / "creds.json"
    first = await _seed(api, settings, handle, path)
    before = await _counts(api, first)
    if damage == "deleted":
        path.unlink()
    elif damage == "garbage":
        path.write_text("{not json")
    else:
        path.write_bytes(
            msgspec.json.encode(msgspec.structs.replace(first, database="sqlite:///elsewhere.db"))
        )
    lines: list[str] = []

    second = await _seed(api, settings, handle, path, lines)

    old, new = first.stores[0], second.stores[0]
    assert new.id == old.id
    assert new.storefronts[0].id == old.storefronts[0].id
    assert second.operator_token != first.operator_token
    assert new.admin_token != old.admin_token
    assert new.storefronts[0].publishable_key != old.storefronts[0].publishable_key
    assert await read_credentials(path) == second
    assert await _counts(api, second) == before
    assert f"store {handle}: present ({old.id}); minted a new staff token" in lines
    # The rotated key replaces the old one; the new secrets work.
    r = await api.client.get(
        "/store/regions", headers={"X-Publishable-Key": old.storefronts[0].publishable_key}
    )
    assert r.status_code == 401
    regions = await _shop(api, new.storefronts[0].publishable_key, "/store/regions")
    assert [r["code"] for r in regions] == ["eu", "us", "sea"]
    r = await api.request("GET", "/admin/store", new.admin_token)
    assert r.status_code == 200
    r = await api.request("GET", "/admin/stores", second.operator_token)
    assert r.status_code == 200


async def test_wrong_operator_token_is_replaced(
    api: Api, settings: Settings, tmp_path: Path
) -> None:
    handle, path = unique("demo"), tmp_path / "creds.json"
    first = await _seed(api, settings, handle, path)
    r = await api.request("GET", "/admin/stores", first.operator_token)
    assert r.status_code == 200
    # The store token of another store does not pass for an operator token.
    path.write_bytes(
        msgspec.json.encode(
            msgspec.structs.replace(first, operator_token=first.stores[0].admin_token)
        )
    )

    second = await _seed(api, settings, handle, path)

    assert second.operator_token.startswith("op_")
    assert second.operator_token not in (first.operator_token, first.stores[0].admin_token)
    assert second.stores == first.stores


def test_credentials_path_and_display_url(tmp_path: Path) -> None:
    sqlite = Settings(database_url=f"sqlite:///{tmp_path}/shop/caravan.db")
    assert credentials_path(sqlite) == tmp_path / "shop" / "caravan-demo.json"
    assert credentials_path(Settings(database_url="sqlite:///caravan.db")) == Path(
        "caravan-demo.json"
    )
    postgres = Settings(database_url="postgresql://shop:s3cret@db.internal:5432/caravan")
    assert credentials_path(postgres, "demo-2") == Path("caravan-demo-2.json")
    assert display_url(postgres.database_url) == "postgresql://shop@db.internal:5432/caravan"
    assert display_url("postgresql://postgres@127.0.0.1/x") == "postgresql://postgres@127.0.0.1/x"


# ---------------------------------------------------------------------------
# What a full order needs
# ---------------------------------------------------------------------------


async def _demo_store(
    api: Api, settings: Settings, tmp_path: Path
) -> tuple[DemoCredentials, StoreHandle]:
    """A freshly seeded demo store, as the test helpers' store handle."""
    credentials = await _seed(api, settings, unique("demo"), tmp_path / "creds.json")
    store = credentials.stores[0]
    regions = {r["code"]: r for r in await _all(api, "/admin/regions", store.admin_token)}
    handle = StoreHandle(
        id=store.id,
        handle=store.handle,
        token=store.admin_token,
        regions=regions,
        publishable_key=store.storefronts[0].publishable_key,
    )
    return credentials, handle


async def _variant(api: Api, store: StoreHandle, product: str) -> str:
    r = await api.shop(f"/store/products/{product}", store)
    assert r.status_code == 200, r.text
    return str(r.json()["variants"][0]["id"])


async def test_seed_stocks_every_variant_in_a_warehouse_serving_every_region(
    api: Api, settings: Settings, tmp_path: Path
) -> None:
    _, store = await _demo_store(api, settings, tmp_path)

    [warehouse] = await _all(api, "/admin/warehouses", store.token)
    assert (warehouse["code"], warehouse["name"], warehouse["country"]) == (
        "berlin",
        "Berlin",
        "DE",
    )
    for region in store.regions.values():
        r = await api.request("GET", f"/admin/regions/{region['id']}/warehouses", store.token)
        assert r.status_code == 200, r.text
        assert [w["id"] for w in r.json()["warehouses"]] == [warehouse["id"]]
    variants = [
        v["id"] for p in await _all(api, "/admin/products", store.token) for v in p["variants"]
    ]
    assert len(variants) == 25
    for variant_id in variants:
        r = await api.request("GET", f"/admin/variants/{variant_id}/inventory", store.token)
        assert r.status_code == 200, r.text
        [level] = r.json()["levels"]
        assert (level["warehouse_id"], level["on_hand"], level["reserved"]) == (
            warehouse["id"],
            100,
            0,
        )


async def test_seed_activates_the_builtin_providers_in_every_region(
    api: Api, settings: Settings, tmp_path: Path
) -> None:
    _, store = await _demo_store(api, settings, tmp_path)

    for code, region in store.regions.items():
        r = await api.request("GET", f"/admin/regions/{region['id']}/providers", store.token)
        assert r.status_code == 200, r.text
        active = {(a["kind"], a["code"]): a for a in r.json()}
        assert set(active) == {
            ("payment", "manual"),
            ("tax", "rate_table"),
            ("shipping", "table_rate"),
        }
        assert all(a["enabled"] for a in active.values())
        payment = active["payment", "manual"]["config"]
        assert payment["kind"] == "bank_transfer"
        # Instructions in every language of the region.
        assert sorted(payment["instructions"]) == sorted(region["locales"])
        assert active["tax", "rate_table"]["config"] == {"tax_shipping": code == "eu"}


async def test_seed_sets_tax_rates_from_the_reference(
    api: Api, settings: Settings, tmp_path: Path
) -> None:
    _, store = await _demo_store(api, settings, tmp_path)

    rates = {
        (r["country"], r["category"]): (r["rate"], r["name"])
        for r in await _all(api, "/admin/tax-rates", store.token)
    }
    assert rates[("DE", "standard")] == ("0.19", "VAT")
    assert rates[("DE", "reduced")] == ("0.07", "VAT")
    assert rates[("FR", "standard")] == ("0.2", "VAT")
    assert rates[("FR", "reduced")] == ("0.055", "VAT")
    assert rates[("SG", "standard")] == ("0.09", "GST")
    assert rates[("MY", "standard")][0] == "0.1"
    # Every country of the Europe region has its VAT; the US none (by state, with nexus).
    assert {c for c, category in rates if category == "standard"} >= set(
        store.regions["eu"]["countries"]
    )
    assert not any(country == "US" for country, _ in rates)


async def test_seed_sets_shipping_zones_in_each_currency(
    api: Api, settings: Settings, tmp_path: Path
) -> None:
    _, store = await _demo_store(api, settings, tmp_path)

    zones = {z["name"]: z for z in await _all(api, "/admin/shipping-zones", store.token)}
    assert sorted(zones) == ["Europe", "Southeast Asia", "United States"]
    for region in store.regions.values():
        zone = zones[region["name"]]
        assert zone["countries"] == region["countries"]
        assert {r["currency"] for r in zone["rates"]} == {region["currency"]}
        assert {r["name"] for r in zone["rates"]} == {"Standard", "Express"}
        assert all(r["basis"] == "weight" for r in zone["rates"])
    standard = [r for r in zones["Europe"]["rates"] if r["name"] == "Standard"]
    assert [(r["min"], r["max"], r["amount"], r["free_above"]) for r in standard] == [
        (0, 2000, 490, 7500),
        (2000, None, 890, 7500),
    ]


@pytest.mark.parametrize(
    ("region", "country", "quantity", "expected"),
    [
        # Prices include VAT in Europe; shipping is taxed like the goods.
        ("eu", "DE", 1, {"subtotal": 4900, "shipping_total": 490, "tax_total": 860, "total": 5390}),
        ("eu", "FR", 1, {"subtotal": 4900, "shipping_total": 490, "tax_total": 899, "total": 5390}),
        # Standard shipping is free from 75 €.
        ("eu", "DE", 2, {"subtotal": 9800, "shipping_total": 0, "tax_total": 1565, "total": 9800}),
        ("us", "US", 1, {"subtotal": 5400, "shipping_total": 695, "tax_total": 0, "total": 6095}),
        (
            "sea",
            "SG",
            1,
            {"subtotal": 7200, "shipping_total": 800, "tax_total": 648, "total": 8648},
        ),
        (
            "sea",
            "MY",
            1,
            {"subtotal": 7200, "shipping_total": 800, "tax_total": 720, "total": 8720},
        ),
    ],
)
async def test_an_order_goes_through_the_demo_store(
    api: Api,
    settings: Settings,
    tmp_path: Path,
    region: str,
    country: str,
    quantity: int,
    expected: dict[str, int],
) -> None:
    _, store = await _demo_store(api, settings, tmp_path)
    tote = await _variant(api, store, "everyday-tote")

    placed = await place_order(api, store, [(tote, quantity)], region=region, country=country)

    order = placed["order"]
    assert order["status"] == "pending"
    assert order["shipping_method"]["name"] == "Standard"
    assert {k: order[k] for k in expected} == expected
    assert order["currency"] == store.regions[region]["currency"]
    r = await api.request("POST", f"/admin/orders/{order['id']}/mark-paid", store.token)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "paid"


async def test_shipping_options_and_payment_instructions_speak_the_region(
    api: Api, settings: Settings, tmp_path: Path
) -> None:
    _, store = await _demo_store(api, settings, tmp_path)
    tote = await _variant(api, store, "everyday-tote")
    cart = await api.ready_cart(store, [(tote, 1)], country="AT", locale="de")

    r = await api.store_call("GET", f"/store/carts/{cart['id']}/shipping-options", store)
    assert r.status_code == 200, r.text
    assert [(o["name"], o["amount"], o["min_days"], o["max_days"]) for o in r.json()] == [
        ("Standard", 490, 2, 4),
        ("Express", 1490, 1, 2),
    ]
    choice = {k: r.json()[0][k] for k in ("provider", "option_id")}
    r = await api.store_call(
        "PUT", f"/store/carts/{cart['id']}/shipping-method", store, json=choice
    )
    assert r.status_code == 200, r.text
    r = await api.store_call(
        "POST",
        f"/store/carts/{cart['id']}/payment-sessions",
        store,
        json={"provider": "manual"},
    )
    assert r.status_code == 201, r.text
    action = r.json()["next_action"]
    assert action["instructions"].startswith("Bitte überweisen Sie den Betrag an IBAN DE89")


async def test_second_run_keeps_stock_and_set_up(
    api: Api, settings: Settings, tmp_path: Path
) -> None:
    credentials, store = await _demo_store(api, settings, tmp_path)
    tote = await _variant(api, store, "everyday-tote")
    await place_order(api, store, [(tote, 3)])
    token = store.token
    listings = ("warehouses", "tax-rates", "shipping-zones")
    before = {path: await _all(api, f"/admin/{path}", token) for path in listings}
    lines: list[str] = []

    again = await _seed(api, settings, store.handle, tmp_path / "creds.json", lines)

    assert again == credentials
    assert {path: await _all(api, f"/admin/{path}", token) for path in listings} == before
    r = await api.request("GET", f"/admin/variants/{tote}/inventory", token)
    assert (r.json()["on_hand"] - r.json()["reserved"]) == 97  # sold units are not topped up
    for line in (
        "warehouse berlin: present",
        "stock: 25 variants, 100 units each (0 new)",
        "providers: 9 activations in 3 regions (0 new)",
        "tax rates: 19 (0 new)",
        "shipping: 3 zones, 10 rates (0 new)",
    ):
        assert line in lines
    assert not any("created" in line or "served by" in line for line in lines)


async def test_seed_serves_the_app_in_process_without_a_client(
    api: Api, settings: Settings, tmp_path: Path
) -> None:
    # What `caravan demo` does: no client given, the app is built over the open database.
    credentials = await seed_demo(
        settings=settings, handle=unique("demo"), credentials_file=tmp_path / "creds.json"
    )

    token = credentials.stores[0].admin_token
    assert [w["code"] for w in await _all(api, "/admin/warehouses", token)] == ["berlin"]
    assert len(await _all(api, "/admin/tax-rates", token)) == 19
    assert len(await _all(api, "/admin/shipping-zones", token)) == 3
    # The suite's app still answers on its own database connection.
    r = await api.request("GET", "/admin/store", token)
    assert r.status_code == 200, r.text


def test_caravan_demo_seeds_a_fresh_database_as_make_run_does(tmp_path: Path) -> None:
    """The command itself, in a process of its own (nothing of the suite configured):
    the store it creates has the default plugins, so their providers can be activated."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("CARAVAN_")}
    env["CARAVAN_DATABASE_URL"] = f"sqlite:///{tmp_path / 'fresh.db'}"
    ran = subprocess.run(  # noqa: S603
        [str(Path(sys.executable).with_name("caravan")), "demo", "--json"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr[-2000:]
    seeded = msgspec.json.decode(ran.stdout)
    assert seeded["stores"][0]["handle"] == "demo"
    assert seeded["stores"][0]["storefronts"][0]["publishable_key"].startswith("pk_")
