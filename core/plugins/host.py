"""The plugin host: discovers plugins and collects what their hooks register.

``pm.hook`` is called here and nowhere else, once at start-up.
"""

from __future__ import annotations

from functools import lru_cache
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec
import pluggy
from piccolo.table import Table

from core.plugins import hookspecs

if TYPE_CHECKING:
    from core.plugins.manifests import PluginDescription

ENTRY_POINT_GROUP = "caravan.plugins"


class PluginInfo(msgspec.Struct, frozen=True):
    """An installed plugin as ``caravan plugins list`` shows it."""

    name: str
    module: str
    distribution: str | None
    version: str | None


def create_plugin_manager(*, load_entry_points: bool = True) -> pluggy.PluginManager:
    """Return a new plugin manager with the hook specs and installed plugins."""
    pm = pluggy.PluginManager("caravan")
    pm.add_hookspecs(hookspecs)
    if load_entry_points:
        pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
        pm.check_pending()  # a hook name no spec knows fails start-up, naming the plugin
    return pm


@lru_cache(maxsize=1)
def plugin_manager() -> pluggy.PluginManager:
    """The process-wide plugin manager (entry-point plugins loaded once)."""
    return create_plugin_manager()


@lru_cache(maxsize=1)
def _descriptions() -> dict[str, PluginDescription]:
    from core.plugins.manifests import describe

    return describe(plugin_manager())


def plugin_descriptions(
    pm: pluggy.PluginManager | None = None,
) -> dict[str, PluginDescription]:
    """Every plugin with its checked manifest and providers, by plugin name
    (:class:`core.plugins.manifests.PluginDescription`); raises
    :class:`core.plugins.manifests.PluginError` for a plugin the host cannot start with."""
    if pm is None:
        return _descriptions()
    from core.plugins.manifests import describe

    return describe(pm)


def register_plugin(plugin: object, name: str) -> None:
    """Add ``plugin`` (a module or object with hook implementations) to the
    process's plugin manager as ``name``, as if an entry point had named it.

    For embedding and tests; call it before the application is created, since
    what the hooks register is collected once.
    """
    from core.plugins import capabilities
    from core.providers.registry import provider_registry

    plugin_manager().register(plugin, name)
    plugin_manager().check_pending()
    provider_registry.cache_clear()
    _descriptions.cache_clear()
    capabilities.registered.cache_clear()


def installed_plugins() -> list[PluginInfo]:
    """Return the plugins registered under the ``caravan.plugins`` entry points."""
    found = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        dist = ep.dist
        found.append(
            PluginInfo(
                name=ep.name,
                module=ep.value,
                distribution=dist.name if dist else None,
                version=dist.version if dist else None,
            )
        )
    return sorted(found, key=lambda p: p.name)


def _flatten(results: list[list[Any] | None]) -> list[Any]:
    return [item for result in results if result for item in result]


def all_tables(pm: pluggy.PluginManager | None = None) -> list[type[Table]]:
    """Return the core's tables followed by every plugin's tables."""
    from core.db.registry import core_tables

    pm = pm or plugin_manager()
    return core_tables() + _flatten(pm.hook.register_tables())


def plugin_routes(pm: pluggy.PluginManager | None = None) -> list[Any]:
    """Return the route handlers every plugin registers."""
    pm = pm or plugin_manager()
    return _flatten(pm.hook.register_routes())


def event_subscribers(pm: pluggy.PluginManager | None = None) -> list[Any]:
    """Return every plugin's event subscribers (:class:`core.events.subscribers.Subscriber`)."""
    from core.events.subscribers import Subscriber

    pm = pm or plugin_manager()
    found = _flatten(pm.hook.register_event_subscribers())
    for item in found:
        if not isinstance(item, Subscriber):
            raise TypeError(f"register_event_subscribers returned {item!r}, not a Subscriber")
    return found


def migration_dirs(pm: pluggy.PluginManager | None = None) -> list[Path]:
    """Return the plugins' Alembic version folders (one branch each)."""
    pm = pm or plugin_manager()
    return [Path(p) for p in pm.hook.register_migrations() if p]


def translation_dirs(pm: pluggy.PluginManager | None = None) -> list[Path]:
    """Return the plugins' ``locales/`` folders."""
    pm = pm or plugin_manager()
    return [Path(p) for p in pm.hook.register_translations() if p]


def add_cli_commands(cli: Any, pm: pluggy.PluginManager | None = None) -> None:
    """Let every plugin add its commands to ``cli``."""
    pm = pm or plugin_manager()
    pm.hook.register_cli_commands(cli=cli)
