"""Database engine selection, connection set-up and transactions.

Piccolo tables are declared once (``core/<domain>/tables.py``) and bound at
start-up to the engine the settings name: an SQLite file by default, or
PostgreSQL through ``CARAVAN_DATABASE_URL=postgresql://…``.

SQLite runs in WAL mode with a busy timeout. Within one process every write
transaction runs on a single writer connection, taken in turn through an
asyncio lock, and begins IMMEDIATE so that writers of other processes queue
instead of failing half-way.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import sqlite3
from collections.abc import Awaitable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import parse_qs, unquote, urlsplit

import aiosqlite
import asyncpg
import msgspec
from piccolo.columns import JSON, JSONB, Column
from piccolo.columns.defaults.base import Default
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine, PostgresTransaction
from piccolo.engine.sqlite import (
    SQLiteEngine,
    SQLiteTransaction,
    TransactionType,
    dict_factory,
)
from piccolo.querystring import QueryString
from piccolo.table import Table

from core.db.pool import Pool
from core.kernel.errors import CaravanError, ErrorCode
from core.kernel.settings import Settings

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
    """Return asyncpg connection keywords for a ``postgresql://`` URL.

    As in libpq, ``?host=/var/run/postgresql`` connects through the server's Unix
    socket in that directory (cheaper than TCP when the database is on the machine).
    """
    parts = urlsplit(url)
    socket_dir = parse_qs(parts.query).get("host", [""])[0]
    config: dict[str, Any] = {
        "host": socket_dir or parts.hostname or "127.0.0.1",
        "port": parts.port or 5432,
        "database": unquote(parts.path.lstrip("/")) or "postgres",
        "user": unquote(parts.username) if parts.username else "postgres",
    }
    if parts.password:
        config["password"] = unquote(parts.password)
    return config


async def _settled(coro: Awaitable[T]) -> T:
    """Await ``coro`` to its end even if the caller is cancelled meanwhile.

    A statement sent to an SQLite connection runs to its end in the
    connection's thread whatever happens to the task that sent it; the
    connection must not be handed on (or closed) before it has. The caller's
    cancellation is re-raised once the statement is done.
    """
    task = asyncio.ensure_future(coro)
    cancelled = False
    while True:
        try:
            result = await asyncio.shield(task)
        except asyncio.CancelledError:
            if task.cancelled():
                raise
            if not task.done():
                cancelled = True
                continue
            raise
        if cancelled:
            raise asyncio.CancelledError
        return result


async def _open_sqlite(connection_kwargs: dict[str, Any]) -> aiosqlite.Connection:
    """A connection with foreign keys on (autocommit: Piccolo sets no isolation level)."""
    connection = await aiosqlite.connect(**connection_kwargs)
    connection.row_factory = dict_factory  # type: ignore[assignment]
    await connection.execute("PRAGMA foreign_keys = 1")
    return connection


async def _end(transaction: Any, exception: BaseException | None) -> bool:
    """Commit ``transaction`` (roll it back after ``exception``), both run to their end
    even if the task is cancelled, then hand its connection back."""
    if transaction._parent is not None:
        return exception is None
    try:
        if exception is not None:
            if not transaction._rolled_back:
                await _settled(transaction.rollback())
        elif not transaction._committed and not transaction._rolled_back:
            await _settled(transaction.commit())
    finally:
        transaction.engine.current_transaction.reset(transaction.context)
        await transaction._hand_back()
    return exception is None


class WriterTransaction(SQLiteTransaction):
    """A write transaction on the engine's writer connection (one at a time).

    Waiting for the writer can be cancelled at no cost; once the writer is
    taken, ``BEGIN``, ``COMMIT`` and ``ROLLBACK`` run to their end even if
    the task is cancelled (a timeout around a provider call, a client gone),
    and the writer is always handed back outside any transaction.
    """

    engine: PooledSQLiteEngine

    async def __aenter__(self) -> SQLiteTransaction:
        if self._parent is not None:
            return self._parent
        engine = self.engine
        await engine.writer_lock.acquire()
        try:
            self.connection = await engine.writer()
            await _settled(self.begin())  # type: ignore[no-untyped-call]
        except BaseException:
            await self._hand_back()
            raise
        self.context = engine.current_transaction.set(self)
        return self

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        return await _end(self, exception)

    async def _hand_back(self) -> None:
        """Release the writer, rolled back if a failure left a transaction open."""
        connection = getattr(self, "connection", None)
        try:
            if connection is not None and connection.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    await _settled(connection.execute("ROLLBACK"))
        finally:
            self.engine.writer_lock.release()


class SettledPostgresTransaction(PostgresTransaction):
    """A PostgreSQL transaction whose connection always goes back to the pool.

    Piccolo's own leaks the connection when the task is cancelled during
    ``BEGIN`` or ``ROLLBACK``; here those run to their end and the pool gets
    its connection back (asyncpg rolls back whatever is still open).

    ``lock`` names a key the transaction takes the :func:`advisory_lock` of from its
    start: its lock is taken in the same round trip as ``BEGIN``.
    """

    engine: PostgresEngine

    def __init__(self, engine: PostgresEngine, lock: str | None = None) -> None:
        super().__init__(engine)
        self._lock = lock
        #: The keys whose advisory lock this transaction holds (:func:`advisory_lock`).
        self.locked: set[str] = set()

    async def __aenter__(self) -> PostgresTransaction:
        if self._parent is not None:
            if self._lock is not None:
                await advisory_lock(self._lock)
            return self._parent
        self.connection = await self.get_connection()  # type: ignore[no-untyped-call]
        try:
            await _settled(self.begin())
        except BaseException:
            await self._hand_back()
            raise
        self.context = self.engine.current_transaction.set(self)
        return self

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        return await _end(self, exception)

    async def begin(self) -> None:
        """``BEGIN``, and the advisory lock of ``lock`` in the same round trip (a fixed
        number: no parameter can go with two statements)."""
        if self._lock is None:
            await self.connection.execute("BEGIN")
            return
        number = _lock_number(self._lock)
        await self.connection.execute(f"BEGIN; SELECT pg_advisory_xact_lock({number})")
        self.locked.add(self._lock)

    async def commit(self) -> None:
        await self.connection.execute("COMMIT")
        self._committed = True

    async def rollback(self) -> None:
        await self.connection.execute("ROLLBACK")
        self._rolled_back = True

    async def _hand_back(self) -> None:
        if self.engine.pool is not None:
            await _settled(self.engine.pool.release(self.connection))
        else:
            await _settled(self.connection.close())


class PooledSQLiteEngine(SQLiteEngine):
    """Piccolo's SQLite engine with persistent connections.

    Piccolo opens a new connection (and aiosqlite thread) for every query
    outside a transaction and for every transaction. Here, between
    :meth:`start_pool` and :meth:`close_pool`, queries outside transactions
    run on a few long-lived autocommit connections, and write transactions
    (:meth:`write_transaction`) on one long-lived writer connection, taken
    in turn. Requires SQLite 3.35+ (``RETURNING``), which every supported
    platform ships.
    """

    def __init__(self, path: str, **connection_kwargs: Any) -> None:
        self._version: float | None = None  # Piccolo's __init__ asks for it
        self._pool: asyncio.Queue[aiosqlite.Connection] | None = None
        self._connections: list[aiosqlite.Connection] = []
        self._writer: aiosqlite.Connection | None = None
        self.writer_lock = asyncio.Lock()
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
            connection = await _open_sqlite(self.connection_kwargs)
            self._connections.append(connection)
            pool.put_nowait(connection)
        self._pool = pool

    @property
    def pool_started(self) -> bool:
        """Whether :meth:`start_pool` has opened the pool."""
        return self._pool is not None

    async def close_pool(self) -> None:
        """Close the pooled connections and the writer."""
        self._pool = None
        connections, self._connections = self._connections, []
        writer, self._writer = self._writer, None
        if writer is not None:
            async with self.writer_lock:
                connections.append(writer)
        for connection in connections:
            await connection.close()

    async def writer(self) -> aiosqlite.Connection:
        """The writer connection, opened on first use (call with :attr:`writer_lock` held)."""
        if self._writer is None:
            self._writer = await _open_sqlite(self.connection_kwargs)
        return self._writer

    def write_transaction(self) -> WriterTransaction:
        """A write transaction on the writer connection (``BEGIN IMMEDIATE``)."""
        return WriterTransaction(engine=self, transaction_type=TransactionType.immediate)

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
            return await _settled(connection.execute_fetchall(query, args or []))
        finally:
            pool.put_nowait(connection)

    async def _run_in_existing_connection(
        self,
        connection: aiosqlite.Connection,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: type[Table] | None = None,
    ) -> Any:
        # Foreign keys are switched on when the connection opens, not per query.
        return await connection.execute_fetchall(query, args or [])


def create_engine(settings: Settings) -> Engine[Any]:
    """Return an (unconnected) Piccolo engine for ``settings.database_url``."""
    if settings.engine == "postgres":
        return LeanPostgresEngine(config=postgres_config(settings.database_url))
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


def on_postgres() -> bool:
    """Whether tables are bound to PostgreSQL."""
    return isinstance(_engine, PostgresEngine)


def prepare_sqlite_file(path: str) -> None:
    """Switch an SQLite database file to WAL mode (persistent in the file)."""
    if path == ":memory:":
        return
    with sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT) as conn:
        conn.execute("PRAGMA journal_mode=WAL")


class LeanPostgresEngine(PostgresEngine):
    """Piccolo's PostgreSQL engine on the lean :class:`core.db.pool.Pool`."""

    pool: Pool | None

    async def start_connection_pool(self, **kwargs: Any) -> None:
        """Open the pool: ``min_size``, ``max_size``; other keywords go to ``asyncpg.connect``."""
        if self.pool is not None:
            raise RuntimeError("the pool is already open")
        min_size, max_size = kwargs.pop("min_size"), kwargs.pop("max_size")
        config = {**self.config, **kwargs}
        pool = Pool(lambda: asyncpg.connect(**config), min_size=min_size, max_size=max_size)
        await pool.start()
        self.pool = pool

    async def close_connection_pool(self) -> None:
        if self.pool is not None:
            pool, self.pool = self.pool, None
            await pool.close()

    async def _run_in_pool(self, query: str, args: Sequence[Any] | None = None) -> Any:
        if self.pool is None:
            raise ValueError("the pool is not open")
        return await self.pool.fetch(query, *(args or ()))


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


