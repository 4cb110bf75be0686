"""Activating providers per region: configs validated against the provider's schema,
each store's configuration its own, a provider called only where it is active."""

from __future__ import annotations

from typing import Any

from core.db.engine import fetch
from core.plugins.testing.api import Api, StoreHandle, address
from core.providers import runtime as providers
from core.providers.registry import provider_registry
from core.tax.providers import TaxRequest, TaxResult
from tests.core.checkout import fakes

CALLS: list[str] = []


class CountingTax(fakes.FlatTax):
    """The flat tax, noting the region of every call."""

    code = "counting_tax"

    async def calculate(self, request: TaxRequest) -> TaxResult:
        CALLS.append(request.region_id)
        return await super().calculate(request)


async def _store(api: Api) -> StoreHandle:
    fakes.install()
    provider_registry().add(CountingTax, "tests")
    store = await api.create_store()
    await api.add_region(store, tax_inclusive=True)
    await api.add_region(
        store, code="us", name="United States", currency="USD", countries=["US"], locales=["en"]
    )
    await api.add_storefront(store)
    return store


async def _put(api: Api, store: StoreHandle, region_id: str, code: str, body: Any) -> Any:
    return await api.request(
        "PUT", f"/admin/regions/{region_id}/providers/tax/{code}", store.token, json=body
    )


async def _rows(region_id: str) -> list[dict[str, Any]]:
    return await fetch(
        "SELECT provider_code, config FROM region_providers WHERE region = {}", region_id
    )


async def test_two_stores_configure_one_provider_differently_and_see_only_their_own(
    api: Api,
) -> None:
    first, second = await _store(api), await _store(api)
    eu1, eu2 = first.regions["eu"]["id"], second.regions["eu"]["id"]
    assert (
        await _put(api, first, eu1, "flat_tax", {"config": {"rate": "0.19"}})
    ).status_code == 200
    assert (
        await _put(api, second, eu2, "flat_tax", {"config": {"rate": "0.2"}})
    ).status_code == 200
    mine = await api.request("GET", f"/admin/regions/{eu1}/providers", first.token)
    assert [(a["code"], a["config"]["rate"]) for a in mine.json()] == [("flat_tax", "0.19")]
    # The other store's region is not found from here, for reading or writing.
    theirs = await api.request("GET", f"/admin/regions/{eu2}/providers", first.token)
    assert theirs.status_code == 404
    hijack = await _put(api, first, eu2, "flat_tax", {"config": {"rate": "0.5"}})
    assert hijack.status_code == 404
    [one] = await providers.active(eu1, "tax")
    [two] = await providers.active(eu2, "tax")
    assert (one.config.rate, two.config.rate) == ("0.19", "0.2")


async def test_a_config_that_fails_its_schema_is_422_and_writes_nothing(api: Api) -> None:
    store = await _store(api)
    eu = store.regions["eu"]["id"]
    for config in ({"rate": 19}, {"rate": "0.19", "typo": 1}, {"mode": "teleport"}):
        r = await _put(api, store, eu, "flat_tax", {"config": config})
        assert r.status_code == 422, r.text
        assert r.json()["code"] == "invalid_provider_config"
    unknown = await _put(api, store, eu, "no_such_tax", {"config": {}})
    assert unknown.status_code == 404
    assert await _rows(eu) == []


async def test_a_provider_active_in_one_region_is_never_called_for_another(api: Api) -> None:
    store = await _store(api)
    eu, us = store.regions["eu"]["id"], store.regions["us"]["id"]
    assert (await _put(api, store, eu, "counting_tax", {"config": {}})).status_code == 200
    variant = await api.add_variant_product(store, {"EUR": 1_000, "USD": 1_100})
    warehouse = await api.warehouse(store, ["eu", "us"])
    await api.stock(store, variant, warehouse, 10)
    CALLS.clear()
    us_cart = await api.cart(store, [(variant, 1)], region="us")
    r = await api.store_call(
        "PATCH", f"/store/carts/{us_cart['id']}", store, json={"shipping_address": address("US")}
    )
    assert (r.status_code, r.json()["tax_total"]) == (200, 0)
    assert us not in CALLS
    eu_cart = await api.ready_cart(store, [(variant, 1)])
    assert eu_cart["tax_total"] > 0
    assert set(CALLS) == {eu}
    # Deactivated: no longer called in its region either.
    gone = await api.request(
        "DELETE", f"/admin/regions/{eu}/providers/tax/counting_tax", store.token
    )
    assert gone.status_code == 204
    CALLS.clear()
    await api.ready_cart(store, [(variant, 1)])
    assert CALLS == []
