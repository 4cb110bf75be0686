"""Running Alembic from Python: upgrade to head, and the drift check."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from alembic import command
from alembic.config import Config

from core.db.engine import postgres_config, prepare_sqlite_file, sqlite_path

ROOT = Path(__file__).resolve().parents[2]


def sqlalchemy_url(url: str) -> str:
    """Return the async SQLAlchemy URL for a Caravan database URL."""
    if url.startswith("sqlite"):
        return f"sqlite+aiosqlite:///{sqlite_path(url)}"
    cfg = postgres_config(url)
    auth = cfg["user"] + (f":{cfg['password']}" if "password" in cfg else "")
    if cfg["host"].startswith("/"):  # a Unix socket directory
        return f"postgresql+asyncpg://{auth}@/{cfg['database']}?host={cfg['host']}"
    return f"postgresql+asyncpg://{auth}@{cfg['host']}:{cfg['port']}/{cfg['database']}"


def alembic_config(database_url: str, *, quiet: bool = True) -> Config:
    """Return an Alembic config for ``database_url`` (the root ``alembic.ini``)."""
    from core.plugins.host import migration_dirs

    config = Config(str(ROOT / "alembic.ini"))
    migrations = ROOT / "core" / "db" / "migrations"
    config.set_main_option("script_location", str(migrations))
    locations = [migrations / "versions", *migration_dirs()]
    config.set_main_option("version_locations", os.pathsep.join(str(p) for p in locations))
    config.attributes["database_url"] = database_url
    config.attributes["quiet"] = quiet
    return config


def upgrade(database_url: str, revision: str = "heads") -> None:
    """Migrate ``database_url`` to ``revision`` (blocking; call from a thread in async code)."""
    if database_url.startswith("sqlite"):
        prepare_sqlite_file(sqlite_path(database_url))
    command.upgrade(alembic_config(database_url), revision)


async def upgrade_async(database_url: str, revision: str = "heads") -> None:
    """:func:`upgrade` for async callers (runs Alembic in a worker thread)."""
    await asyncio.to_thread(upgrade, database_url, revision)