@functools.lru_cache(maxsize=512)
def _numbered(sql: str) -> str:
    """``{}`` placeholders → PostgreSQL's ``$1, $2…`` (statements are fixed texts, and
    few: each is numbered once)."""
    parts = sql.split("{}")
    return "".join(f"{part}${i}" for i, part in enumerate(parts[:-1], 1)) + parts[-1]


async def fetch(sql: str, *args: Any) -> list[dict[str, Any]]:
    """Run a fixed SQL statement (``{}`` placeholders) and return its rows.

    Hot paths use this for their fixed statements: it skips the ORM's query
    building and result processing, which cost more than the statements
    themselves. Outside a transaction it runs on the pool; inside one of
    :func:`transaction`, on the transaction's connection (it sees, and is
    part of, the transaction's writes). Arguments are passed to the driver
    as they are: JSON goes in as text, timestamps as aware datetimes.
    """
    engine = _engine
    current = engine.current_transaction.get()
    if current is None:
        if isinstance(engine, PostgresEngine) and engine.pool is not None:
            records = await engine.pool.fetch(_numbered(sql), *args)
            return [dict(record) for record in records]
        if isinstance(engine, PooledSQLiteEngine) and engine.pool_started:
            rows: list[dict[str, Any]] = await engine._run_in_new_connection(
                sql.replace("{}", "?"), list(args)
            )
            return rows
    elif isinstance(current, SettledPostgresTransaction):
        records = await current.connection.fetch(_numbered(sql), *args)
        return [dict(record) for record in records]
    elif isinstance(current, WriterTransaction):
        found: list[dict[str, Any]] = await _settled(
            current.connection.execute_fetchall(sql.replace("{}", "?"), list(args))
        )
        return found
    result: list[dict[str, Any]] = await engine.run_querystring(QueryString(sql, *args))
    return result


