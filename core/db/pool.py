"""A lean pool of PostgreSQL connections.

Most of Caravan's statements run outside transactions, each on a connection
taken from the pool and handed back at once: a checkout takes a connection
some thirty times. asyncpg's pool spends about 55 µs of CPU on each take
and return (a proxy object, futures, a shielded task, an inactivity timer),
more than running a short statement costs. This pool hands out an idle
connection without waiting, wakes waiters in order, and drops a connection
handed back in a doubtful state (closed, inside a transaction, interrupted
mid-statement) instead of resetting it; a new one replaces it on demand.

Idle connections are reused last-in first-out: the busiest few stay warm,
with their prepared statements cached.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg


class Pool:
    """Up to ``max_size`` connections opened by ``connect`` (``min_size`` at start)."""

    def __init__(
        self,
        connect: Callable[[], Awaitable[asyncpg.Connection]],
        *,
        min_size: int,
        max_size: int,
    ) -> None:
        if not 0 <= min_size <= max_size or max_size < 1:
            raise ValueError(f"pool sizes {min_size}..{max_size}")
        self._connect = connect
        self._min_size = min_size
        self._max_size = max_size
        self._idle: list[asyncpg.Connection] = []
        #: Tasks waiting for a connection; ``None`` lets one open a connection itself.
        self._waiters: deque[asyncio.Future[asyncpg.Connection | None]] = deque()
        #: Connections open or being opened.
        self._size = 0
        self._closed = False

    async def start(self) -> None:
        """Open ``min_size`` connections."""
        opened = [await self._open() for _ in range(self._min_size)]
        for connection in opened:
            self._hand_on(connection)

    async def acquire(self) -> asyncpg.Connection:
        """A connection for the caller alone until :meth:`release`; waits while all
        ``max_size`` are in use."""
        if self._closed:
            raise asyncpg.exceptions.InterfaceError("pool is closing")
        while self._idle:
            connection = self._idle.pop()
            if not connection.is_closed():
                return connection
            self._size -= 1
        if self._size < self._max_size:
            return await self._open()
        waiter: asyncio.Future[asyncpg.Connection | None] = (
            asyncio.get_running_loop().create_future()
        )
        self._waiters.append(waiter)
        try:
            connection = await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():  # handed over as we were cancelled
                self._hand_on(waiter.result())
            raise
        return await self._open() if connection is None else connection

    async def release(self, connection: asyncpg.Connection) -> None:
        """Hand ``connection`` back (closed instead when it is not clean)."""
        if connection.is_closed() or connection.is_in_transaction() or self._closed:
            self._drop(connection)
        else:
            self._hand_on(connection)

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        """Run one statement on a pooled connection and return its rows."""
        connection = await self.acquire()
        try:
            records: list[asyncpg.Record] = await connection.fetch(sql, *args)
        except asyncpg.PostgresError:  # the server refused the statement: still usable
            await self.release(connection)
            raise
        except BaseException:  # cancelled or cut off mid-statement: not reusable
            self._drop(connection)
            raise
        await self.release(connection)
        return records

    async def close(self) -> None:
        """Close the idle connections; those in use close when released."""
        self._closed = True
        idle, self._idle = self._idle, []
        for connection in idle:
            self._size -= 1
            await connection.close()
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(asyncpg.exceptions.InterfaceError("pool is closing"))

    async def _open(self) -> asyncpg.Connection:
        self._size += 1
        try:
            return await self._connect()
        except BaseException:
            self._size -= 1
            self._hand_on(None)
            raise

    def _drop(self, connection: asyncpg.Connection) -> None:
        self._size -= 1
        connection.terminate()
        if not self._closed:
            self._hand_on(None)

    def _hand_on(self, connection: asyncpg.Connection | None) -> None:
        """Give the first live waiter ``connection`` (``None``: the right to open one),
        else keep it idle."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(connection)
                return
        if connection is not None:
            self._idle.append(connection)
