"""Stores, regions, storefronts and staff tokens through the admin API, and
``GET /store/regions``: exact values, and refusals that change nothing."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from httpx import Response

from core.auth.scopes import SCOPES
from core.plugins.testing.api import Api, StoreHandle, unique
from tests.matrix_support import PROBLEM_JSON


def problem(r: Response, status: int, code: str, detail: str | None = None) -> dict[str, Any]:
    """Assert ``r`` is the problem ``code`` (with ``detail``) and return its body."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM_JSON)
    body: dict[str, Any] = r.json()
    assert (body["status"], body["code"], body["type"]) == (
        status,
        code,
        f"https://caravan.dev/problems/{code}",
    )
    if detail is not None:
        assert body["detail"] == detail
    return body


def field_errors(r: Response) -> list[tuple[str, str]]:
    problem(r, 422, "validation_failed")
    return [(e["field"], e["code"]) for e in r.json()["errors"]]


def hint(secret: str) -> str:
    return f"{secret[:3]}…{secret[-4:]}"


def when(value: str) -> datetime:
    return datetime.fromisoformat(value)


# ---------------------------------------------------------------------------
# Stores (operator)
# ---------------------------------------------------------------------------


async def test_operator_creates_a_store_with_an_owner_token(api: Api) -> None:
    handle = unique("acme")
    body = {
        "handle": handle,
        "name": "Acme Outfitters",
        "base_currency": "GBP",
        "home_country": "GB",
        "default_locale": "en-gb",
        "settings": {"support_email": "help@acme.example"},
    }
    r = await api.request("POST", "/admin/stores", api.operator_token, json=body)
    assert r.status_code == 201, r.text
    data = r.json()
    store, secret, record = data["store"], data["admin_token"], data["token"]
    assert store["id"].startswith("store_")
    assert len(store["id"]) == 32
    assert {k: v for k, v in store.items() if k not in ("id", "created_at", "updated_at")} == {
        "handle": handle,
        "name": "Acme Outfitters",
        "base_currency": "GBP",
        "home_country": "GB",
        "default_locale": "en_GB",
        "settings": {"support_email": "help@acme.example"},
    }
    assert store["created_at"] == store["updated_at"]
    assert secret.startswith("sk_")
    assert record["id"].startswith("tok_")
    assert {k: v for k, v in record.items() if k not in ("id", "created_at")} == {
        "name": "Owner",
        "kind": "secret",
        "hint": hint(secret),
        "scopes": sorted(SCOPES),
        "expires_at": None,
        "revoked_at": None,
    }
    # The operator reads the same store; the owner token reads it as its own.
    r = await api.request("GET", f"/admin/stores/{store['id']}", api.operator_token)
    assert r.json() == store
    assert (await api.request("GET", "/admin/store", secret)).json() == store


async def test_store_defaults(api: Api) -> None:
    body = {
        "handle": unique("plain"),
        "name": "Plain",
        "base_currency": "JPY",
        "home_country": "JP",
    }
    r = await api.request("POST", "/admin/stores", api.operator_token, json=body)
    assert r.status_code == 201, r.text
    assert (r.json()["store"]["default_locale"], r.json()["store"]["settings"]) == ("en", {})


async def test_store_handle_taken_is_409_and_creates_nothing(api: Api) -> None:
    store = await api.create_store()
    before = (await api.request("GET", "/admin/stores?limit=5", api.operator_token)).json()
    body = {"handle": store.handle, "name": "Copy", "base_currency": "EUR", "home_country": "FR"}
    r = await api.request("POST", "/admin/stores", api.operator_token, json=body)
    problem(r, 409, "store_handle_taken", f"A store with handle {store.handle} already exists.")
    after = (await api.request("GET", "/admin/stores?limit=5", api.operator_token)).json()
    assert after == before


async def test_operator_lists_stores_newest_first(api: Api) -> None:
    made = [await api.create_store() for _ in range(4)]
    r = await api.request("GET", "/admin/stores?limit=3", api.operator_token)
    assert r.status_code == 200
    assert [s["id"] for s in r.json()["items"]] == [s.id for s in reversed(made[1:])]
    cursor = r.json()["next_cursor"]
    r = await api.request(
        "GET", "/admin/stores", api.operator_token, params={"limit": 1, "cursor": cursor}
    )
    assert [s["id"] for s in r.json()["items"]] == [made[0].id]