async def write(sql: str, *args: Any) -> list[dict[str, Any]]:
    """Run one write statement (``{}`` placeholders) as a transaction of its own.

    On PostgreSQL a single statement is atomic by itself and runs on the pool
    without ``BEGIN``/``COMMIT`` round trips; on SQLite it goes through the
    writer like every write. Inside a transaction it is part of that one.
    """
    engine = _engine
    in_transaction = engine.current_transaction.get() is not None
    if in_transaction or (isinstance(engine, PostgresEngine) and engine.pool is not None):
        return await fetch(sql, *args)
    async with transaction():
        return await fetch(sql, *args)


@functools.cache
def _columns(table: type[Table]) -> tuple[tuple[str, ...], frozenset[str]]:
    """The column names of ``table`` and those of them holding JSON."""
    names = tuple(column._meta.db_column_name for column in table._meta.columns)
    json = frozenset(
        column._meta.db_column_name
        for column in table._meta.columns
        if isinstance(column, JSON | JSONB)
    )
    return names, json


def _quoted(names: Iterable[str]) -> str:
    return ", ".join(f'"{name}"' for name in names)


def select_columns(table: type[Table]) -> str:
    """Every column of ``table``, quoted, for a ``SELECT`` list (see :func:`decode_json`)."""
    return _quoted(_columns(table)[0])


