"""``/admin/shipping-zones`` over real HTTP: zones, their countries and their rates."""

from __future__ import annotations

from typing import Any

import pytest

from core.plugins.testing.api import Api, StoreHandle

PATH = "/admin/shipping-zones"


@pytest.fixture
async def store(api: Api) -> StoreHandle:
    return await api.create_store()


async def zones(api: Api, store: StoreHandle) -> list[dict[str, Any]]:
    r = await api.request("GET", f"{PATH}?limit=100", store.token)
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


async def create_zone(api: Api, store: StoreHandle, name: str, countries: list[str]) -> Any:
    r = await api.request("POST", PATH, store.token, json={"name": name, "countries": countries})
    assert r.status_code == 201, r.text
    return r.json()


async def add_rate(api: Api, store: StoreHandle, zone_id: str, **body: Any) -> Any:
    r = await api.request("POST", f"{PATH}/{zone_id}/rates", store.token, json=body)
    assert r.status_code == 201, r.text
    return r.json()


async def test_a_zone_with_rates_is_read_back(api: Api, store: StoreHandle) -> None:
    zone = await create_zone(api, store, "Europe", ["DE", "FR"])
    assert (zone["name"], zone["countries"], zone["rates"]) == ("Europe", ["DE", "FR"], [])
    rate = await add_rate(
        api,
        store,
        zone["id"],
        name="Standard",
        amount=490,
        currency="EUR",
        max=2_000,
        free_above=10_000,
        min_days=2,
        max_days=4,
    )
    assert {k: v for k, v in rate.items() if k not in ("id", "created_at", "updated_at")} == {
        "zone_id": zone["id"],
        "name": "Standard",
        "basis": "weight",
        "min": 0,
        "max": 2_000,
        "amount": 490,
        "currency": "EUR",
        "free_above": 10_000,
        "min_days": 2,
        "max_days": 4,
    }
    r = await api.request("GET", f"{PATH}/{zone['id']}", store.token)
    assert r.json()["rates"] == [rate]
    assert await zones(api, store) == [r.json()]


async def test_a_country_belongs_to_one_zone(api: Api, store: StoreHandle) -> None:
    europe = await create_zone(api, store, "Europe", ["DE", "FR"])
    r = await api.request(
        "POST", PATH, store.token, json={"name": "DACH", "countries": ["AT", "DE"]}
    )
    assert (r.status_code, r.json()["code"]) == (409, "country_in_other_zone")
    assert r.json()["detail"] == (
        "DE already belongs to shipping zone Europe; a country belongs to one zone."
    )
    assert [z["id"] for z in await zones(api, store)] == [europe["id"]]
    dach = await create_zone(api, store, "DACH", ["AT", "CH"])
    r = await api.request("PATCH", f"{PATH}/{dach['id']}", store.token, json={"countries": ["FR"]})
    assert r.status_code == 409
    # Moving a country: take it out of one zone, then add it to the other.
    r = await api.request(
        "PATCH", f"{PATH}/{europe['id']}", store.token, json={"countries": ["FR"]}
    )
    assert r.status_code == 200, r.text
    r = await api.request(
        "PATCH", f"{PATH}/{dach['id']}", store.token, json={"countries": ["AT", "CH", "DE"]}
    )
    assert r.json()["countries"] == ["AT", "CH", "DE"]
    # Another store may put the same countries in its own zones.
    other = await api.create_store()
    await create_zone(api, other, "Everything", ["DE", "FR", "AT", "CH"])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "X", "countries": ["XX"]}, "countries[0]"),
        ({"name": "X", "countries": ["DE", "DE"]}, "countries[1]"),
        ({"name": "X", "countries": []}, "countries"),
        ({"name": "", "countries": ["DE"]}, "name"),
        ({"name": "X", "countries": ["DE"], "rates": []}, "rates"),
    ],
)
async def test_bad_zones_are_refused(
    api: Api, store: StoreHandle, body: dict[str, Any], field: str
) -> None:
    r = await api.request("POST", PATH, store.token, json=body)
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == [field]
    assert await zones(api, store) == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "R", "amount": -1, "currency": "EUR"}, "amount"),
        ({"name": "R", "amount": 1.5, "currency": "EUR"}, "amount"),
        ({"name": "R", "amount": 100, "currency": "XYZ"}, "currency"),
        ({"name": "R", "amount": 100, "currency": "EUR", "basis": "volume"}, "basis"),
        ({"name": "R", "amount": 100, "currency": "EUR", "min": 500, "max": 500}, "max"),
        ({"name": "R", "amount": 100, "currency": "EUR", "min_days": 5, "max_days": 2}, "max_days"),
        ({"name": "R", "amount": 100, "currency": "EUR", "free_above": -5}, "free_above"),
    ],
)
async def test_bad_rates_are_refused(
    api: Api, store: StoreHandle, body: dict[str, Any], field: str
) -> None:
    zone = await create_zone(api, store, "Europe", ["DE"])
    r = await api.request("POST", f"{PATH}/{zone['id']}/rates", store.token, json=body)
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == [field]
    assert (await zones(api, store))[0]["rates"] == []