async def test_operator_patches_a_store(api: Api) -> None:
    store = await api.create_store()
    created = (await api.request("GET", f"/admin/stores/{store.id}", api.operator_token)).json()
    r = await api.request(
        "PATCH",
        f"/admin/stores/{store.id}",
        api.operator_token,
        json={
            "name": "Renamed",
            "base_currency": "CHF",
            "default_locale": "de_CH",
            "settings": {"a": 1},
        },
    )
    assert r.status_code == 200, r.text
    updated = r.json()
    assert {k: updated[k] for k in ("name", "base_currency", "default_locale", "settings")} == {
        "name": "Renamed",
        "base_currency": "CHF",
        "default_locale": "de_CH",
        "settings": {"a": 1},
    }
    assert (updated["handle"], updated["home_country"]) == (
        created["handle"],
        created["home_country"],
    )
    assert updated["created_at"] == created["created_at"]
    assert when(updated["updated_at"]) > when(created["updated_at"])
    # An empty patch changes nothing but the timestamp.
    r = await api.request("PATCH", "/admin/store", store.token, json={})
    assert {k: v for k, v in r.json().items() if k != "updated_at"} == {
        k: v for k, v in updated.items() if k != "updated_at"
    }


async def test_unknown_store_is_404(api: Api) -> None:
    for method, body in (("GET", None), ("PATCH", {"name": "x"})):
        r = await api.request(method, "/admin/stores/store_nope", api.operator_token, json=body)
        problem(r, 404, "store_not_found", "No store with id store_nope exists.")
    r = await api.request(
        "POST",
        "/admin/stores/store_nope/tokens",
        api.operator_token,
        json={"name": "x", "scopes": ["catalog:read"]},
    )
    problem(r, 404, "store_not_found")


# ---------------------------------------------------------------------------
# Regions
# ---------------------------------------------------------------------------

EU = {
    "code": "eu",
    "name": "Europe",
    "currency": "EUR",
    "countries": ["DE", "FR", "AT"],
    "locales": ["de", "fr", "en"],
}


async def _regions(api: Api, store: StoreHandle) -> list[dict[str, Any]]:
    r = await api.request("GET", "/admin/regions?limit=100", store.token)
    assert r.status_code == 200
    items: list[dict[str, Any]] = r.json()["items"]
    return items


async def test_create_region(api: Api) -> None:
    store = await api.create_store()
    body = {**EU, "locales": ["de-at", "en"], "tax_inclusive": True}
    r = await api.request("POST", "/admin/regions", store.token, json=body)
    assert r.status_code == 201, r.text
    region = r.json()
    assert region["id"].startswith("reg_")
    assert {k: v for k, v in region.items() if k not in ("id", "created_at", "updated_at")} == {
        "code": "eu",
        "name": "Europe",
        "currency": "EUR",
        "countries": ["DE", "FR", "AT"],
        "locales": ["de_AT", "en"],
        "default_locale": "de_AT",
        "tax_inclusive": True,
    }
    assert (
        await api.request("GET", f"/admin/regions/{region['id']}", store.token)
    ).json() == region
    assert await _regions(api, store) == [region]


async def test_a_country_belongs_to_one_region(api: Api) -> None:
    store = await api.create_store()
    await api.add_region(store)
    before = await _regions(api, store)
    r = await api.request(
        "POST",
        "/admin/regions",
        store.token,
        json={**EU, "code": "dach", "countries": ["CH", "AT"]},
    )
    problem(
        r,
        409,
        "country_in_other_region",
        "AT is already served by region eu; a country belongs to one region.",
    )
    assert await _regions(api, store) == before
    # Another store may serve the same countries under the same code.
    other = await api.create_store()
    assert (await api.request("POST", "/admin/regions", other.token, json=EU)).status_code == 201