def _default(column: Column) -> Any:
    value = column.get_default_value()
    return value.python() if isinstance(value, Default) else value


def placeholders(values: Sequence[Any]) -> str:
    """``{}, {}, …``: one placeholder per value (for ``IN (…)`` lists)."""
    return ", ".join("{}" for _ in values)


def _sql_value(value: Any, is_json: bool) -> Any:
    """A value as a driver parameter: JSON columns take text (a ``str`` is taken as JSON)."""
    if not is_json or value is None or isinstance(value, str):
        return value
    return msgspec.json.encode(value).decode()


def sql_values(table: type[Table], values: Mapping[str, Any]) -> list[Any]:
    """``values`` (by column name) of ``table`` as driver parameters, in their order."""
    json = _columns(table)[1]
    return [_sql_value(value, name in json) for name, value in values.items()]


def decode_json(table: type[Table], row: dict[str, Any]) -> dict[str, Any]:
    """``row`` of ``table`` with its JSON columns decoded (drivers give them as text)."""
    for name in _columns(table)[1]:
        value = row.get(name)
        if isinstance(value, str | bytes):
            row[name] = msgspec.json.decode(value)
    return row


def full_row(table: type[Table], row: Mapping[str, Any]) -> dict[str, Any]:
    """``row`` with every column of ``table``: those it leaves out take their default."""
    names, _ = _columns(table)
    return {
        name: row[name] if name in row else _default(column)
        for name, column in zip(names, table._meta.columns, strict=True)
    }


def insert_sql(
    table: type[Table], rows: Sequence[Mapping[str, Any]], tail: str = ""
) -> tuple[str, list[Any]]:
    """The fixed ``INSERT … VALUES`` of ``rows`` (values by column name, at least one)
    into ``table``, ended by ``tail`` (fixed SQL such as ``ON CONFLICT …`` or
    ``RETURNING …``), and its parameters.

    Columns a row leaves out take the column's default; JSON columns take
    Python values.
    """
    names = _columns(table)[0]
    marks = f"({placeholders(names)})"
    sql = (
        f"INSERT INTO {table._meta.tablename} ({_quoted(names)}) VALUES "  # noqa: S608
        + ", ".join(marks for _ in rows)
        + (f" {tail}" if tail else "")
    )
    return sql, [value for row in rows for value in sql_values(table, full_row(table, row))]


async def insert(
    table: type[Table], rows: Sequence[Mapping[str, Any]], tail: str = ""
) -> list[dict[str, Any]]:
    """Insert ``rows`` (see :func:`insert_sql`) with one statement, inside the current
    transaction, else as one of its own; ``tail`` (fixed SQL such as ``ON CONFLICT …
    RETURNING …``) ends it, and the rows it returns are returned."""
    if not rows:
        return []
    sql, params = insert_sql(table, rows, tail)
    return await write(sql, *params)


Batch = tuple[type[Table], Sequence[Mapping[str, Any]]]


