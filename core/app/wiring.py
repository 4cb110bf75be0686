"""How an application's parts are joined: its scope, with the callbacks lower
layers declare filled in by the plugin host, and what makes it current."""

from __future__ import annotations

import contextvars
from collections.abc import Callable

from core.kernel.scope import AppScope
from core.kernel.settings import Settings
from core.plugins.host import PluginHost
from core.plugins.installs import service as installs
from core.stores.service import STORE_CREATED


def app_scope_of(settings: Settings) -> AppScope:
    """A new application scope of ``settings``: a new store gets the deployment's
    default plugins installed in the transaction that creates it."""
    scope = AppScope(settings)
    scope.callbacks(STORE_CREATED).append(installs.install_defaults)
    return scope


def activator(scope: AppScope, host: PluginHost) -> Callable[[], None]:
    """What makes ``scope`` and ``host`` the current ones (in this context, and in
    the tasks started from it afterwards); ``scope.base_context`` becomes a context
    holding just them, where the scope's caches refresh."""

    def activate() -> None:
        scope.activate()
        host.activate()

    scope.base_context = contextvars.Context()
    scope.base_context.run(activate)
    return activate
