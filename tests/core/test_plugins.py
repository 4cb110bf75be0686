"""The plugin host: hooks register tables, routes, translations and migrations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from litestar import get
from piccolo.columns import Varchar
from piccolo.table import Table

from core.db.engine import UNBOUND
from core.plugins.hookspecs import hookimpl
from core.plugins.host import PluginHost, create_plugin_manager, installed_plugins
from core.plugins.manifests import Manifest
from core.plugins.testing.api import manifest_fields


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
    names = {p.name for p in installed_plugins()}
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