async def test_region_code_taken(api: Api) -> None:
    store = await api.create_store()
    await api.add_region(store)
    before = await _regions(api, store)
    r = await api.request(
        "POST", "/admin/regions", store.token, json={**EU, "countries": ["IT"], "name": "Other"}
    )
    problem(r, 409, "region_code_taken", "This store already has a region eu.")
    assert await _regions(api, store) == before


async def test_patch_region(api: Api) -> None:
    store = await api.create_store()
    eu = await api.add_region(store)
    us = await api.add_region(
        store, code="us", name="US", currency="USD", countries=["US"], locales=["en"]
    )
    r = await api.request(
        "PATCH",
        f"/admin/regions/{eu['id']}",
        store.token,
        json={"name": "EU", "countries": ["DE", "FR", "AT", "IT"], "locales": ["en", "de"]},
    )
    assert r.status_code == 200, r.text
    patched = r.json()
    assert {
        k: patched[k]
        for k in (
            "code",
            "name",
            "currency",
            "countries",
            "locales",
            "default_locale",
            "tax_inclusive",
        )
    } == {
        "code": "eu",
        "name": "EU",
        "currency": "EUR",
        "countries": ["DE", "FR", "AT", "IT"],
        "locales": ["en", "de"],
        "default_locale": "en",
        "tax_inclusive": False,
    }
    assert when(patched["updated_at"]) > when(eu["updated_at"])
    # Moving a country served by another region is refused, and changes nothing.
    r = await api.request(
        "PATCH",
        f"/admin/regions/{us['id']}",
        store.token,
        json={"countries": ["US", "IT"], "name": "Changed"},
    )
    problem(
        r,
        409,
        "country_in_other_region",
        "IT is already served by region eu; a country belongs to one region.",
    )
    assert (await api.request("GET", f"/admin/regions/{us['id']}", store.token)).json() == us
    r = await api.request("PATCH", "/admin/regions/reg_nope", store.token, json={"name": "x"})
    problem(r, 404, "region_not_found", "No region reg_nope exists in this store.")


async def test_delete_region(api: Api) -> None:
    store = await api.create_store()
    eu = await api.add_region(store)
    us = await api.add_region(
        store, code="us", name="US", currency="USD", countries=["US"], locales=["en"]
    )
    assert (
        await api.request("DELETE", f"/admin/regions/{us['id']}", store.token)
    ).status_code == 204
    problem(
        await api.request("GET", f"/admin/regions/{us['id']}", store.token), 404, "region_not_found"
    )
    problem(
        await api.request("DELETE", f"/admin/regions/{us['id']}", store.token),
        404,
        "region_not_found",
    )
    assert await _regions(api, store) == [eu]
    # Its countries are free again.
    assert (
        await api.request(
            "POST", "/admin/regions", store.token, json={**EU, "code": "na", "countries": ["US"]}
        )
    ).status_code == 201


async def test_a_storefronts_default_region_cannot_be_deleted(api: Api) -> None:
    store = await api.create_store()
    eu = await api.add_region(store)
    await api.add_storefront(store, default_region=eu["id"])
    r = await api.request("DELETE", f"/admin/regions/{eu['id']}", store.token)
    problem(
        r,
        409,
        "region_in_use",
        "Region eu is the default region of a storefront; change that storefront first.",
    )
    assert await _regions(api, store) == [eu]


# ---------------------------------------------------------------------------
# Storefronts and /store/regions
# ---------------------------------------------------------------------------


async def test_storefront_key_is_shown_once(api: Api) -> None:
    store = await api.ready_store()
    r = await api.request(
        "POST",
        "/admin/storefronts",
        store.token,
        json={
            "name": "App",
            "cors_origins": ["https://app.example/", "http://localhost:3000"],
            "default_region": store.regions["us"]["id"],
        },
    )
    assert r.status_code == 201, r.text
    key, storefront = r.json()["publishable_key"], r.json()["storefront"]
    assert key.startswith("pk_")
    assert storefront["id"].startswith("sf_")
    assert {k: v for k, v in storefront.items() if k not in ("id", "created_at", "updated_at")} == {
        "name": "App",
        "key_hint": hint(key),
        "cors_origins": ["https://app.example", "http://localhost:3000"],
        "default_region": store.regions["us"]["id"],
    }
    read = await api.request("GET", f"/admin/storefronts/{storefront['id']}", store.token)
    assert read.json() == storefront
    listing = await api.request("GET", "/admin/storefronts", store.token)
    assert [s["id"] for s in listing.json()["items"]] == [storefront["id"], store.storefront_id]
    assert key not in listing.text
    assert key not in read.text


