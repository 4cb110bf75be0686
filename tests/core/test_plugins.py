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
from core.plugins.host import (
    all_tables,
    create_plugin_manager,
    installed_plugins,
    migration_dirs,
    plugin_routes,
    translation_dirs,
)


class LoyaltyCard(Table, tablename="loyalty_cards_example", db=UNBOUND):
    code = Varchar(length=32)


@get("/store/loyalty-example", operation_id="loyaltyExample")
async def loyalty_route() -> dict[str, str]:
    return {"ok": "yes"}


class ExamplePlugin:
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
    pm = create_plugin_manager(load_entry_points=False)
    core_only = all_tables(pm)
    pm.register(ExamplePlugin())
    assert all_tables(pm) == [*core_only, LoyaltyCard]
    assert plugin_routes(pm) == [loyalty_route]
    assert translation_dirs(pm) == [Path("/plugins/example/locales")]
    assert migration_dirs(pm) == [Path("/plugins/example/migrations")]


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
    def register_event_subscribers(self) -> list[Any]:
        return self.returned


def test_event_subscribers_are_collected_and_checked() -> None:
    from core.events.subscribers import Subscriber
    from core.plugins.host import event_subscribers

    async def handle(_event: Any) -> None:
        return None

    subscriber = Subscriber("loyalty-points", ("order.paid",), handle)
    pm = create_plugin_manager(load_entry_points=False)
    pm.register(SubscribingPlugin([subscriber]))
    assert event_subscribers(pm) == [subscriber]
    pm = create_plugin_manager(load_entry_points=False)
    pm.register(SubscribingPlugin([handle]))
    with pytest.raises(TypeError, match="not a Subscriber"):
        event_subscribers(pm)


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
