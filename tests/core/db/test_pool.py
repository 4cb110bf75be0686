"""The lean PostgreSQL pool: limits, waiting in order, and connections that come back
in a doubtful state (in a transaction, interrupted, closed) are replaced, not reused."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from core.db.engine import postgres_config
from core.db.pool import Pool
from core.plugins.testing.fixtures import postgres_url

PG_URL = postgres_url()

pytestmark = pytest.mark.skipif(not PG_URL, reason="the pool serves PostgreSQL")


class Counting:
    """Opens real connections to the test database, counting them; can be made to fail."""

    def __init__(self) -> None:
        self.opened = 0
        self.fail = False

    async def __call__(self) -> asyncpg.Connection:
        if self.fail:
            raise OSError("connection refused")
        assert PG_URL is not None
        connection = await asyncpg.connect(**postgres_config(PG_URL))
        self.opened += 1
        return connection


@pytest.fixture
async def opener() -> Counting:
    return Counting()


@pytest.fixture
async def pool(opener: Counting) -> AsyncIterator[Pool]:
    pool = Pool(opener, min_size=1, max_size=2)
    await pool.start()
    yield pool
    await pool.close()


async def _pid(connection: asyncpg.Connection) -> int:
    pid: int = await connection.fetchval("SELECT pg_backend_pid()")
    return pid


async def test_it_opens_min_size_at_start_and_reuses_the_last_connection_returned(
    pool: Pool, opener: Counting
) -> None:
    assert opener.opened == 1
    first = [row["pid"] for row in await pool.fetch("SELECT pg_backend_pid() AS pid")]
    again = [row["pid"] for row in await pool.fetch("SELECT pg_backend_pid() AS pid")]
    assert first == again
    assert opener.opened == 1


async def test_it_never_opens_more_than_max_size_and_serves_waiters_in_order(
    pool: Pool, opener: Counting
) -> None:
    a, b = await pool.acquire(), await pool.acquire()
    assert opener.opened == 2
    served: list[str] = []

    async def wait(name: str) -> asyncpg.Connection:
        connection = await pool.acquire()
        served.append(name)
        return connection

    first = asyncio.create_task(wait("first"))
    second = asyncio.create_task(wait("second"))
    await asyncio.sleep(0.05)
    assert served == []
    assert opener.opened == 2
    await pool.release(a)
    got = await first
    assert got is a
    assert served == ["first"]
    await pool.release(b)
    assert await second is b
    assert served == ["first", "second"]
    assert opener.opened == 2
    await pool.release(got)
    await pool.release(b)


async def test_a_connection_returned_inside_a_transaction_is_closed_and_replaced(
    pool: Pool, opener: Counting
) -> None:
    connection = await pool.acquire()
    pid = await _pid(connection)
    await connection.execute("BEGIN")
    await connection.execute("CREATE TEMP TABLE leftover (id int)")
    await pool.release(connection)
    assert connection.is_closed()
    fresh = await pool.acquire()
    assert await _pid(fresh) != pid
    # The half-done transaction died with its connection.
    assert await fresh.fetchval("SELECT to_regclass('pg_temp.leftover')") is None
    await pool.release(fresh)
    assert opener.opened == 2


async def test_a_statement_cut_off_by_cancellation_drops_its_connection(
    pool: Pool, opener: Counting
) -> None:
    before = [row["pid"] for row in await pool.fetch("SELECT pg_backend_pid() AS pid")]
    task = asyncio.create_task(pool.fetch("SELECT pg_sleep(5)"))
    await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    after = [row["pid"] for row in await pool.fetch("SELECT pg_backend_pid() AS pid")]
    assert after != before
    assert opener.opened == 2


async def test_a_statement_the_server_refuses_keeps_its_connection(
    pool: Pool, opener: Counting
) -> None:
    before = await pool.fetch("SELECT pg_backend_pid() AS pid")
    with pytest.raises(asyncpg.exceptions.UndefinedTableError):
        await pool.fetch("SELECT * FROM no_such_table")
    assert await pool.fetch("SELECT pg_backend_pid() AS pid") == before
    assert opener.opened == 1


async def test_a_waiter_cancelled_after_being_served_hands_its_connection_on(
    pool: Pool, opener: Counting
) -> None:
    a, b = await pool.acquire(), await pool.acquire()
    waiting = asyncio.create_task(pool.acquire())
    await asyncio.sleep(0.01)
    await pool.release(a)  # served: the task has not run yet
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert await pool.acquire() is a  # back in the pool, not lost
    await pool.release(a)
    await pool.release(b)
    assert opener.opened == 2


async def test_a_failed_open_frees_its_place_and_the_next_waiter_tries_again(
    pool: Pool, opener: Counting
) -> None:
    held = await pool.acquire()
    opener.fail = True
    with pytest.raises(OSError, match="refused"):
        await pool.acquire()
    opener.fail = False
    second = await pool.acquire()  # the failed attempt did not use up a place
    assert opener.opened == 2
    await pool.release(held)
    await pool.release(second)


async def test_closing_fails_waiters_and_later_acquires_and_closes_returned_connections(
    opener: Counting,
) -> None:
    pool = Pool(opener, min_size=1, max_size=1)
    await pool.start()
    held = await pool.acquire()
    waiting = asyncio.create_task(pool.acquire())
    await asyncio.sleep(0.01)
    await pool.close()
    with pytest.raises(asyncpg.exceptions.InterfaceError, match="pool is closing"):
        await waiting
    with pytest.raises(asyncpg.exceptions.InterfaceError, match="pool is closing"):
        await pool.acquire()
    await pool.release(held)
    assert held.is_closed()


def test_sizes_are_checked() -> None:
    with pytest.raises(ValueError, match="pool sizes"):
        Pool(Counting(), min_size=3, max_size=2)
    with pytest.raises(ValueError, match="pool sizes"):
        Pool(Counting(), min_size=0, max_size=0)
