"""Storefront capabilities: registered by plugins at start-up, shown for the plugins a
store installed and, when tied to a provider, only where that provider is active."""

from __future__ import annotations

from typing import Any

import pytest

from core.plugins.capabilities import Capability, collect
from core.plugins.hookspecs import hookimpl
from core.plugins.host import create_plugin_manager, returned
from core.plugins.manifests import PluginError
from core.plugins.testing.api import Api, StoreHandle
from tests.fake_plugins import EXTRA_PACKAGE

NOTICE = "manual_payment.pay_later_notice"


async def _codes(api: Api, store: StoreHandle, region: str) -> list[str]:
    r = await api.store_call("GET", f"/store/capabilities?region={region}", store)
    assert r.status_code == 200, r.text
    return [c["code"] for c in r.json()]


async def test_capabilities_follow_installs_and_active_providers(api: Api) -> None:
    store = await api.create_store()
    await api.add_region(store)
    await api.add_region(
        store, code="us", name="United States", currency="USD", countries=["US"], locales=["en"]
    )
    await api.add_storefront(store)
    await api.activate(store, "eu", "payment", "manual")
    r = await api.store_call("GET", "/store/capabilities?region=eu", store)
    (notice,) = r.json()
    assert notice == {
        "code": NOTICE,
        "plugin": "caravan-manual-payment",
        "title": "Pay by bank transfer or cash on delivery",
        "description": "Your order is confirmed now and shipped once the payment arrives.",
        "provider": "payment:manual",
        "data": {"icon": "bank"},
    }
    assert await _codes(api, store, "us") == []  # manual payment is not active there

    extra = f"/admin/installations/{EXTRA_PACKAGE}"
    r = await api.request("PUT", extra, store.token, json={"permissions": ["orders:read"]})
    assert r.status_code == 200, r.text
    assert await _codes(api, store, "eu") == [NOTICE, "tests_extra.banner"]
    assert await _codes(api, store, "us") == ["tests_extra.banner"]  # tied to no provider

    r = await api.request("DELETE", extra, store.token)
    assert r.status_code == 204, r.text
    assert await _codes(api, store, "us") == []
    r = await api.store_call("GET", "/store/capabilities?region=mars", store)
    assert r.status_code == 400
    assert (await api.request("GET", "/store/capabilities", None)).status_code == 401


class Declares:
    def __init__(self, *returned: Any) -> None:
        self.returned = list(returned)

    @hookimpl
    def register_storefront_capabilities(self) -> list[Any]:
        return self.returned


@pytest.mark.parametrize(
    ("plugins", "message"),
    [
        ([Declares("not a capability")], "not a core.plugins.Capability"),
        ([Declares(Capability(code="Banner", title="x"))], "must read '<plugin>.<name>'"),
        (
            [Declares(Capability(code="a.b", title="x", provider="pay:ovo"))],
            "write it as 'kind:code'",
        ),
        ([Declares(Capability(code="a.b", title="x", data={"x": object()}))], "is not JSON"),
        (
            [
                Declares(Capability(code="a.b", title="x")),
                Declares(Capability(code="a.b", title="y")),
            ],
            "is taken by",
        ),
    ],
)
def test_bad_capabilities_fail_start_up_naming_the_plugin(
    plugins: list[Declares], message: str
) -> None:
    pm = create_plugin_manager(load_entry_points=False)
    for number, plugin in enumerate(plugins):
        pm.register(plugin, f"bad_{number}")
    with pytest.raises(PluginError, match=message) as failure:
        collect(returned(pm, "register_storefront_capabilities"), {})
    assert f"plugin 'bad_{len(plugins) - 1}'" in str(failure.value)
