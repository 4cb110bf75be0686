"""The plugin host of the application serving the current request or task.

A context variable, set by ``PluginHost.activate`` (the application does it for
every request and in its lifespan), so two applications in one process each
see their own host.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.plugins.host import PluginHost

CURRENT: ContextVar[PluginHost] = ContextVar("caravan_plugin_host")


def current_host() -> PluginHost:
    """The current application's plugin host."""
    try:
        return CURRENT.get()
    except LookupError:
        raise RuntimeError(
            "no plugin host is active: build the application with create_app() "
            "(or activate a PluginHost)"
        ) from None
