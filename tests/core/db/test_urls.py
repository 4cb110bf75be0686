"""Database URLs: TCP and Unix-socket PostgreSQL URLs reach the same server."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from core.db.engine import postgres_config
from core.db.migrate import sqlalchemy_url
from core.plugins.testing.fixtures import postgres_url

PG_URL = postgres_url()

SOCKET_DIR = "/var/run/postgresql"


def test_a_host_query_parameter_names_the_unix_socket_directory() -> None:
    url = f"postgresql://shop:secret@/caravan?host={SOCKET_DIR}"
    assert postgres_config(url) == {
        "host": SOCKET_DIR,
        "port": 5432,
        "database": "caravan",
        "user": "shop",
        "password": "secret",
    }
    assert sqlalchemy_url(url) == (f"postgresql+asyncpg://shop:secret@/caravan?host={SOCKET_DIR}")
    assert postgres_config("postgresql://db.internal:6432/x")["host"] == "db.internal"
    assert sqlalchemy_url("postgresql://u@db.internal:6432/x") == (
        "postgresql+asyncpg://u@db.internal:6432/x"
    )


@pytest.mark.skipif(
    not PG_URL or not (Path(SOCKET_DIR) / ".s.PGSQL.5432").exists(),
    reason="needs the PostgreSQL test server and its Unix socket on this machine",
)
async def test_the_unix_socket_url_reaches_the_test_database() -> None:
    assert PG_URL is not None
    parts = urlsplit(PG_URL)
    user = parts.username or "postgres"
    url = f"postgresql://{user}@{parts.path}?host={SOCKET_DIR}"
    connection = await asyncpg.connect(**postgres_config(url))
    try:
        assert await connection.fetchval("SELECT current_database()") == parts.path.lstrip("/")
        # No TCP peer: the connection came through the socket.
        assert await connection.fetchval("SELECT inet_client_addr()") is None
    finally:
        await connection.close()
    engine = create_async_engine(sqlalchemy_url(url))
    try:
        async with engine.connect() as conn:
            found = (await conn.execute(text("SELECT inet_client_addr()"))).scalar()
        assert found is None
    finally:
        await engine.dispose()
