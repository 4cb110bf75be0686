"""The catalog through the real HTTP API: admin writes, storefront reads."""

from __future__ import annotations

from core.plugins.testing.api import Api
from tests.factories.catalog import create_product, product_body


async def count_products(api: Api, token: str) -> int:
    total, cursor = 0, None
    while True:
        params = {"limit": 100, **({"cursor": cursor} if cursor else {})}
        r = await api.request("GET", "/admin/products", token, params=params)
        assert r.status_code == 200, r.text
        total += len(r.json()["items"])
        cursor = r.json()["next_cursor"]
        if cursor is None:
            return total


async def test_create_and_read_product(api: Api) -> None:
    store = await api.ready_store()
    created = await create_product(api, store, "tote")
    assert created["handle"] == "tote"
    assert created["status"] == "active"
    assert set(created["translations"]) == {"de", "en"}
    assert [v["sku"] for v in created["variants"]] == ["TOTE-S", "TOTE-M"]
    assert created["variants"][0]["prices"] == [
        {"amount": 1299, "currency": "EUR"},
        {"amount": 2190, "currency": "SGD"},
        {"amount": 1499, "currency": "USD"},
    ]
    assert created["variants"][0]["hs_code"] == "420221"
    assert created["variants"][0]["origin_country"] == "VN"
    r = await api.request("GET", f"/admin/products/{created['id']}", store.token)
    assert r.status_code == 200
    assert r.json() == created


async def test_storefront_prices_in_region_currency_and_locale(api: Api) -> None:
    store = await api.ready_store()
    await create_product(api, store, "tote")
    r = await api.shop("/store/products", store, headers={"Accept-Language": "de-DE,de;q=0.9"})
    assert r.status_code == 200, r.text
    page = r.json()
    assert (page["region"], page["currency"], page["locale"]) == ("eu", "EUR", "de")
    [item] = page["items"]
    assert item["title"] == "tote Titel"
    assert item["locale"] == "de"
    assert item["price"] == {"amount": 1299, "currency": "EUR", "formatted": "12,99\xa0€"}
    assert [v["price"]["amount"] for v in item["variants"]] == [1299, 1399]
    assert r.headers["content-language"] == "de"

    r = await api.shop("/store/products?region=us", store)
    [item] = r.json()["items"]
    assert item["price"] == {"amount": 1499, "currency": "USD", "formatted": "$14.99"}
    # Only the variant priced in USD is sold in the US.
    assert [v["sku"] for v in item["variants"]] == ["TOTE-S"]
    assert item["title"] == "tote title"

    r = await api.shop(
        "/store/products", store, headers={"X-Region": "sea", "Accept-Language": "zh-Hans"}
    )
    [item] = r.json()["items"]
    assert item["price"]["currency"] == "SGD"
    assert item["price"]["amount"] == 2190
    # No Chinese content: falls back to the store's default locale (en).
    assert item["locale"] == "en"
    assert r.json()["locale"] == "zh_Hans"


async def test_french_falls_back_to_store_default_locale(api: Api) -> None:
    store = await api.ready_store()
    await create_product(api, store, "cap")
    r = await api.shop("/store/products/cap", store, headers={"Accept-Language": "fr"})
    assert r.status_code == 200
    body = r.json()
    assert body["locale"] == "en"
    assert body["title"] == "cap title"
    assert body["price"]["formatted"] == "12,99\xa0€"


async def test_draft_and_archived_products_are_hidden_from_storefront(api: Api) -> None:
    store = await api.ready_store()
    draft = await create_product(api, store, "draft-one", status="draft")
    await create_product(api, store, "live-one")
    r = await api.shop("/store/products", store)
    assert [p["handle"] for p in r.json()["items"]] == ["live-one"]
    r = await api.shop("/store/products/draft-one", store)
    assert r.status_code == 404
    assert r.json()["code"] == "product_not_found"
    r = await api.request(
        "PATCH", f"/admin/products/{draft['id']}", store.token, json={"status": "active"}
    )
    assert r.status_code == 200
    r = await api.shop("/store/products", store)
    assert [p["handle"] for p in r.json()["items"]] == ["live-one", "draft-one"]


