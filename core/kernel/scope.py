"""What one application keeps while it serves: its settings and its caches.

``create_app`` makes an :class:`AppScope` of its settings and makes it current
for every request it answers and in its background tasks (a context variable),
so code below the application reads its settings and caches from
:func:`app_scope` instead of module-level state, and two applications in one
process share none of it.

Example::

    _active = Cached("providers.active")      # module level: a name, no state

    async def active(region_id: str) -> list[Provider]:
        return await _active.get().get_or_load(region_id, load)
"""

from __future__ import annotations

import contextvars
from collections.abc import Awaitable, Callable
from contextvars import ContextVar, Token
from typing import Any, Generic, TypeVar

from core.kernel.cache import TTLCache
from core.kernel.settings import Settings

K = TypeVar("K")
V = TypeVar("V")
T = TypeVar("T")


class AppScope:
    """One application's settings, caches and values derived from its settings."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._caches: dict[str, TTLCache[Any, Any]] = {}
        self._memos: dict[str, Any] = {}
        self._callbacks: dict[str, list[Callable[..., Awaitable[None]]]] = {}
        #: What the application keeps current, and nothing of any request: where its
        #: caches refresh (set by the application, see ``core.app.wiring.activator``).
        self.base_context: contextvars.Context | None = None

    def cache(self, name: str, ttl: float | None = None) -> TTLCache[Any, Any]:
        """The cache called ``name``, made on first use (``ttl``: seconds an entry is
        trusted; by default the settings' ``cache_ttl``)."""
        found = self._caches.get(name)
        if found is None:
            found = self._caches[name] = TTLCache(
                ttl=self.settings.cache_ttl if ttl is None else ttl,
                background=self.background_context,
            )
        return found

    def background_context(self) -> contextvars.Context:
        """A context for work that serves no request in particular (a cache refresh):
        a copy of :attr:`base_context`, else an empty one."""
        base = self.base_context
        return base.copy() if base is not None else contextvars.Context()

    def memo(self, name: str, make: Callable[[Settings], T]) -> T:
        """``make(settings)``, computed once for this application."""
        if name not in self._memos:
            self._memos[name] = make(self.settings)
        value: T = self._memos[name]
        return value

    def put(self, name: str, value: Any) -> None:
        """Set the memo called ``name`` to ``value`` (what ``make`` would have made)."""
        self._memos[name] = value

    def callbacks(self, name: str) -> list[Callable[..., Awaitable[None]]]:
        """The callbacks registered under ``name``: a seam a lower layer declares
        (``stores.service.STORE_CREATED``) and the application fills in."""
        return self._callbacks.setdefault(name, [])

    def activate(self) -> Token[AppScope]:
        """Make this scope the current one in this context (tasks started from it
        afterwards inherit it); returns the token that undoes it."""
        return CURRENT.set(self)


CURRENT: ContextVar[AppScope] = ContextVar("caravan_app_scope")


def app_scope() -> AppScope:
    """The scope of the application serving the current request or task."""
    try:
        return CURRENT.get()
    except LookupError:
        raise RuntimeError(
            "no application scope is active: build the application with create_app() "
            "(or activate an AppScope)"
        ) from None


class Cached(Generic[K, V]):
    """A named cache of the current application (a module-level handle, no state).

    ``ttl`` is fixed seconds, or ``None`` for the settings' ``cache_ttl``.
    """

    __slots__ = ("name", "ttl")

    def __init__(self, name: str, ttl: float | None = None) -> None:
        self.name = name
        self.ttl = ttl

    def get(self) -> TTLCache[K, V]:
        """The current application's cache of this name."""
        return app_scope().cache(self.name, self.ttl)
