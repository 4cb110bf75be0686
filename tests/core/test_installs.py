"""Installing plugins in a store: permissions granted, activation only after install,
uninstall refused while a plugin serves a region alone (unless forced)."""

from __future__ import annotations

import asyncio
from typing import Any

from core.db.engine import fetch, write
from core.plugins.testing.api import Api, StoreHandle
from tests.core.checkout import fakes
from tests.fake_plugins import EXTRA_PACKAGE

EXTRA = f"/admin/installations/{EXTRA_PACKAGE}"


async def _store(api: Api) -> StoreHandle:
    fakes.install()
    store = await api.create_store()
    await api.add_region(store)
    await api.add_region(
        store, code="us", name="United States", currency="USD", countries=["US"], locales=["en"]
    )
    return store


async def _activate(api: Api, store: StoreHandle, region: str, code: str) -> Any:
    region_id = store.regions[region]["id"]
    return await api.request(
        "PUT",
        f"/admin/regions/{region_id}/providers/tax/{code}",
        store.token,
        json={"config": {"rate": "0.1"}},
    )


async def _state(store: StoreHandle) -> list[Any]:
    """What installing and activating write: the store's installations, activations, events."""
    return [
        await fetch(
            "SELECT package, version, permissions, uninstalled_at FROM store_plugins "
            "WHERE store = {} ORDER BY package",
            store.id,
        ),
        await fetch(
            "SELECT region, provider_code FROM region_providers WHERE store = {} "
            "ORDER BY region, provider_code",
            store.id,
        ),
        await fetch("SELECT type FROM outbox_events WHERE store = {} ORDER BY id", store.id),
    ]


async def test_a_new_store_has_the_default_plugins_installed(api: Api) -> None:
    store = await api.create_store()
    r = await api.request("GET", "/admin/installations", store.token)
    assert r.status_code == 200, r.text
    installed = {i["package"]: i for i in r.json()}
    assert set(installed) == {
        "caravan-manual-payment",
        "caravan-rate-table-tax",
        "caravan-table-rate-shipping",
        "caravan-test-fakes",
    }
    assert installed["caravan-manual-payment"]["permissions"] == ["orders:write"]
    plugins = (await api.request("GET", "/admin/plugins", store.token)).json()
    extra = next(p for p in plugins if p["description"]["manifest"]["name"] == EXTRA_PACKAGE)
    assert extra["installation"] is None
    assert extra["description"]["manifest"]["permissions"] == ["orders:read"]


async def test_providers_of_a_plugin_not_installed_cannot_be_activated(api: Api) -> None:
    store = await _store(api)
    before = await _state(store)
    r = await _activate(api, store, "eu", "extra_tax")
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "plugin_not_installed"
    assert EXTRA_PACKAGE in r.json()["detail"]
    assert await _state(store) == before


async def test_install_grants_exactly_the_permissions_asked_for(api: Api) -> None:
    store = await _store(api)
    before = await _state(store)
    for granted in ([], ["orders:write"], ["orders:read", "catalog:read"]):
        r = await api.request("PUT", EXTRA, store.token, json={"permissions": granted})
        assert r.status_code == 422, r.text
        assert r.json()["code"] == "permissions_not_granted"
        assert r.json()["extra"]["requested"] == ["orders:read"]
    # A token cannot grant a scope it does not hold.
    r = await api.request(
        "POST",
        "/admin/tokens",
        store.token,
        json={"name": "settings only", "scopes": ["settings:write"]},
    )
    limited = r.json()["token"]
    r = await api.request("PUT", EXTRA, limited, json={"permissions": ["orders:read"]})
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["code"] == "invalid_scope"
    r = await api.request(
        "PUT", "/admin/installations/caravan-nowhere", store.token, json={"permissions": []}
    )
    assert r.status_code == 404
    assert r.json()["code"] == "plugin_not_available"
    assert await _state(store) == before

    r = await api.request("PUT", EXTRA, store.token, json={"permissions": ["orders:read"]})
    assert r.status_code == 200, r.text
    assert r.json()["permissions"] == ["orders:read"]
    assert r.json()["version"] == "1.0.0"
    again = await api.request("PUT", EXTRA, store.token, json={"permissions": ["orders:read"]})
    assert again.status_code == 200
    assert again.json()["installed_at"] == r.json()["installed_at"]
    events = (await _state(store))[2]
    assert [e["type"] for e in events].count("plugin.installed") == 1
    assert (await _activate(api, store, "eu", "extra_tax")).status_code == 200


