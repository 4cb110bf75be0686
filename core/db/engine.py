"""Database engine selection, connection set-up and transactions.

Piccolo tables are declared once (``core/<domain>/tables.py``) and bound at
start-up to the engine the settings name: an SQLite file by default, or
PostgreSQL through ``CARAVAN_DATABASE_URL=postgresql://…``.

SQLite runs in WAL mode with a busy timeout, and every write transaction
begins IMMEDIATE so that two writers queue instead of failing half-way.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Iterable
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

import aiosqlite
import asyncpg
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType, dict_factory
from piccolo.querystring import QueryString
from piccolo.table import Table

from core.errors import CaravanError, ErrorCode
from core.settings import Settings

T = TypeVar("T")

#: Seconds an SQLite connection waits for a lock before giving up.
SQLITE_BUSY_TIMEOUT = 30.0

#: The engine tables use before :func:`bind` runs (an in-memory database, so
#: an unbound query fails loudly instead of writing a stray file).
UNBOUND = SQLiteEngine(path=":memory:")

_engine: Engine[Any] = UNBOUND


def sqlite_path(url: str) -> str:
    """Return the file path of an ``sqlite:///path`` URL."""
    parts = urlsplit(url)
    if parts.scheme != "sqlite":
        raise ValueError(f"not an SQLite URL: {url!r}")
    path = unquote(parts.path)
    # sqlite:///relative.db → "/relative.db" ; sqlite:////abs/path.db → "//abs/path.db"
    return path[1:] if path.startswith("/") else path


def postgres_config(url: str) -> dict[str, Any]:
    """Return asyncpg connection keywords for a ``postgresql://`` URL."""
    parts = urlsplit(url)
    config: dict[str, Any] = {
        "host": parts.hostname or "127.0.0.1",
        "port": parts.port or 5432,
        "database": unquote(parts.path.lstrip("/")) or "postgres",
        "user": unquote(parts.username) if parts.username else "postgres",
    }
    if parts.password:
        config["password"] = unquote(parts.password)
    return config


class PooledSQLiteEngine(SQLiteEngine):
    """Piccolo's SQLite engine with a pool of persistent connections.

    Piccolo opens a new connection (and aiosqlite thread) for every query
    outside a transaction; between :meth:`start_pool` and :meth:`close_pool`
    such queries run on a few long-lived connections instead. Transactions
    keep their own connection, as in Piccolo. Requires SQLite 3.35+
    (``RETURNING``), which every supported platform ships.
    """

    def __init__(self, path: str, **connection_kwargs: Any) -> None:
        self._version: float | None = None  # Piccolo's __init__ asks for it
        self._pool: asyncio.Queue[aiosqlite.Connection] | None = None
        self._connections: list[aiosqlite.Connection] = []
        super().__init__(path=path, **connection_kwargs)

    def get_version_sync(self) -> float:
        """The SQLite version (asked once; Piccolo asks on every insert)."""
        if self._version is None:
            self._version = float(super().get_version_sync())
        return self._version

    async def start_pool(self, size: int) -> None:
        """Open ``size`` connections for queries outside transactions."""
        pool: asyncio.Queue[aiosqlite.Connection] = asyncio.Queue()
        for _ in range(max(1, size)):
            connection = await aiosqlite.connect(**self.connection_kwargs)
            connection.row_factory = dict_factory  # type: ignore[assignment]
            await connection.execute("PRAGMA foreign_keys = 1")
            self._connections.append(connection)
            pool.put_nowait(connection)
        self._pool = pool

    @property
    def pool_started(self) -> bool:
        """Whether :meth:`start_pool` has opened the pool."""
        return self._pool is not None

    async def close_pool(self) -> None:
        """Close the pooled connections."""
        self._pool = None
        connections, self._connections = self._connections, []
        for connection in connections:
            await connection.close()

    async def _run_in_new_connection(
        self,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: type[Table] | None = None,
    ) -> Any:
        pool = self._pool
        if pool is None:
            return await super()._run_in_new_connection(query, args, query_type, table)
        connection = await pool.get()
        try:
            async with connection.execute(query, args or []) as cursor:
                return await cursor.fetchall()
        finally:
            pool.put_nowait(connection)