async def test_etag_and_if_none_match(api: Api) -> None:
    store = await api.ready_store()
    product = await create_product(api, store, "mug")
    r = await api.shop("/store/products", store)
    etag = r.headers["etag"]
    r2 = await api.shop("/store/products", store, headers={"If-None-Match": etag})
    assert r2.status_code == 304
    assert r2.content == b""
    # A write changes the catalog version: the old ETag no longer matches.
    r = await api.request(
        "PATCH",
        f"/admin/products/{product['id']}",
        store.token,
        json={"translations": {"de": {"title": "Becher"}}},
    )
    assert r.status_code == 200
    r3 = await api.shop("/store/products", store, headers={"If-None-Match": etag})
    assert r3.status_code == 200
    assert r3.json()["items"][0]["title"] == "Becher"
    assert r3.headers["etag"] != etag
    r4 = await api.request("GET", f"/admin/products/{product['id']}", store.token)
    r5 = await api.request(
        "GET",
        f"/admin/products/{product['id']}",
        store.token,
        headers={"If-None-Match": r4.headers["etag"]},
    )
    assert r5.status_code == 304


async def test_listing_filters_sort_and_pages(api: Api) -> None:
    store = await api.ready_store()
    r = await api.request(
        "POST",
        "/admin/collections",
        store.token,
        json={
            "handle": "bags",
            "translations": {"en": {"title": "Bags"}, "de": {"title": "Taschen"}},
        },
    )
    assert r.status_code == 201, r.text
    bags = r.json()
    prices = {"alpha": 500, "bravo": 2500, "charlie": 1500, "delta": 3500, "echo": 4500}
    for handle, amount in prices.items():
        variants = [{"sku": handle.upper(), "prices": [{"amount": amount, "currency": "EUR"}]}]
        extra = {"collection_ids": [bags["id"]]} if handle in ("bravo", "delta") else {}
        await create_product(api, store, handle, options=[], variants=variants, **extra)

    async def handles(query: str) -> list[str]:
        r = await api.shop(f"/store/products?{query}", store)
        assert r.status_code == 200, r.text
        return [p["handle"] for p in r.json()["items"]]

    assert await handles("") == ["echo", "delta", "charlie", "bravo", "alpha"]
    assert await handles("sort=oldest") == ["alpha", "bravo", "charlie", "delta", "echo"]
    assert await handles("sort=price_asc") == ["alpha", "charlie", "bravo", "delta", "echo"]
    assert await handles("sort=price_desc") == ["echo", "delta", "bravo", "charlie", "alpha"]
    assert await handles("sort=handle") == ["alpha", "bravo", "charlie", "delta", "echo"]
    assert await handles("collection=bags") == ["delta", "bravo"]
    assert await handles("min_price=1500&max_price=3500&sort=price_asc") == [
        "charlie",
        "bravo",
        "delta",
    ]
    assert await handles("q=ARL") == ["charlie"]
    assert await handles("q=Titel&sort=handle&limit=2") == ["alpha", "bravo"]
    assert await handles("q=%25") == []
    assert await handles("collection=nope") == []

    for sort in ("newest", "oldest", "price_asc", "price_desc", "handle"):
        for limit in (1, 2, 4):
            seen, cursor = [], None
            while True:
                query = f"sort={sort}&limit={limit}" + (f"&cursor={cursor}" if cursor else "")
                r = await api.shop(f"/store/products?{query}", store)
                assert r.status_code == 200
                seen += [p["handle"] for p in r.json()["items"]]
                cursor = r.json()["next_cursor"]
                if cursor is None:
                    break
            assert seen == await handles(f"sort={sort}&limit=100"), (sort, limit)
            assert len(seen) == 5