async def test_store_regions_lists_the_storefronts_regions(api: Api) -> None:
    store = await api.ready_store()
    r = await api.shop("/store/regions", store)
    assert r.status_code == 200, r.text
    assert r.json() == [
        {
            "code": "eu",
            "name": "Europe",
            "currency": "EUR",
            "countries": ["DE", "FR", "AT"],
            "locales": ["de", "fr", "en"],
            "tax_inclusive": False,
        },
        {
            "code": "us",
            "name": "United States",
            "currency": "USD",
            "countries": ["US"],
            "locales": ["en"],
            "tax_inclusive": False,
        },
        {
            "code": "sea",
            "name": "Southeast Asia",
            "currency": "SGD",
            "countries": ["SG", "MY"],
            "locales": ["en", "zh_Hans"],
            "tax_inclusive": False,
        },
    ]
    # A region change shows at once.
    sea = store.regions["sea"]["id"]
    assert (await api.request("DELETE", f"/admin/regions/{sea}", store.token)).status_code == 204
    assert [r["code"] for r in (await api.shop("/store/regions", store)).json()] == ["eu", "us"]


async def test_rotate_key_invalidates_the_old_key(api: Api) -> None:
    store = await api.ready_store()
    old = store.publishable_key or ""
    assert (await api.shop("/store/regions", store)).status_code == 200
    r = await api.request(
        "POST", f"/admin/storefronts/{store.storefront_id}/rotate-key", store.token
    )
    assert r.status_code == 201, r.text
    new = r.json()["publishable_key"]
    assert new.startswith("pk_")
    assert new != old
    assert r.json()["storefront"]["key_hint"] == hint(new)
    problem(
        await api.client.get("/store/regions", headers={"X-Publishable-Key": old}),
        401,
        "invalid_publishable_key",
        "Send a valid publishable key in the X-Publishable-Key header.",
    )
    ok = await api.client.get("/store/regions", headers={"X-Publishable-Key": new})
    assert ok.status_code == 200


async def test_patch_storefront(api: Api) -> None:
    store = await api.ready_store()
    path = f"/admin/storefronts/{store.storefront_id}"
    before = (await api.request("GET", path, store.token)).json()
    r = await api.request(
        "PATCH",
        path,
        store.token,
        json={"name": "Web 2", "default_region": store.regions["sea"]["id"]},
    )
    assert r.status_code == 200, r.text
    assert (r.json()["name"], r.json()["default_region"], r.json()["cors_origins"]) == (
        "Web 2",
        store.regions["sea"]["id"],
        before["cors_origins"],
    )
    assert r.json()["key_hint"] == before["key_hint"]
    # Another store's region, a bad origin: refused, nothing changes.
    other = await api.ready_store()
    current = (await api.request("GET", path, store.token)).json()
    r = await api.request(
        "PATCH", path, store.token, json={"default_region": other.regions["eu"]["id"]}
    )
    assert field_errors(r) == [("default_region", "invalid_value")]
    r = await api.request(
        "PATCH",
        path,
        store.token,
        json={"cors_origins": ["ftp://x.example", "https://x.example/path"]},
    )
    assert field_errors(r) == [
        ("cors_origins[0]", "invalid_url"),
        ("cors_origins[1]", "invalid_url"),
    ]
    assert (await api.request("GET", path, store.token)).json() == current


async def test_delete_storefront(api: Api) -> None:
    store = await api.ready_store()
    path = f"/admin/storefronts/{store.storefront_id}"
    assert (await api.request("DELETE", path, store.token)).status_code == 204
    problem(
        await api.request("GET", path, store.token),
        404,
        "storefront_not_found",
        f"No storefront with id {store.storefront_id} exists.",
    )
    problem(await api.shop("/store/regions", store), 401, "invalid_publishable_key")
    problem(
        await api.request("POST", f"{path}/rotate-key", store.token), 404, "storefront_not_found"
    )


