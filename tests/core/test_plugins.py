"""The plugin host: hooks register tables, routes, translations and migrations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import pytest
from litestar import get
from piccolo.columns import Varchar
from piccolo.table import Table

from core.db.engine import UNBOUND
from core.plugins import Capability, Provider, Subscriber, hookspecs
from core.plugins.hookspecs import hookimpl
from core.plugins.host import PluginHost, create_plugin_manager, environment_plugins
from core.plugins.manifests import Manifest
from core.plugins.testing.api import manifest_fields
from tests.core.affiliates.fakes import Programme
from tests.core.checkout.fakes import FakePay, FlatShipping, FlatTax


class LoyaltyCard(Table, tablename="loyalty_cards_example", db=UNBOUND):
    code = Varchar(length=32)


@get("/store/loyalty-example", operation_id="loyaltyExample")
async def loyalty_route() -> dict[str, str]:
    return {"ok": "yes"}


class ExamplePlugin:
    @hookimpl
    def plugin_manifest(self) -> Manifest:
        return Manifest(**manifest_fields("caravan-example"))

    @hookimpl
    def register_tables(self) -> list[type[Table]]:
        return [LoyaltyCard]

    @hookimpl
    def register_routes(self) -> list[Any]:
        return [loyalty_route]

    @hookimpl
    def register_translations(self) -> Path:
        return Path("/plugins/example/locales")

    @hookimpl
    def register_migrations(self) -> Path:
        return Path("/plugins/example/migrations")


def test_hooks_collect_what_plugins_register() -> None:
    core_only = PluginHost.load(load_entry_points=False)
    host = PluginHost.load([(ExamplePlugin(), "example")], load_entry_points=False)
    assert host.tables == [*core_only.tables, LoyaltyCard]
    assert host.routes == [loyalty_route]
    assert host.translation_dirs == [Path("/plugins/example/locales")]
    assert host.migration_dirs == [Path("/plugins/example/migrations")]
    assert list(host.descriptions) == ["example"]


def test_two_hosts_share_nothing() -> None:
    plain = PluginHost.load(load_entry_points=False)
    extended = PluginHost.load([(ExamplePlugin(), "example")], load_entry_points=False)
    assert LoyaltyCard not in plain.tables
    assert plain.routes == []
    assert plain.descriptions == {}
    assert plain.registry is not extended.registry
    assert plain.catalogs is not extended.catalogs


def test_unknown_hook_names_are_refused() -> None:
    class Misspelt:
        @hookimpl
        def register_tabels(self) -> list[Any]:
            return []

    pm = create_plugin_manager(load_entry_points=False)
    pm.register(Misspelt())
    with pytest.raises(Exception, match="unknown hook 'register_tabels'"):
        pm.check_pending()


def test_the_built_in_providers_are_installed_as_plugins() -> None:
    names = {p.name for p in environment_plugins()}
    assert {"manual_payment", "rate_table_tax", "table_rate_shipping"} <= names


def test_every_hook_is_documented() -> None:
    """Each hook spec says what it takes, returns and since when (Datasette's rule)."""
    import inspect

    from core.plugins import hookspecs

    specs = [
        getattr(hookspecs, name)
        for name in dir(hookspecs)
        if hasattr(getattr(hookspecs, name), "caravan_spec")
    ]
    assert len(specs) >= 10
    for spec in specs:
        doc = inspect.getdoc(spec) or ""
        assert ".. versionadded::" in doc, spec.__name__
        assert "Example::" in doc or ":returns:" in doc or ":param" in doc, spec.__name__


class SubscribingPlugin:
    def __init__(self, returned: list[Any]) -> None:
        self.returned = returned

    @hookimpl
    def plugin_manifest(self) -> Manifest:
        return Manifest(**manifest_fields("caravan-subscribing"))

    @hookimpl
    def register_event_subscribers(self) -> list[Any]:
        return self.returned


def test_event_subscribers_are_collected_and_checked() -> None:
    from core.events.subscribers import Subscriber
    from core.plugins.builtin import core_subscribers

    async def handle(_event: Any) -> None:
        return None

    subscriber = Subscriber("loyalty-points", ("order.paid",), handle)
    host = PluginHost.load([(SubscribingPlugin([subscriber]), "points")], load_entry_points=False)
    assert host.subscribers == [*core_subscribers(), subscriber]
    with pytest.raises(TypeError, match="not a Subscriber"):
        PluginHost.load([(SubscribingPlugin([handle]), "points")], load_entry_points=False)


def test_every_hook_is_implemented_by_a_tested_plugin() -> None:
    """Each hook has an implementation in the suite or the built-in plugins, whose tests run."""
    import re

    from core.plugins import hookspecs

    root = Path(__file__).resolve().parents[2]
    sources = "\n".join(
        path.read_text(encoding="utf-8")
        for folder in ("tests", "plugins")
        for path in (root / folder).rglob("*.py")
    )
    implemented = set(re.findall(r"@hookimpl\n\s*def (\w+)\(", sources))
    specs = {name for name in dir(hookspecs) if hasattr(getattr(hookspecs, name), "caravan_spec")}
    assert specs - implemented == set()


class CompletePlugin(ExamplePlugin):
    """A plugin implementing every hook the host knows."""

    @hookimpl
    def register_payment_providers(self) -> list[type[Provider]]:
        return [FakePay]

    @hookimpl
    def register_tax_providers(self) -> list[type[Provider]]:
        return [FlatTax]

    @hookimpl
    def register_shipping_providers(self) -> list[type[Provider]]:
        return [FlatShipping]

    @hookimpl
    def register_affiliate_providers(self) -> list[type[Provider]]:
        return [Programme]

    @hookimpl
    def register_storefront_capabilities(self) -> list[Capability]:
        return [Capability(code="example.badge", title="Badge")]

    @hookimpl
    def register_event_subscribers(self) -> list[Subscriber]:
        return [COMPLETE_SUBSCRIBER]

    @hookimpl
    def register_cli_commands(self, cli: click.Group) -> None:
        @cli.command("example-hello")
        def hello() -> None:
            """Say hello."""


async def _ignore(_event: Any) -> None:
    return None


COMPLETE_SUBSCRIBER = Subscriber("example-points", ("order.paid",), _ignore)


def test_every_hook_reaches_the_host_from_a_registered_plugin() -> None:
    """One registered plugin implements every hook spec, and the host holds what each
    returned: a new hook without an implementation here fails this test."""
    specs = {name for name in dir(hookspecs) if hasattr(getattr(hookspecs, name), "caravan_spec")}
    implemented = {
        name
        for name in dir(CompletePlugin)
        if hasattr(getattr(CompletePlugin, name), "caravan_impl")
    }
    assert implemented == specs
    host = PluginHost.load([(CompletePlugin(), "example")], load_entry_points=False)
    assert list(host.descriptions) == ["example"]
    assert sorted(host.descriptions["example"].kinds) == [
        "affiliate",
        "localisation",
        "payment",
        "shipping",
        "tax",
    ]
    found = {(kind, code) for (kind, code) in host.registry.classes}
    assert found == {
        ("payment", FakePay.code),
        ("tax", FlatTax.code),
        ("shipping", FlatShipping.code),
        ("affiliate", Programme.code),
    }
    assert [c.code for c in host.capabilities] == ["example.badge"]
    assert host.subscribers[-1] is COMPLETE_SUBSCRIBER
    assert host.tables[-1] is LoyaltyCard
    assert host.routes == [loyalty_route]
    assert host.migration_dirs == [Path("/plugins/example/migrations")]
    assert host.translation_dirs == [Path("/plugins/example/locales")]
    group = click.Group("caravan")
    host.add_cli_commands(group)
    assert list(group.commands) == ["example-hello"]


def test_every_hook_is_in_the_plugin_guide() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    guide = readme[readme.index("## Plugin guide") : readme.index("## Benchmarks")]
    specs = [name for name in dir(hookspecs) if hasattr(getattr(hookspecs, name), "caravan_spec")]
    assert [name for name in specs if f"`{name}`" not in guide and f"{name}(" not in guide] == []
