"""Plugin manifests: checked at start-up, published with the providers' config schemas."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest
from click.testing import CliRunner

from core import app as app_module
from core.app.cli import main
from core.kernel.settings import Settings
from core.payments.providers import PaymentProvider
from core.plugins.hookspecs import API_VERSION, hookimpl
from core.plugins.host import PluginHost, create_plugin_manager
from core.plugins.manifests import Manifest, PluginError
from core.providers.registry import ProviderRegistryError
from tests.core.checkout.fakes import FakePay

GOOD: dict[str, Any] = {
    "name": "caravan-ovo",
    "version": "1.2.0",
    "author": "Example Payments Ltd",
    "summary": "OVO e-wallet payments for Indonesia",
    "license": "MIT",
    "caravan_api": ">=1.0,<2",
    "countries": ["ID"],
    "regions": ["Southeast Asia"],
    "permissions": ["orders:read"],
}


class Plugin:
    """A plugin whose manifest and providers the test chooses."""

    def __init__(self, manifest: Any, providers: list[type[PaymentProvider]] | None = None):
        self.manifest = manifest
        self.providers = providers or []

    @hookimpl
    def plugin_manifest(self) -> Any:
        return self.manifest

    @hookimpl
    def register_payment_providers(self) -> list[type[PaymentProvider]]:
        return self.providers


class NoManifest:
    @hookimpl
    def register_payment_providers(self) -> list[type[PaymentProvider]]:
        return []


def described(*plugins: tuple[str, object]) -> dict[str, Any]:
    pm = create_plugin_manager(load_entry_points=False)
    for name, plugin in plugins:
        pm.register(plugin, name=name)
    return PluginHost(pm).descriptions


def test_a_good_manifest_is_published_with_its_providers_config_schema() -> None:
    found = described(("ovo", Plugin(Manifest(**GOOD), [FakePay])))
    info = found["ovo"]
    assert info.manifest.name == "caravan-ovo"
    assert info.manifest.countries == ["ID"]
    [provider] = info.providers
    assert (provider.kind, provider.code, provider.name) == ("payment", "fakepay", FakePay.name)
    assert provider.config_schema == msgspec.json.schema(FakePay.Config)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"version": "one point two"}, "version 'one point two' is not a PEP 440 version"),
        ({"caravan_api": ">=2.0"}, f"this deployment provides {API_VERSION}"),
        ({"caravan_api": "newest"}, "caravan_api 'newest' is not a version range"),
        ({"countries": ["XX"]}, "countries ['XX'] are not ISO 3166-1 alpha-2 codes"),
        ({"permissions": ["everything"]}, "permissions ['everything'] are unknown"),
        ({"name": "Caravan OVO!"}, "name 'Caravan OVO!' must be lowercase"),
        ({"summary": " "}, "summary must be 1-200 characters"),
        ({"homepage": "javascript:alert(1)"}, "must be an http(s) URL"),
        ({"regions": ["<script>"]}, "regions ['<script>'] must be"),
    ],
)
def test_a_bad_manifest_fails_start_up_naming_the_plugin_and_the_fix(
    change: dict[str, Any], message: str
) -> None:
    with pytest.raises(PluginError) as caught:
        described(("ovo", Plugin(Manifest(**{**GOOD, **change}))))
    assert str(caught.value).startswith("plugin 'ovo' has a bad manifest: ")
    assert message in str(caught.value)


def test_a_plugin_without_a_manifest_fails_start_up() -> None:
    with pytest.raises(PluginError, match="plugin 'bare' has no manifest: implement the"):
        described(("bare", NoManifest()))


def test_a_manifest_of_the_wrong_type_fails_start_up() -> None:
    with pytest.raises(PluginError, match="plugin 'loose': plugin_manifest returned dict"):
        described(("loose", Plugin(dict(GOOD))))


def test_two_plugins_of_one_name_or_one_provider_code_fail_start_up() -> None:
    with pytest.raises(PluginError, match="both call themselves 'caravan-ovo'; rename one"):
        described(("ovo", Plugin(Manifest(**GOOD))), ("ovo2", Plugin(Manifest(**GOOD))))
    other = Manifest(**{**GOOD, "name": "caravan-ovo-two"})
    with pytest.raises(ProviderRegistryError, match="'fakepay' is already registered by plugin"):
        described(("ovo", Plugin(Manifest(**GOOD), [FakePay])), ("ovo2", Plugin(other, [FakePay])))


def test_the_app_does_not_start_with_a_bad_plugin() -> None:
    bad = Plugin(Manifest(**{**GOOD, "version": "x"}), [])
    with pytest.raises(PluginError, match=r"plugin 'ovo' has a bad manifest: .*'x'"):
        app_module.create_app(Settings(database_url="sqlite:///:memory:"), plugins=[(bad, "ovo")])


def test_the_built_in_plugins_declare_their_manifests() -> None:
    found = PluginHost.load().descriptions
    providers = {name: [(p.kind, p.code) for p in info.providers] for name, info in found.items()}
    assert providers["manual_payment"] == [("payment", "manual")]
    assert providers["rate_table_tax"] == [("tax", "rate_table")]
    assert providers["table_rate_shipping"] == [("shipping", "table_rate")]
    built_in = ("manual_payment", "rate_table_tax", "table_rate_shipping")
    assert {found[name].manifest.author for name in built_in} == {"Caravan"}


def test_caravan_plugins_info_prints_the_manifest_and_schemas() -> None:
    runner = CliRunner()
    shown = runner.invoke(main, ["plugins", "info", "rate_table_tax"])
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.output)
    assert data["manifest"]["name"] == "caravan-rate-table-tax"
    assert data["providers"][0]["code"] == "rate_table"
    assert "$defs" in data["providers"][0]["config_schema"]
    missing = runner.invoke(main, ["plugins", "info", "nope"])
    assert missing.exit_code == 1
    assert "no plugin named 'nope'" in missing.output
    listed = runner.invoke(main, ["plugins", "list"])
    assert listed.exit_code == 0
    assert "payment:manual" in listed.output


async def test_store_staff_read_the_plugins_manifests_and_permissions(api: Any) -> None:
    store = await api.create_store()
    r = await api.request("GET", "/admin/plugins", store.token)
    assert r.status_code == 200, r.text
    by_name = {p["description"]["plugin"]: p for p in r.json()}
    assert by_name["manual_payment"]["installation"]["permissions"] == ["orders:write"]
    manual = by_name["manual_payment"]["description"]
    assert manual["kinds"] == ["payment"]
    assert manual["manifest"]["permissions"] == ["orders:write"]
    assert manual["manifest"]["caravan_api"] == ">=1.0,<2"
    assert [(p["kind"], p["code"]) for p in manual["providers"]] == [("payment", "manual")]
    assert "$defs" in manual["providers"][0]["config_schema"]
    refused = await api.request("GET", "/admin/plugins", None)
    assert refused.status_code == 401