# ---------------------------------------------------------------------------
# Staff tokens
# ---------------------------------------------------------------------------


async def _tokens(api: Api, store: StoreHandle) -> list[dict[str, Any]]:
    r = await api.request("GET", "/admin/tokens?limit=100", store.token)
    assert r.status_code == 200
    items: list[dict[str, Any]] = r.json()["items"]
    return items


async def test_create_a_token_with_some_scopes(api: Api) -> None:
    store = await api.ready_store()
    r = await api.request(
        "POST",
        "/admin/tokens",
        store.token,
        json={
            "name": "Warehouse",
            "scopes": ["orders:write", "catalog:read"],
            "expires_in_days": 30,
        },
    )
    assert r.status_code == 201, r.text
    secret, record = r.json()["token"], r.json()["record"]
    assert secret.startswith("sk_")
    assert {k: v for k, v in record.items() if k not in ("id", "created_at", "expires_at")} == {
        "name": "Warehouse",
        "kind": "secret",
        "hint": hint(secret),
        "scopes": ["catalog:read", "orders:write"],
        "revoked_at": None,
    }
    assert when(record["expires_at"]) - when(record["created_at"]) == timedelta(days=30)
    # It opens what its scopes allow, and only that.
    assert (await api.request("GET", "/admin/regions", secret)).status_code == 403
    assert (await api.request("GET", "/admin/products", secret)).status_code == 200
    r = await api.request("GET", "/admin/tokens", secret)
    problem(r, 403, "missing_scope", "This token lacks the scope tokens:read needed here.")


async def test_a_token_cannot_grant_a_scope_it_lacks(api: Api) -> None:
    store = await api.create_store()
    r = await api.request(
        "POST",
        "/admin/tokens",
        store.token,
        json={"name": "Minter", "scopes": ["tokens:write", "catalog:write"]},
    )
    minter = r.json()["token"]
    before = await _tokens(api, store)
    r = await api.request(
        "POST",
        "/admin/tokens",
        minter,
        json={
            "name": "Escalate",
            "scopes": ["catalog:read", "settings:write", "admin:all", "orders:read"],
        },
    )
    assert field_errors(r) == [
        ("scopes[1]", "invalid_scope"),
        ("scopes[2]", "invalid_scope"),
        ("scopes[3]", "invalid_scope"),
    ]
    assert await _tokens(api, store) == before
    # Implied scopes may be granted: catalog:write holds catalog:read, tokens:write tokens:read.
    r = await api.request(
        "POST",
        "/admin/tokens",
        minter,
        json={"name": "Reader", "scopes": ["catalog:read", "tokens:read"]},
    )
    assert r.status_code == 201, r.text
    assert r.json()["record"]["scopes"] == ["catalog:read", "tokens:read"]


async def test_token_listing_shows_hints_not_secrets(api: Api) -> None:
    store = await api.create_store()
    made = []
    for name in ("One", "Two"):
        r = await api.request(
            "POST", "/admin/tokens", store.token, json={"name": name, "scopes": ["catalog:read"]}
        )
        made.append(r.json())
    r = await api.request("GET", "/admin/tokens", store.token)
    assert r.status_code == 200
    items = r.json()["items"]
    assert [(t["name"], t["hint"]) for t in items] == [
        ("Two", hint(made[1]["token"])),
        ("One", hint(made[0]["token"])),
        ("Owner", hint(store.token)),
    ]
    assert all(t["token"] not in r.text for t in made)
    assert store.token not in r.text
    assert "token_hash" not in r.text
    one = await api.request("GET", f"/admin/tokens/{made[0]['record']['id']}", store.token)
    assert one.json() == made[0]["record"]


