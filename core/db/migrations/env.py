"""Alembic environment: migrates the database named by the Caravan settings."""

from __future__ import annotations

import asyncio
import logging.config

from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from core.db.metadata import build_metadata
from core.db.migrate import sqlalchemy_url
from core.kernel.settings import Settings

config = context.config
if config.config_file_name is not None and not config.attributes.get("quiet"):
    logging.config.fileConfig(config.config_file_name, disable_existing_loggers=False)


def _tables() -> list[object]:
    """The tables the caller named, else those of the installed plugins' host
    (``alembic revision --autogenerate`` run from the command line)."""
    if "tables" in config.attributes:
        return list(config.attributes["tables"])
    from core.plugins.host import PluginHost  # this script is not a module of a layer

    return list(PluginHost.load().tables)


target_metadata = build_metadata(_tables())  # type: ignore[arg-type]


def _database_url() -> str:
    url = config.attributes.get("database_url") or Settings.from_env().database_url
    return sqlalchemy_url(str(url))


def _configure(connection: Connection | None = None, url: str | None = None) -> None:
    is_sqlite = (url or "").startswith("sqlite") or (
        connection is not None and connection.dialect.name == "sqlite"
    )
    context.configure(
        connection=connection,
        url=url,
        target_metadata=target_metadata,
        render_as_batch=is_sqlite,
        compare_type=True,
        literal_binds=connection is None,
    )


def run_migrations_offline() -> None:
    """Emit SQL to stdout (``alembic upgrade head --sql``) for a DBA to review."""
    _configure(url=_database_url())
    with context.begin_transaction():
        context.run_migrations()


def _run_sync(connection: Connection) -> None:
    _configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    engine = create_async_engine(_database_url(), poolclass=pool.NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(_run_sync)
    await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(_run_async())
