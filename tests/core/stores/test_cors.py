"""Storefront CORS: origins are allowed per storefront."""

from __future__ import annotations

from core.plugins.testing.api import Api


async def test_preflight_and_per_storefront_origins(api: Api) -> None:
    a = await api.ready_store()  # allows https://shop.example
    b = await api.create_store()
    await api.add_region(b, code="uk", name="UK", currency="GBP", countries=["GB"], locales=["en"])
    await api.add_storefront(b, cors_origins=["https://brand-b.example"])

    pre = await api.client.options(
        "/store/products",
        headers={"Origin": "https://shop.example", "Access-Control-Request-Method": "GET"},
    )
    assert pre.status_code == 204
    assert pre.headers["access-control-allow-origin"] == "https://shop.example"
    assert "x-publishable-key" in pre.headers["access-control-allow-headers"]

    unknown = await api.client.options(
        "/store/products",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )
    assert unknown.status_code == 403
    assert "access-control-allow-origin" not in unknown.headers

    own = await api.shop("/store/regions", a, headers={"Origin": "https://shop.example"})
    assert own.status_code == 200
    assert own.headers["access-control-allow-origin"] == "https://shop.example"
    assert "etag" in own.headers["access-control-expose-headers"]

    # B's site may not read A's storefront answers, though its origin is known.
    cross = await api.shop("/store/regions", a, headers={"Origin": "https://brand-b.example"})
    assert cross.status_code == 200
    assert "access-control-allow-origin" not in cross.headers

    theirs = await api.shop("/store/regions", b, headers={"Origin": "https://brand-b.example"})
    assert theirs.headers["access-control-allow-origin"] == "https://brand-b.example"


async def test_admin_routes_get_no_cors_headers(api: Api) -> None:
    store = await api.ready_store()
    r = await api.request(
        "GET", "/admin/regions", store.token, headers={"Origin": "https://shop.example"}
    )
    assert r.status_code == 200
    assert "access-control-allow-origin" not in r.headers