async def test_revoke_a_token(api: Api) -> None:
    store = await api.create_store()
    r = await api.request(
        "POST", "/admin/tokens", store.token, json={"name": "Temp", "scopes": ["settings:read"]}
    )
    secret, token_id = r.json()["token"], r.json()["record"]["id"]
    assert (await api.request("GET", "/admin/store", secret)).status_code == 200
    assert (
        await api.request("DELETE", f"/admin/tokens/{token_id}", store.token)
    ).status_code == 204
    problem(
        await api.request("GET", "/admin/store", secret),
        401,
        "invalid_token",
        "The token is unknown, revoked or expired.",
    )
    record = (await api.request("GET", f"/admin/tokens/{token_id}", store.token)).json()
    assert record["revoked_at"] is not None
    # Revoking again is fine and keeps the first revocation time.
    assert (
        await api.request("DELETE", f"/admin/tokens/{token_id}", store.token)
    ).status_code == 204
    again = (await api.request("GET", f"/admin/tokens/{token_id}", store.token)).json()
    assert again == record
    problem(
        await api.request("DELETE", "/admin/tokens/tok_nope", store.token),
        404,
        "token_not_found",
        "No token with id tok_nope exists.",
    )


async def test_operator_mints_a_token_for_a_store(api: Api) -> None:
    store = await api.create_store()
    r = await api.request(
        "POST",
        f"/admin/stores/{store.id}/tokens",
        api.operator_token,
        json={"name": "Recovery", "scopes": ["tokens:write"]},
    )
    assert r.status_code == 201, r.text
    secret = r.json()["token"]
    assert r.json()["record"]["scopes"] == ["tokens:write"]
    assert [t["name"] for t in await _tokens(api, store)] == ["Recovery", "Owner"]
    # The minted token acts in that store.
    r = await api.request(
        "POST", "/admin/tokens", secret, json={"name": "New owner", "scopes": ["tokens:read"]}
    )
    assert r.status_code == 201
    r = await api.request(
        "POST",
        f"/admin/stores/{store.id}/tokens",
        api.operator_token,
        json={"name": "Bad", "scopes": ["root"]},
    )
    assert field_errors(r) == [("scopes[0]", "invalid_scope")]


async def test_storefront_default_region_can_be_changed_and_cleared(api: Api) -> None:
    store = await api.ready_store()
    us = store.regions["us"]["id"]
    path = f"/admin/storefronts/{store.storefront_id}"
    r = await api.request("PATCH", path, store.token, json={"default_region": us})
    assert r.status_code == 200
    assert r.json()["default_region"] == us
    r = await api.shop("/store/products", store)
    assert r.json()["currency"] == "USD"
    r = await api.request("PATCH", path, store.token, json={"name": "Renamed"})
    assert r.json()["default_region"] == us  # absent: unchanged
    r = await api.request("PATCH", path, store.token, json={"default_region": None})
    assert r.status_code == 200
    assert r.json()["default_region"] is None
    # Three regions and no default: the shopper must choose.
    r = await api.shop("/store/products", store)
    assert r.status_code == 400
    assert r.json()["code"] == "no_region"
    r = await api.shop("/store/products?region=sea", store)
    assert r.json()["currency"] == "SGD"


async def test_concurrent_region_writes_claim_a_country_once(api: Api) -> None:
    """Two regions racing for the same country or code: one wins, the other gets 409."""
    import asyncio

    store = await api.create_store()

    def region(code: str, country: str) -> dict[str, object]:
        return {
            "code": code,
            "name": code.upper(),
            "currency": "EUR",
            "countries": [country],
            "locales": ["en"],
        }

    same_country = await asyncio.gather(
        *(
            api.request("POST", "/admin/regions", store.token, json=region(f"r{i}", "PT"))
            for i in range(6)
        )
    )
    assert sorted(r.status_code for r in same_country) == [201] + [409] * 5
    assert {r.json()["code"] for r in same_country if r.status_code == 409} == {
        "country_in_other_region"
    }
    same_code = await asyncio.gather(
        *(
            api.request("POST", "/admin/regions", store.token, json=region("dup", c))
            for c in ("ES", "IT", "GR", "MT")
        )
    )
    assert sorted(r.status_code for r in same_code) == [201] + [409] * 3
    r = await api.request("GET", "/admin/regions", store.token)
    assert sorted(x["code"] for x in r.json()["items"]) == sorted(
        ["dup", *[x.json()["code"] for x in same_country if x.status_code == 201]]
    )