async def test_a_rate_update_is_checked_whole_and_null_clears(api: Api, store: StoreHandle) -> None:
    zone = await create_zone(api, store, "Europe", ["DE"])
    rate = await add_rate(
        api, store, zone["id"], name="Std", amount=490, currency="EUR", max=2_000, free_above=9_000
    )
    url = f"{PATH}/{zone['id']}/rates/{rate['id']}"
    r = await api.request("PATCH", url, store.token, json={"min": 3_000})
    assert (r.status_code, r.json()["errors"][0]["field"]) == (422, "max")
    r = await api.request("PATCH", url, store.token, json={"amount": 590, "free_above": None})
    assert r.status_code == 200, r.text
    assert (r.json()["amount"], r.json()["free_above"], r.json()["max"]) == (590, None, 2_000)
    r = await api.request("PATCH", url, store.token, json={"name": None, "max": None})
    assert (r.json()["name"], r.json()["max"]) == ("Std", None)


async def test_deleting_rates_and_zones(api: Api, store: StoreHandle) -> None:
    zone = await create_zone(api, store, "Europe", ["DE"])
    rate = await add_rate(api, store, zone["id"], name="Std", amount=490, currency="EUR")
    url = f"{PATH}/{zone['id']}/rates/{rate['id']}"
    assert (await api.request("DELETE", url, store.token)).status_code == 204
    r = await api.request("DELETE", url, store.token)
    assert (r.status_code, r.json()["code"]) == (404, "shipping_rate_not_found")
    await add_rate(api, store, zone["id"], name="Std", amount=490, currency="EUR")
    assert (await api.request("DELETE", f"{PATH}/{zone['id']}", store.token)).status_code == 204
    r = await api.request("GET", f"{PATH}/{zone['id']}", store.token)
    assert (r.status_code, r.json()["code"]) == (404, "shipping_zone_not_found")
    # Its countries are free again.
    await create_zone(api, store, "Germany", ["DE"])


async def test_a_rate_is_reached_through_its_own_zone_only(api: Api, store: StoreHandle) -> None:
    europe = await create_zone(api, store, "Europe", ["DE"])
    asia = await create_zone(api, store, "Asia", ["SG"])
    rate = await add_rate(api, store, europe["id"], name="Std", amount=490, currency="EUR")
    r = await api.request(
        "PATCH", f"{PATH}/{asia['id']}/rates/{rate['id']}", store.token, json={"amount": 1}
    )
    assert (r.status_code, r.json()["code"]) == (404, "shipping_rate_not_found")
    r = await api.request(
        "POST",
        f"{PATH}/zone_missing/rates",
        store.token,
        json={"name": "R", "amount": 1, "currency": "EUR"},
    )
    assert (r.status_code, r.json()["code"]) == (404, "shipping_zone_not_found")


async def test_another_stores_zone_is_not_found(api: Api, store: StoreHandle) -> None:
    zone = await create_zone(api, store, "Europe", ["DE"])
    rate = await add_rate(api, store, zone["id"], name="Std", amount=490, currency="EUR")
    before = await zones(api, store)
    other = await api.create_store()
    zone_url = f"{PATH}/{zone['id']}"
    rate_url = f"{zone_url}/rates/{rate['id']}"
    calls: list[tuple[str, str, Any]] = [
        ("GET", zone_url, None),
        ("PATCH", zone_url, {"name": "Mine"}),
        ("DELETE", zone_url, None),
        ("POST", f"{zone_url}/rates", {"name": "R", "amount": 1, "currency": "EUR"}),
        ("PATCH", rate_url, {"amount": 1}),
        ("DELETE", rate_url, None),
    ]
    for method, url, body in calls:
        r = await api.request(method, url, other.token, json=body)
        assert r.status_code == 404, f"{method} {url}: {r.text}"
        assert r.json()["code"].startswith("shipping_")
    assert await zones(api, store) == before
    assert await zones(api, other) == []


async def test_zones_are_paged_newest_first(api: Api, store: StoreHandle) -> None:
    made = [await create_zone(api, store, f"Z{i}", [c]) for i, c in enumerate(["DE", "FR", "IT"])]
    r = await api.request("GET", f"{PATH}?limit=2", store.token)
    assert [z["id"] for z in r.json()["items"]] == [made[2]["id"], made[1]["id"]]
    r = await api.request("GET", f"{PATH}?limit=2&cursor={r.json()['next_cursor']}", store.token)
    assert [z["id"] for z in r.json()["items"]] == [made[0]["id"]]
    assert r.json()["next_cursor"] is None
    r = await api.request("GET", f"{PATH}?cursor=nonsense", store.token)
    assert r.status_code == 422