def create_engine(settings: Settings) -> Engine[Any]:
    """Return an (unconnected) Piccolo engine for ``settings.database_url``."""
    if settings.engine == "postgres":
        return PostgresEngine(config=postgres_config(settings.database_url))
    return PooledSQLiteEngine(sqlite_path(settings.database_url), timeout=SQLITE_BUSY_TIMEOUT)


def bind(engine: Engine[Any], tables: Iterable[type[Table]]) -> None:
    """Point every table at ``engine``."""
    global _engine
    _engine = engine
    for table in tables:
        table._meta.db = engine


def current() -> Engine[Any]:
    """Return the engine tables are bound to."""
    return _engine


def prepare_sqlite_file(path: str) -> None:
    """Switch an SQLite database file to WAL mode (persistent in the file)."""
    if path == ":memory:":
        return
    with sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT) as conn:
        conn.execute("PRAGMA journal_mode=WAL")


async def start(engine: Engine[Any], settings: Settings) -> None:
    """Open pools and set connection-level options for ``engine``."""
    if isinstance(engine, PostgresEngine):
        # JIT compilation costs more than it saves on short OLTP queries.
        await engine.start_connection_pool(
            min_size=settings.pool_min,
            max_size=settings.pool_max,
            server_settings={"jit": "off"},
        )
    elif isinstance(engine, SQLiteEngine):
        prepare_sqlite_file(engine.path)
        if isinstance(engine, PooledSQLiteEngine):
            await engine.start_pool(settings.sqlite_pool)


async def stop(engine: Engine[Any]) -> None:
    """Close what :func:`start` opened."""
    if isinstance(engine, PostgresEngine):
        await engine.close_connection_pool()
    elif isinstance(engine, PooledSQLiteEngine):
        await engine.close_pool()


def _numbered(sql: str) -> str:
    """``{}`` placeholders → PostgreSQL's ``$1, $2…``."""
    parts = sql.split("{}")
    return "".join(f"{part}${i}" for i, part in enumerate(parts[:-1], 1)) + parts[-1]


async def fetch(sql: str, *args: Any) -> list[dict[str, Any]]:
    """Run a read-only query (``{}`` placeholders) straight on the pool of the bound engine.

    The storefront read path uses this for its fixed queries: it skips the
    ORM's query building and result processing, which cost more than the
    queries themselves. Inside a transaction, or with no pool started, it
    goes through Piccolo so that it sees the transaction's writes.
    """
    engine = _engine
    if engine.current_transaction.get() is None:
        if isinstance(engine, PostgresEngine) and engine.pool is not None:
            records = await engine.pool.fetch(_numbered(sql), *args)
            return [dict(record) for record in records]
        if isinstance(engine, PooledSQLiteEngine) and engine.pool_started:
            rows: list[dict[str, Any]] = await engine._run_in_new_connection(
                sql.replace("{}", "?"), list(args)
            )
            return rows
    found: list[dict[str, Any]] = await engine.run_querystring(QueryString(sql, *args))
    return found


def is_unique_violation(exc: BaseException) -> bool:
    """Whether ``exc`` is a UNIQUE constraint failure of either engine."""
    if isinstance(exc, asyncpg.UniqueViolationError):
        return True
    return isinstance(exc, sqlite3.IntegrityError) and "UNIQUE constraint failed" in str(exc)


async def unique_or_conflict(coro: Awaitable[T], error: ErrorCode, **params: Any) -> T:
    """Await ``coro``; a UNIQUE violation (a concurrent duplicate) becomes ``error`` (409)."""
    try:
        return await coro
    except Exception as exc:
        if is_unique_violation(exc):
            raise CaravanError(error, **params) from exc
        raise


def now() -> datetime:
    """The current time, timezone-aware UTC (what timestamp columns store)."""
    return datetime.now(UTC)


def transaction() -> Any:
    """Return an async context manager for one write transaction.

    On SQLite the transaction begins IMMEDIATE (it takes the write lock up
    front); on PostgreSQL it is an ordinary READ COMMITTED transaction, and
    code that needs row guarantees uses conditional UPDATEs.
    """
    engine = _engine
    if isinstance(engine, SQLiteEngine):
        return engine.transaction(transaction_type=TransactionType.immediate)
    return engine.transaction()