def insert_statements(*batches: Batch) -> list[tuple[str, list[Any]]]:
    """The inserts of the ``(table, rows)`` batches that have rows, for :func:`write_all`."""
    return [insert_sql(table, rows, "RETURNING 1") for table, rows in batches if rows]


async def insert_all(*batches: Batch) -> None:
    """Insert each ``(table, rows)`` batch (see :func:`insert_sql`) as one unit (see
    :func:`write_all`). Foreign keys between the batches hold: PostgreSQL checks them
    at the end of the statement."""
    await write_all(*insert_statements(*batches))


async def write_all(*statements: tuple[str, Sequence[Any]]) -> list[int]:
    """Run write statements (``{}`` placeholders, each ending in ``RETURNING …``) as one
    unit; returns how many rows each returned.

    PostgreSQL runs them as one statement, each a data-modifying ``WITH``: every
    one sees the database as it was before any of them, so they must not touch
    the same rows. SQLite runs them one after another in the current
    transaction (else one of their own).
    """
    if len(statements) == 1:
        sql, params = statements[0]
        return [len(await write(sql, *params))]
    if statements and on_postgres():
        sql = "WITH " + ", ".join(f"s{i} AS ({part})" for i, (part, _) in enumerate(statements))
        counts = ", ".join(
            f"(SELECT count(*) FROM s{i}) AS n{i}"  # noqa: S608
            for i in range(len(statements))
        )
        row = (await write(f"{sql} SELECT {counts}", *[v for _, p in statements for v in p]))[0]
        return [int(row[f"n{i}"]) for i in range(len(statements))]
    inside = _engine.current_transaction.get() is not None
    async with contextlib.nullcontext() if inside else transaction():
        return [len(await fetch(sql, *params)) for sql, params in statements]


async def select(table: type[Table], where: str, *args: Any) -> list[dict[str, Any]]:
    """Every column of the rows of ``table`` matching ``where`` (the fixed SQL after
    ``WHERE``, ``{}`` placeholders), JSON columns decoded."""
    rows = await fetch(
        f"SELECT {select_columns(table)} FROM {table._meta.tablename} WHERE {where}",  # noqa: S608
        *args,
    )
    return [decode_json(table, row) for row in rows]


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


def _lock_number(key: str) -> int:
    """The advisory lock number of ``key``: 64 bits of its BLAKE2b digest."""
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


async def advisory_lock(key: str) -> None:
    """Make the transactions that call this with ``key`` run one after another (until
    the calling transaction ends).

    PostgreSQL takes a transaction-level advisory lock on the key, once per
    transaction (see also ``transaction(lock=…)``); SQLite's write
    transactions are serial already.
    """
    if not on_postgres():
        return
    current = _engine.current_transaction.get()
    if isinstance(current, SettledPostgresTransaction):
        if key in current.locked:
            return
        current.locked.add(key)
    await fetch("SELECT 1 FROM pg_advisory_xact_lock({})", _lock_number(key))


def json_object_agg(key: str, value: str) -> str:
    """SQL aggregating ``key``/``value`` pairs into a JSON object (text; ``NULL`` over no
    rows) on either engine."""
    function = "json_object_agg" if on_postgres() else "json_group_object"
    return f"{function}({key}, {value})"


def now() -> datetime:
    """The current time, timezone-aware UTC (what timestamp columns store)."""
    return datetime.now(UTC)


def transaction(lock: str | None = None) -> Any:
    """Return an async context manager for one write transaction.

    On SQLite the transaction begins IMMEDIATE (it takes the write lock up
    front); on PostgreSQL it is an ordinary READ COMMITTED transaction, and
    code that needs row guarantees uses conditional UPDATEs. ``lock``:
    the transaction holds that key's :func:`advisory_lock` from its
    start, at no extra round trip on PostgreSQL.
    """
    engine = _engine
    if isinstance(engine, PooledSQLiteEngine) and engine.pool_started:
        return engine.write_transaction()
    if isinstance(engine, SQLiteEngine):
        return engine.transaction(transaction_type=TransactionType.immediate)
    if isinstance(engine, PostgresEngine):
        return SettledPostgresTransaction(engine, lock)
    return engine.transaction()