async def test_storefront_collections(api: Api) -> None:
    store = await api.ready_store()
    for handle, title_de in (("shoes", "Schuhe"), ("bags", "Taschen")):
        r = await api.request(
            "POST",
            "/admin/collections",
            store.token,
            json={
                "handle": handle,
                "translations": {"en": {"title": handle.title()}, "de": {"title": title_de}},
            },
        )
        assert r.status_code == 201
    r = await api.shop("/store/collections", store, headers={"Accept-Language": "de"})
    assert [(c["handle"], c["title"]) for c in r.json()["items"]] == [
        ("bags", "Taschen"),
        ("shoes", "Schuhe"),
    ]
    r = await api.shop("/store/collections/shoes?region=us", store)
    assert r.json()["title"] == "Shoes"
    r = await api.shop("/store/collections/hats", store)
    assert r.status_code == 404


async def test_variants_lifecycle(api: Api) -> None:
    store = await api.ready_store()
    product = await create_product(api, store, "scarf")
    pid = product["id"]
    r = await api.request(
        "POST",
        f"/admin/products/{pid}/variants",
        store.token,
        json={"sku": "SCARF-X", "options": {"Size": "XL"}},
    )
    assert r.status_code == 422
    assert r.json()["errors"][0] == {
        "field": "options.Size",
        "code": "invalid_choice",
        "message": "This value is not one of the accepted choices.",
    }
    r = await api.request(
        "POST",
        f"/admin/products/{pid}/variants",
        store.token,
        json={"sku": "SCARF-S", "options": {"Size": "S"}},
    )
    assert r.status_code == 409
    assert r.json()["code"] == "sku_taken"
    r = await api.request(
        "PATCH",
        f"/admin/products/{pid}/variants/{product['variants'][1]['id']}",
        store.token,
        json={"prices": [{"amount": 999, "currency": "USD"}]},
    )
    assert r.status_code == 200
    assert r.json()["prices"] == [{"amount": 999, "currency": "USD"}]
    r = await api.request(
        "DELETE", f"/admin/products/{pid}/variants/{product['variants'][1]['id']}", store.token
    )
    assert r.status_code == 204
    r = await api.request(
        "DELETE", f"/admin/products/{pid}/variants/{product['variants'][0]['id']}", store.token
    )
    assert r.status_code == 409
    assert r.json()["code"] == "last_variant"
    r = await api.request("GET", f"/admin/products/{pid}", store.token)
    assert [v["sku"] for v in r.json()["variants"]] == ["SCARF-S"]


