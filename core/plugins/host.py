"""The plugin host: what one application's plugins register, collected once.

:meth:`PluginHost.load` builds a plugin manager (the installed entry-point
plugins plus any given ones), calls every ``register_*`` hook once and keeps
what they return: the provider registry, the checked plugin descriptions, the
storefront capabilities, routes, tables, event subscribers, migration and
translation folders, and the message catalogs. ``create_app`` keeps its host
in the application's state, so two applications in one process share nothing
of it.

``pm.hook`` is called in this module and nowhere else, at start-up only.

While a request is handled (and in the application's background tasks) the
application's host is the current one (:func:`core.plugins.current.current_host`),
with its provider registry and catalogs current in :mod:`core.providers.registry`
and :mod:`core.kernel.i18n`: context variables, set by :meth:`PluginHost.activate`.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import msgspec
import pluggy
from piccolo.table import Table

from core.events.subscribers import Subscriber
from core.kernel import i18n
from core.kernel.i18n import LOCALES_DIR, Catalogs
from core.plugins import capabilities, current, hookspecs
from core.plugins.builtin import core_subscribers, core_tables
from core.plugins.capabilities import StoreCapability
from core.plugins.manifests import PluginDescription, describe
from core.providers import registry
from core.providers.registry import KINDS, ProviderRegistry

ENTRY_POINT_GROUP = "caravan.plugins"

#: The hook that registers each provider kind's classes.
_PROVIDER_HOOKS = {
    "payment": "register_payment_providers",
    "tax": "register_tax_providers",
    "shipping": "register_shipping_providers",
    "affiliate": "register_affiliate_providers",
}
assert set(_PROVIDER_HOOKS) == set(KINDS)


class PluginInfo(msgspec.Struct, frozen=True):
    """A plugin installed in the environment, as ``caravan plugins list`` shows it."""

    name: str
    module: str
    distribution: str | None
    version: str | None


def create_plugin_manager(
    plugins: Iterable[tuple[object, str]] = (), *, load_entry_points: bool = True
) -> pluggy.PluginManager:
    """Return a new plugin manager with the hook specs, the installed entry-point
    plugins (unless ``load_entry_points`` is false) and ``plugins``: pairs of a
    module or object with hook implementations and the name to register it as.

    A hook name no spec knows fails here, naming the plugin (``unknown hook``).
    """
    pm = pluggy.PluginManager("caravan")
    pm.add_hookspecs(hookspecs)
    if load_entry_points:
        pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
    for plugin, name in plugins:
        pm.register(plugin, name)
    pm.check_pending()
    return pm


def returned(pm: pluggy.PluginManager, hook: str) -> list[tuple[str, Any]]:
    """What each plugin of ``pm`` implementing ``hook`` (a hook without arguments)
    returns from it, as ``(plugin name, returned)`` pairs in pluggy's call order."""
    return [(impl.plugin_name, impl.function()) for impl in getattr(pm.hook, hook).get_hookimpls()]


def build_registry(pm: pluggy.PluginManager) -> ProviderRegistry:
    """Collect the provider classes every plugin of ``pm`` registers."""
    registry = ProviderRegistry()
    for hook in _PROVIDER_HOOKS.values():
        for plugin, classes in returned(pm, hook):
            for cls in classes or []:
                registry.add(cls, plugin)
    return registry


def _flatten(results: list[list[Any] | None]) -> list[Any]:
    return [item for result in results if result for item in result]


class PluginHost:
    """Everything the plugins of one plugin manager register, computed once.

    Raises :class:`core.plugins.manifests.PluginError` (or
    :class:`core.providers.registry.ProviderRegistryError`) for a plugin the
    host cannot start with; the message names the plugin and the fix.
    """

    def __init__(self, pm: pluggy.PluginManager) -> None:
        self.pm = pm
        self.registry = build_registry(pm)
        self.descriptions: dict[str, PluginDescription] = describe(
            [name for name, _ in pm.list_name_plugin()],
            dict(returned(pm, "plugin_manifest")),
            {name for name, _ in returned(pm, "register_translations")},
            self.registry,
        )
        packages = {name: d.manifest.name for name, d in self.descriptions.items()}
        #: The package names of the plugins this host runs.
        self.packages = frozenset(packages.values())
        self.capabilities: list[StoreCapability] = capabilities.collect(
            returned(pm, "register_storefront_capabilities"), packages
        )
        self.tables: list[type[Table]] = core_tables() + _flatten(pm.hook.register_tables())
        self.routes: list[Any] = _flatten(pm.hook.register_routes())
        found = _flatten(pm.hook.register_event_subscribers())
        for item in found:
            if not isinstance(item, Subscriber):
                raise TypeError(f"register_event_subscribers returned {item!r}, not a Subscriber")
        #: The core's subscribers, then every plugin's.
        self.subscribers: list[Subscriber] = [*core_subscribers(), *found]
        self.migration_dirs = [Path(p) for p in pm.hook.register_migrations() if p]
        self.translation_dirs = [Path(p) for p in pm.hook.register_translations() if p]
        self.catalogs = Catalogs([LOCALES_DIR, *self.translation_dirs])

    @classmethod
    def load(
        cls, plugins: Iterable[tuple[object, str]] = (), *, load_entry_points: bool = True
    ) -> PluginHost:
        """The host of the installed plugins plus ``plugins`` (``(plugin, name)`` pairs)."""
        return cls(create_plugin_manager(plugins, load_entry_points=load_entry_points))

    def add_cli_commands(self, cli: Any) -> None:
        """Let every plugin add its commands to ``cli`` (a click group)."""
        self.pm.hook.register_cli_commands(cli=cli)

    def activate(self) -> None:
        """Make this host (its registry and catalogs too) the current one in this
        context: tasks started from it afterwards inherit it."""
        current.CURRENT.set(self)
        registry.CURRENT.set(self.registry)
        i18n.CURRENT.set(self.catalogs)


def environment_plugins() -> list[PluginInfo]:
    """The plugins installed in the environment under the ``caravan.plugins`` entry points."""
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
