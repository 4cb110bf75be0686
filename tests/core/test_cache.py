"""The process caches: single-flight loads, stale-while-revalidate, LRU bounds."""

from __future__ import annotations

import asyncio

import pytest
from litestar import Litestar

from core.db import engine as db
from core.kernel.cache import LRUCache, TTLCache
from core.kernel.scope import app_scope
from core.providers.registry import provider_registry
from tests.fake_plugins import ExtraTax


class Loader:
    def __init__(self) -> None:
        self.calls = 0
        self.release = asyncio.Event()

    async def __call__(self) -> int:
        self.calls += 1
        await self.release.wait()
        return self.calls


async def test_concurrent_misses_share_one_load() -> None:
    cache: TTLCache[str, int] = TTLCache(ttl=60)
    load = Loader()
    waiters = [asyncio.ensure_future(cache.get_or_load("k", load)) for _ in range(50)]
    await asyncio.sleep(0)
    load.release.set()
    assert await asyncio.gather(*waiters) == [1] * 50
    assert load.calls == 1
    assert await cache.get_or_load("k", load) == 1
    assert load.calls == 1


async def test_expired_value_is_served_while_one_refresh_runs() -> None:
    cache: TTLCache[str, int] = TTLCache(ttl=0)
    cache.set("k", 7)
    load = Loader()
    # Expired: every caller gets the old value at once; one refresh starts.
    assert [await cache.get_or_load("k", load) for _ in range(20)] == [7] * 20
    await asyncio.sleep(0)
    assert load.calls == 1
    load.release.set()
    await asyncio.sleep(0.01)
    assert cache._data["k"][1] == 1


@pytest.mark.usefixtures("client")  # the app's database is open
async def test_a_refresh_runs_outside_the_transaction_of_the_request_that_started_it() -> None:
    """A request inside a transaction goes on using its connection while the refresh it
    started runs: the refresh must not use that connection too."""
    cache: TTLCache[str, object] = TTLCache(ttl=0)
    cache.set("k", "stale")
    seen: list[object] = []

    async def load() -> object:
        seen.append(db.current().current_transaction.get())
        rows = await db.fetch("SELECT 1 AS one")  # alongside the request's statements
        return rows[0]["one"]

    async with db.transaction():
        assert await cache.get_or_load("k", load) == "stale"
        for _ in range(20):  # the request's own statements, while the refresh runs
            assert (await db.fetch("SELECT 2 AS two"))[0]["two"] == 2
            await asyncio.sleep(0)
    await asyncio.sleep(0.05)
    assert seen == [None]
    assert cache._data["k"][1] == 1


async def test_an_app_cache_refreshes_with_the_app_current_and_outside_the_transaction(
    app: Litestar,
) -> None:
    """A refresh of one of the application's caches reads its settings and plugins
    (as the active providers' refresh does), yet not the request's transaction."""
    cache: TTLCache[str, object] = app.state.scope.cache("tests.refresh", ttl=0)
    cache.set("k", "stale")
    seen: list[object] = []

    async def load() -> object:
        seen.append(db.current().current_transaction.get())
        return (app_scope().settings.database_url, provider_registry().get("tax", "extra_tax"))

    async with db.transaction():
        assert await cache.get_or_load("k", load) == "stale"
    await asyncio.sleep(0.05)
    assert seen == [None]
    assert cache._data["k"][1] == (app.state.settings.database_url, ExtraTax)


async def test_a_load_started_before_discard_is_not_stored() -> None:
    cache: TTLCache[str, int] = TTLCache(ttl=60)
    load = Loader()
    first = asyncio.ensure_future(cache.get_or_load("k", load))
    await asyncio.sleep(0)
    cache.discard("k")  # this process wrote: what the load read may be stale
    load.release.set()
    assert await first == 1
    assert cache.get("k") is None


async def test_failed_load_raises_and_stores_nothing() -> None:
    cache: TTLCache[str, int] = TTLCache(ttl=60)

    async def broken() -> int:
        raise OSError("database down")

    with pytest.raises(OSError, match="database down"):
        await cache.get_or_load("k", broken)
    assert cache.get("k") is None


def test_lru_keeps_the_most_recently_used() -> None:
    cache: LRUCache[int, str] = LRUCache(3)
    for i in range(3):
        cache.set(i, str(i))
    assert cache.get(0) == "0"  # 0 is now the most recent
    cache.set(3, "3")
    assert cache.get(1) is None
    assert [cache.get(i) for i in (0, 2, 3)] == ["0", "2", "3"]
    assert len(cache) == 3