async def test_product_validation_writes_nothing(api: Api) -> None:
    store = await api.ready_store()
    before = await count_products(api, store.token)
    cases = [
        (
            product_body("x", translations={"de": {"title": "Nur Deutsch"}}),
            "translations",
            "default_locale_required",
        ),
        (product_body("x", price=100), "price", "unknown_field"),
        (product_body("x", status="published"), "status", "invalid_choice"),
        (product_body("Bad Handle"), "handle", "invalid_pattern"),
        (product_body("x", variants=[]), "variants", "too_short"),
        (
            product_body(
                "x", variants=[{"sku": "A", "prices": [{"amount": -1, "currency": "EUR"}]}]
            ),
            "variants[0].prices[0].amount",
            "out_of_range",
        ),
        (
            product_body(
                "x", variants=[{"sku": "A", "prices": [{"amount": 10**16, "currency": "EUR"}]}]
            ),
            "variants[0].prices[0].amount",
            "out_of_range",
        ),
        (
            product_body(
                "x", variants=[{"sku": "A", "prices": [{"amount": 1, "currency": "XXQ"}]}]
            ),
            "variants[0].prices[0].currency",
            "invalid_currency",
        ),
        (
            product_body(
                "x", variants=[{"sku": "A", "prices": [{"amount": 1.5, "currency": "EUR"}]}]
            ),
            "variants[0].prices[0].amount",
            "invalid_type",
        ),
        (product_body("x", variants=[{"sku": "A"}, {"sku": "A"}]), "variants.sku[1]", "duplicate"),
        (
            product_body("x", translations={"en": {"title": "t"}, "xx_YY": {"title": "t"}}),
            "translations.xx_YY",
            "invalid_locale",
        ),
        (
            product_body("x", translations={"en": {"title": "t" * 256}}),
            "translations[...].title",
            "too_long",
        ),
        (product_body("x", collection_ids=["col_missing"]), "collection_ids[0]", "not_found"),
        (
            product_body("x", variants=[{"sku": "A", "origin_country": "ZZ"}]),
            "variants[0].origin_country",
            "invalid_country",
        ),
    ]
    for body, field, code in cases:
        r = await api.request("POST", "/admin/products", store.token, json=body)
        assert r.status_code == 422, (field, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        fields = [(e["field"], e["code"]) for e in r.json()["errors"]]
        assert (field, code) in fields, (field, code, fields)
    assert await count_products(api, store.token) == before


async def test_duplicate_handle_is_409(api: Api) -> None:
    store = await api.ready_store()
    await create_product(api, store, "hat")
    r = await api.request("POST", "/admin/products", store.token, json=product_body("hat"))
    assert r.status_code == 409
    assert r.json()["code"] == "product_handle_taken"
    assert await count_products(api, store.token) == 1


async def test_delete_product(api: Api) -> None:
    store = await api.ready_store()
    product = await create_product(api, store, "gone")
    r = await api.request("DELETE", f"/admin/products/{product['id']}", store.token)
    assert r.status_code == 204
    r = await api.request("GET", f"/admin/products/{product['id']}", store.token)
    assert r.status_code == 404
    r = await api.shop("/store/products", store)
    assert r.json()["items"] == []
    # The SKU is free again.
    await create_product(api, store, "gone")


async def test_region_and_locale_selection_errors(api: Api) -> None:
    store = await api.ready_store()
    r = await api.shop("/store/products?region=mars", store)
    assert r.status_code == 400
    assert r.json()["code"] == "unknown_region"
    r = await api.shop("/store/products?locale=xx_YY", store)
    assert r.status_code == 422
    assert r.json()["errors"][0]["code"] == "invalid_locale"
    r = await api.client.get("/store/products", headers={"X-Publishable-Key": "pk_unknown"})
    assert r.status_code == 401
    assert r.json()["code"] == "invalid_publishable_key"
    r = await api.client.get("/store/products")
    assert r.status_code == 401


async def test_from_price_follows_variant_changes(api: Api) -> None:
    """Sorting and filtering use each product's lowest price, kept in step with edits."""
    store = await api.ready_store()
    a = await create_product(api, store, "aa")  # EUR 12.99 / 13.99
    b = await create_product(api, store, "bb")

    async def by_price(query: str = "") -> list[tuple[str, int]]:
        r = await api.shop(f"/store/products?sort=price_asc{query}", store)
        assert r.status_code == 200, r.text
        return [(p["handle"], p["price"]["amount"]) for p in r.json()["items"]]

    assert await by_price() == [("aa", 1299), ("bb", 1299)]
    cheap = b["variants"][1]["id"]
    r = await api.request(
        "PATCH",
        f"/admin/products/{b['id']}/variants/{cheap}",
        store.token,
        json={"prices": [{"amount": 500, "currency": "EUR"}]},
    )
    assert r.status_code == 200
    assert await by_price() == [("bb", 500), ("aa", 1299)]
    assert await by_price("&max_price=600") == [("bb", 500)]
    r = await api.request("DELETE", f"/admin/products/{b['id']}/variants/{cheap}", store.token)
    assert r.status_code == 204
    assert await by_price() == [("aa", 1299), ("bb", 1299)]
    r = await api.request(
        "POST",
        f"/admin/products/{a['id']}/variants",
        store.token,
        json={"sku": "AA-L", "prices": [{"amount": 20000, "currency": "EUR"}]},
    )
    assert r.status_code == 201
    assert await by_price("&sort=price_desc") == [("bb", 1299), ("aa", 1299)]
    r = await api.shop("/store/products?sort=price_desc", store)
    assert [p["handle"] for p in r.json()["items"]] == ["bb", "aa"]
    # USD: only the first variant of each has a USD price.
    r = await api.shop("/store/products?region=us&sort=price_asc&min_price=1499", store)
    assert [p["price"]["amount"] for p in r.json()["items"]] == [1499, 1499]
