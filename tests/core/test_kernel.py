"""Kernel guarantees: health, OpenAPI 3.1, hashed tokens, concurrent writes."""

from __future__ import annotations

import asyncio
import sqlite3
import warnings
from typing import Any

from core.auth.tables import ApiToken
from core.db.engine import sqlite_path
from core.kernel.settings import Settings
from core.plugins.testing.api import Api
from core.stores.tables import Storefront
from tests.factories.catalog import product_body


async def test_health(api: Api) -> None:
    r = await api.client.get("/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


async def test_openapi_document(api: Api) -> None:
    r = await api.client.get("/schema/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    assert doc["openapi"].startswith("3.1")
    operation_ids = []
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if method in {"get", "post", "patch", "put", "delete"}:
                assert operation.get("operationId"), (method, path)
                assert operation.get("summary") or operation.get("description"), (method, path)
                if path.startswith(("/admin", "/store")):
                    problem = operation["responses"]["422"]["content"]["application/problem+json"]
                    assert problem["schema"] == {"$ref": "#/components/schemas/Problem"}
                operation_ids.append(operation["operationId"])
    assert len(operation_ids) == len(set(operation_ids))
    for required in (
        "/store/products",
        "/store/products/{handle}",
        "/store/collections",
        "/store/regions",
        "/admin/stores",
        "/admin/products",
        "/admin/products/{product_id}",
        "/admin/regions",
        "/admin/storefronts",
        "/admin/tokens",
    ):
        assert required in doc["paths"], required


async def test_tokens_and_keys_are_stored_hashed(api: Api) -> None:
    store = await api.ready_store()
    rows = await ApiToken.select(ApiToken.token_hash, ApiToken.token_hint).where(
        ApiToken.store == store.id
    )
    assert rows
    for row in rows:
        assert store.token not in row.values()
        assert len(row["token_hash"]) == 64
    fronts = await Storefront.select().where(Storefront.store == store.id)
    assert store.publishable_key
    for row in fronts:
        assert all(store.publishable_key != v for v in row.values())
    r = await api.request("GET", "/admin/tokens", store.token)
    assert store.token not in r.text
    assert r.json()["items"][0]["hint"].startswith("sk_")


async def test_sqlite_runs_in_wal_mode(api: Api, settings: Settings) -> None:
    if settings.engine != "sqlite":
        return  # a PostgreSQL run: nothing SQLite-specific to check
    with sqlite3.connect(sqlite_path(settings.database_url)) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_concurrent_writes_all_succeed(api: Api) -> None:
    """Twenty writers at once: every product lands once, none fails with a lock error."""
    store = await api.ready_store()

    async def create(i: int) -> Any:
        return await api.request(
            "POST", "/admin/products", store.token, json=product_body(f"busy-{i}")
        )

    responses = await asyncio.gather(*(create(i) for i in range(20)))
    assert [r.status_code for r in responses] == [201] * 20
    r = await api.request("GET", "/admin/products?limit=100", store.token)
    assert sorted(p["handle"] for p in r.json()["items"]) == sorted(f"busy-{i}" for i in range(20))


async def test_concurrent_duplicate_handles_give_one_product(api: Api) -> None:
    store = await api.ready_store()
    responses = await asyncio.gather(
        *(
            api.request(
                "POST",
                "/admin/products",
                store.token,
                json=product_body(
                    "same",
                    variants=[{"sku": f"SAME-{i}", "prices": [{"amount": 100, "currency": "EUR"}]}],
                    options=[],
                ),
            )
            for i in range(8)
        )
    )
    codes = sorted(r.status_code for r in responses)
    assert codes == [201] + [409] * 7, [
        r.text for r in responses if r.status_code not in (201, 409)
    ]
    r = await api.request("GET", "/admin/products", store.token)
    assert [p["handle"] for p in r.json()["items"]] == ["same"]


async def test_admin_listing_filters(api: Api) -> None:
    store = await api.ready_store()
    for handle, status in (("a-draft", "draft"), ("b-live", "active"), ("c-old", "archived")):
        r = await api.request(
            "POST", "/admin/products", store.token, json=product_body(handle, status=status)
        )
        assert r.status_code == 201

    async def handles(query: str) -> list[str]:
        r = await api.request("GET", f"/admin/products?{query}", store.token)
        assert r.status_code == 200, r.text
        return [p["handle"] for p in r.json()["items"]]

    assert await handles("sort=handle") == ["a-draft", "b-live", "c-old"]
    assert await handles("status=draft") == ["a-draft"]
    assert await handles("status=archived") == ["c-old"]
    assert await handles("q=live") == ["b-live"]
    assert await handles("currency=EUR&sort=price_asc") == ["a-draft", "b-live", "c-old"]
    assert await handles("currency=EUR&sort=price_desc") == ["c-old", "b-live", "a-draft"]
    assert await handles("currency=JPY&min_price=1") == []
    r = await api.request("GET", "/admin/products?sort=price_asc", store.token)
    assert r.status_code == 422
    assert r.json()["errors"] == [
        {
            "field": "currency",
            "code": "currency_required",
            "message": "Price filters and price sorting need a currency.",
        }
    ]
    r = await api.request("GET", "/admin/products?status=deleted", store.token)
    assert r.status_code == 422


async def test_nul_characters_are_refused_everywhere(api: Api) -> None:
    store = await api.ready_store()
    r = await api.request(
        "POST",
        "/admin/products",
        store.token,
        json=product_body("nul", translations={"en": {"title": "a\x00b"}}),
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "body"
    r = await api.request("GET", "/admin/products/prod%00x", store.token)
    assert r.status_code == 400
    assert r.json()["code"] == "bad_request"
    r = await api.shop("/store/products?q=a%00b", store)
    assert r.status_code == 400
    r = await api.request("GET", "/admin/products", store.token)
    assert r.json()["items"] == []
    # An escaped backslash before "u0000" is ordinary text.
    r = await api.request(
        "POST",
        "/admin/products",
        store.token,
        json=product_body("not-nul", translations={"en": {"title": "back\\u0000slash"}}),
    )
    assert r.status_code == 201
    assert r.json()["translations"]["en"]["title"] == "back\\u0000slash"


async def test_database_outage_is_503_with_retry_after() -> None:
    """A database that cannot be reached gives 503 + Retry-After, never a 500."""
    import httpx

    from core.app import create_app
    from core.db import engine as db
    from core.plugins.current import current_host

    previous = db.current()
    broken = Settings(database_url="postgresql://nobody@127.0.0.1:1/none", pool_min=0, pool_max=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Piccolo warns that it cannot read the server version
        app = create_app(broken)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://caravan.test") as client:
            r = await client.get("/store/products", headers={"X-Publishable-Key": "pk_x"})
            assert r.status_code == 503
            assert r.headers["retry-after"] == "5"
            assert r.json()["code"] == "service_unavailable"
            r = await client.get("/admin/products", headers={"Authorization": "Bearer sk_x"})
            assert r.status_code == 503
    finally:
        db.bind(previous, current_host().tables)  # back to the suite's database


async def test_shutdown_waits_for_requests_in_flight() -> None:
    from core.web.inflight import InFlight

    in_flight = InFlight()
    release = asyncio.Event()

    async def slow_app(scope: Any, receive: Any, send: Any) -> None:
        await release.wait()

    app = in_flight.middleware(slow_app)
    request = asyncio.ensure_future(app({"type": "http"}, None, None))
    await asyncio.sleep(0)
    assert in_flight.count == 1
    assert await in_flight.drained(0.05) is False
    release.set()
    assert await in_flight.drained(1.0) is True
    await request
    assert in_flight.count == 0


async def test_every_read_has_an_etag(api: Api) -> None:
    store = await api.ready_store()
    for path, headers in (
        ("/admin/regions", api.bearer(store.token)),
        ("/admin/products", api.bearer(store.token)),
        ("/store/regions", {"X-Publishable-Key": store.publishable_key or ""}),
        ("/store/products", {"X-Publishable-Key": store.publishable_key or ""}),
    ):
        first = await api.client.get(path, headers=headers)
        assert first.status_code == 200, path
        etag = first.headers["etag"]
        again = await api.client.get(path, headers={**headers, "If-None-Match": etag})
        assert again.status_code == 304, path
        assert again.content == b""
        assert again.headers["etag"] == etag
        other = await api.client.get(path, headers={**headers, "If-None-Match": '"other"'})
        assert other.status_code == 200
        assert other.content == first.content
    # A change gives a new ETag.
    before = (await api.request("GET", "/admin/regions", store.token)).headers["etag"]
    await api.add_region(
        store, code="uk", name="UK", currency="GBP", countries=["GB"], locales=["en"]
    )
    after = await api.request(
        "GET", "/admin/regions", store.token, headers={"If-None-Match": before}
    )
    assert after.status_code == 200
    assert after.headers["etag"] != before
