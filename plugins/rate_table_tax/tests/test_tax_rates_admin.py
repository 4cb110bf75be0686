"""``/admin/tax-rates`` over real HTTP: create, read, list, change, delete, refusals."""

from __future__ import annotations

from typing import Any

import pytest

from core.plugins import PluginHost
from core.plugins.testing.api import Api, StoreHandle

PATH = "/admin/tax-rates"


@pytest.fixture
async def store(api: Api) -> StoreHandle:
    return await api.create_store()


async def rates(api: Api, store: StoreHandle, query: str = "") -> list[dict[str, Any]]:
    r = await api.request("GET", f"{PATH}?limit=100{query}", store.token)
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


async def create(api: Api, store: StoreHandle, **body: Any) -> dict[str, Any]:
    r = await api.request("POST", PATH, store.token, json=body)
    assert r.status_code == 201, r.text
    created: dict[str, Any] = r.json()
    return created


async def test_a_rate_is_created_normalized_and_read_back(api: Api, store: StoreHandle) -> None:
    created = await create(api, store, country="DE", rate="0.190")
    assert {k: v for k, v in created.items() if k not in ("id", "created_at", "updated_at")} == {
        "country": "DE",
        "subdivision": None,
        "category": "standard",
        "rate": "0.19",
        "name": "VAT",
    }
    assert created["id"].startswith("txr_")
    r = await api.request("GET", f"{PATH}/{created['id']}", store.token)
    assert r.json() == created
    us = await create(api, store, country="US", subdivision="CA", rate="0.0725", name="Sales tax")
    assert (us["subdivision"], us["rate"], us["name"]) == ("CA", "0.0725", "Sales tax")


@pytest.mark.parametrize(
    "body",
    [
        {"country": "DE", "rate": "1"},
        {"country": "DE", "rate": "1.5"},
        {"country": "DE", "rate": "-0.1"},
        {"country": "DE", "rate": "0.1234567"},
        {"country": "DE", "rate": "abc"},
        {"country": "DE", "rate": ".19"},
        {"country": "DE", "rate": 0.19},
        {"country": "DE"},
    ],
)
async def test_bad_rates_are_refused_and_nothing_is_written(
    api: Api, store: StoreHandle, body: dict[str, Any]
) -> None:
    r = await api.request("POST", PATH, store.token, json=body)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "validation_failed"
    assert [e["field"] for e in r.json()["errors"]] == ["rate"]
    assert await rates(api, store) == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"country": "XX", "rate": "0.1"}, "country"),
        ({"country": "de", "rate": "0.1"}, "country"),
        ({"country": "US", "subdivision": "california", "rate": "0.1"}, "subdivision"),
        ({"country": "DE", "category": "Reduced Rate", "rate": "0.1"}, "category"),
        ({"country": "DE", "rate": "0.1", "name": ""}, "name"),
        ({"country": "DE", "rate": "0.1", "store": "store_x"}, "store"),
    ],
)
async def test_bad_fields_are_refused(
    api: Api, store: StoreHandle, body: dict[str, Any], field: str
) -> None:
    r = await api.request("POST", PATH, store.token, json=body)
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == [field]
    assert await rates(api, store) == []


async def test_one_rate_per_place_and_category(api: Api, store: StoreHandle) -> None:
    first = await create(api, store, country="DE", category="reduced", rate="0.07")
    r = await api.request(
        "POST", PATH, store.token, json={"country": "DE", "category": "reduced", "rate": "0.05"}
    )
    assert r.status_code == 409
    assert r.json()["code"] == "tax_rate_exists"
    assert r.json()["detail"] == (
        "This store already has a reduced rate for DE; change that rate instead."
    )
    assert await rates(api, store) == [first]
    # A subdivision, another category or another store is another place.
    await create(api, store, country="DE", subdivision="BY", category="reduced", rate="0.07")
    await create(api, store, country="DE", category="zero", rate="0")
    other = await api.create_store()
    await create(api, other, country="DE", category="reduced", rate="0.07")


async def test_update_changes_rate_and_name_only(api: Api, store: StoreHandle) -> None:
    created = await create(api, store, country="FR", rate="0.2")
    url = f"{PATH}/{created['id']}"
    r = await api.request("PATCH", url, store.token, json={"rate": "0.0550", "name": "TVA"})
    assert r.status_code == 200, r.text
    assert (r.json()["rate"], r.json()["name"], r.json()["country"]) == ("0.055", "TVA", "FR")
    r = await api.request("PATCH", url, store.token, json={"country": "DE"})
    assert r.status_code == 422
    r = await api.request("PATCH", url, store.token, json={"rate": "2"})
    assert r.status_code == 422
    assert (await api.request("GET", url, store.token)).json()["rate"] == "0.055"


async def test_delete_then_gone(api: Api, store: StoreHandle) -> None:
    created = await create(api, store, country="AT", rate="0.2")
    url = f"{PATH}/{created['id']}"
    assert (await api.request("DELETE", url, store.token)).status_code == 204
    for method in ("GET", "DELETE"):
        r = await api.request(method, url, store.token)
        assert (r.status_code, r.json()["code"]) == (404, "tax_rate_not_found")
    r = await api.request("PATCH", url, store.token, json={"rate": "0.1"})
    assert r.status_code == 404
    assert await rates(api, store) == []


async def test_listing_filters_by_country_and_pages(api: Api, store: StoreHandle) -> None:
    made = [await create(api, store, country="DE", category=f"c{i}", rate="0.1") for i in range(3)]
    await create(api, store, country="FR", rate="0.2")
    assert [i["id"] for i in await rates(api, store, "&country=DE")] == [
        m["id"] for m in reversed(made)
    ]
    r = await api.request("GET", f"{PATH}?limit=3", store.token)
    page = r.json()
    assert len(page["items"]) == 3
    r = await api.request("GET", f"{PATH}?limit=3&cursor={page['next_cursor']}", store.token)
    assert [i["id"] for i in r.json()["items"]] == [made[0]["id"]]
    assert r.json()["next_cursor"] is None
    r = await api.request("GET", f"{PATH}?country=Germany", store.token)
    assert r.status_code == 422


async def test_another_stores_rate_is_not_found(api: Api, store: StoreHandle) -> None:
    created = await create(api, store, country="DE", rate="0.19")
    other = await api.create_store()
    url = f"{PATH}/{created['id']}"
    for method, body in (("GET", None), ("PATCH", {"rate": "0.5"}), ("DELETE", None)):
        r = await api.request(method, url, other.token, json=body)
        assert (r.status_code, r.json()["code"]) == (404, "tax_rate_not_found")
    assert await rates(api, other) == []
    assert await rates(api, store) == [created]


async def test_reading_needs_settings_read_and_writing_settings_write(
    api: Api, store: StoreHandle
) -> None:
    r = await api.request(
        "POST", "/admin/tokens", store.token, json={"name": "reader", "scopes": ["settings:read"]}
    )
    reader = r.json()["token"]
    assert (await api.request("GET", PATH, reader)).status_code == 200
    r = await api.request("POST", PATH, reader, json={"country": "DE", "rate": "0.19"})
    assert (r.status_code, r.json()["code"]) == (403, "missing_scope")
    assert await rates(api, store) == []


def test_error_messages_come_from_the_plugins_catalog(host: PluginHost) -> None:
    messages = host.catalogs.messages["en"]
    assert messages["tax_rate_not_found"] == "Tax rate not found"
    assert messages["tax_rate_exists.detail"] == (
        "This store already has a {category} rate for {place}; change that rate instead."
    )
