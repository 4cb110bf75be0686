"""Small in-process caches: time-bounded entries and a bounded LRU of responses.

API processes are stateless; these caches only spare database round trips.
Entries another process may have changed expire after ``ttl`` seconds; this
process drops what it changes itself at once.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")

log = logging.getLogger("caravan.cache")


class TTLCache(Generic[K, V]):
    """A dict whose entries are trusted for ``ttl`` seconds."""

    def __init__(
        self,
        ttl: float,
        max_entries: int = 10_000,
        background: Callable[[], contextvars.Context] = contextvars.Context,
    ) -> None:
        self.ttl = ttl
        #: The context a refresh runs in (default: an empty one).
        self.background = background
        self.max_entries = max_entries
        self._data: dict[K, tuple[float, V]] = {}
        self._pending: dict[K, asyncio.Future[V]] = {}
        #: Bumped by discard/clear: a load that started before is not stored.
        self._epoch = 0

    async def get_or_load(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        """Return the value of ``key``, loading it once however many callers ask.

        A fresh value is returned at once. An expired one is returned too
        while a single background load replaces it (stale-while-revalidate),
        so the requests in flight when an entry expires do not all go to the
        database. With no value at all, callers share one load.
        """
        entry = self._data.get(key)
        if entry is not None:
            expires, value = entry
            if expires < time.monotonic() and key not in self._pending:
                self._start(key, load, background=True)
            return value
        pending = self._pending.get(key) or self._start(key, load, background=False)
        return await asyncio.shield(pending)

    def _start(
        self, key: K, load: Callable[[], Awaitable[V]], *, background: bool
    ) -> asyncio.Future[V]:
        epoch = self._epoch

        async def run() -> V:
            try:
                value = await load()
                if epoch == self._epoch:
                    self.set(key, value)
                return value
            finally:
                if self._pending.get(key) is task:
                    del self._pending[key]

        # A refresh serves no caller in particular: it runs outside the context of the
        # request that started it, hence outside its database transaction (whose
        # connection that request goes on using meanwhile), in ``self.background()``.
        context = self.background() if background else None
        task = asyncio.get_running_loop().create_task(run(), context=context)
        if background:
            task.add_done_callback(_log_failure)
        self._pending[key] = task
        return task

    def get(self, key: K) -> V | None:
        """Return the fresh value of ``key``, or ``None``."""
        entry = self._data.get(key)
        if entry is None:
            return None
        expires, value = entry
        if expires < time.monotonic():
            self._data.pop(key, None)
            return None
        return value

    def set(self, key: K, value: V) -> None:
        """Store ``value`` under ``key`` for ``ttl`` seconds."""
        if len(self._data) >= self.max_entries:
            self._data.clear()
        self._data[key] = (time.monotonic() + self.ttl, value)

    def discard(self, key: K) -> None:
        """Forget ``key`` (a load already under way may still store it)."""
        self._data.pop(key, None)
        self._pending.pop(key, None)
        self._epoch += 1

    def clear(self) -> None:
        """Forget everything."""
        self._data.clear()
        self._pending.clear()
        self._epoch += 1


def _log_failure(task: asyncio.Future[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("background cache refresh failed: %r", task.exception())


class LRUCache(Generic[K, V]):
    """At most ``max_entries`` values, the least recently used evicted first."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._data: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        """Return the value of ``key`` (marking it recently used), or ``None``."""
        value = self._data.get(key)
        if value is not None:
            self._data.move_to_end(key)
        return value

    def set(self, key: K, value: V) -> None:
        """Store ``value`` under ``key``."""
        self._data[key] = value
        self._data.move_to_end(key)
        while len(self._data) > self.max_entries:
            self._data.popitem(last=False)

    def clear(self) -> None:
        """Forget everything."""
        self._data.clear()

    def __len__(self) -> int:
        return len(self._data)