async def test_uninstall_is_refused_while_the_plugin_alone_serves_a_region(api: Api) -> None:
    store = await _store(api)
    r = await api.request("PUT", EXTRA, store.token, json={"permissions": ["orders:read"]})
    assert r.status_code == 200, r.text
    assert (await _activate(api, store, "eu", "extra_tax")).status_code == 200
    assert (await _activate(api, store, "us", "extra_tax")).status_code == 200
    assert (await _activate(api, store, "eu", "flat_tax")).status_code == 200
    before = await _state(store)

    r = await api.request("DELETE", EXTRA, store.token)
    assert r.status_code == 409, r.text
    problem = r.json()
    assert problem["code"] == "plugin_in_use"
    assert problem["extra"]["regions"] == {"tax": ["us"]}  # eu has flat_tax as well
    assert await _state(store) == before

    r = await api.request("DELETE", f"{EXTRA}?force=true", store.token)
    assert r.status_code == 204, r.text
    installs, activations, events = await _state(store)
    assert [a["provider_code"] for a in activations] == ["flat_tax"]
    extra = next(i for i in installs if i["package"] == EXTRA_PACKAGE)
    assert extra["uninstalled_at"] is not None
    assert events[-1]["type"] == "plugin.uninstalled"
    listed = (await api.request("GET", "/admin/installations", store.token)).json()
    assert EXTRA_PACKAGE not in {i["package"] for i in listed}
    assert (await _activate(api, store, "eu", "extra_tax")).status_code == 409
    assert (await api.request("DELETE", EXTRA, store.token)).status_code == 404

    # Installing again revives the installation.
    r = await api.request("PUT", EXTRA, store.token, json={"permissions": ["orders:read"]})
    assert r.status_code == 200, r.text
    assert (await _activate(api, store, "us", "extra_tax")).status_code == 200


async def test_uninstall_without_sole_providers_needs_no_force(api: Api) -> None:
    store = await _store(api)
    await api.request("PUT", EXTRA, store.token, json={"permissions": ["orders:read"]})
    assert (await _activate(api, store, "eu", "extra_tax")).status_code == 200
    assert (await _activate(api, store, "eu", "flat_tax")).status_code == 200
    r = await api.request("DELETE", EXTRA, store.token)
    assert r.status_code == 204, r.text
    activations = (await _state(store))[1]
    assert [a["provider_code"] for a in activations] == ["flat_tax"]


async def test_one_store_installing_a_plugin_does_not_install_it_in_another(api: Api) -> None:
    first, second = await _store(api), await _store(api)
    r = await api.request("PUT", EXTRA, first.token, json={"permissions": ["orders:read"]})
    assert r.status_code == 200, r.text
    assert (await _activate(api, first, "eu", "extra_tax")).status_code == 200
    assert (await _activate(api, second, "eu", "extra_tax")).status_code == 409
    r = await api.request("DELETE", EXTRA, second.token)
    assert r.status_code == 404
    assert r.json()["code"] == "installation_not_found"


async def test_concurrent_installs_make_one_installation(api: Api) -> None:
    store = await _store(api)
    answers = await asyncio.gather(
        *(
            api.request("PUT", EXTRA, store.token, json={"permissions": ["orders:read"]})
            for _ in range(10)
        )
    )
    assert [r.status_code for r in answers] == [200] * 10, [r.text for r in answers]
    installs, _, events = await _state(store)
    assert [i["package"] for i in installs].count(EXTRA_PACKAGE) == 1
    assert [e["type"] for e in events].count("plugin.installed") == 1


async def test_a_plugin_asking_for_other_permissions_since_install_needs_a_new_grant(
    api: Api,
) -> None:
    store = await _store(api)
    r = await api.request("PUT", EXTRA, store.token, json={"permissions": ["orders:read"]})
    assert r.status_code == 200, r.text
    # As if an upgrade of the package had changed what it asks for since.
    await write(
        "UPDATE store_plugins SET permissions = {} WHERE store = {} AND package = {}",
        "[]",
        store.id,
        EXTRA_PACKAGE,
    )

    async def needs_grant() -> bool:
        plugins = (await api.request("GET", "/admin/plugins", store.token)).json()
        (extra,) = [p for p in plugins if p["description"]["manifest"]["name"] == EXTRA_PACKAGE]
        return bool(extra["needs_grant"])

    assert await needs_grant() is True
    r = await api.request("PUT", EXTRA, store.token, json={"permissions": ["orders:read"]})
    assert r.status_code == 200, r.text
    assert await needs_grant() is False
