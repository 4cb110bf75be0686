"""Running Alembic from Python: upgrade to head, and the drift check."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from pathlib import Path

from alembic import command
from alembic.config import Config
from piccolo.table import Table

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


def alembic_config(
    database_url: str,
    *,
    plugin_dirs: Sequence[Path] = (),
    tables: Sequence[type[Table]] | None = None,
    quiet: bool = True,
) -> Config:
    """Return an Alembic config for ``database_url`` (the root ``alembic.ini``).

    ``plugin_dirs`` are the plugins' version folders (a branch each) and
    ``tables`` every table the database should hold (for ``--autogenerate``):
    the application's ``PluginHost.migration_dirs`` and ``.tables``.
    """
    config = Config(str(ROOT / "alembic.ini"))
    migrations = ROOT / "core" / "db" / "migrations"
    config.set_main_option("script_location", str(migrations))
    locations = [migrations / "versions", *plugin_dirs]
    config.set_main_option("version_locations", os.pathsep.join(str(p) for p in locations))
    config.attributes["database_url"] = database_url
    config.attributes["quiet"] = quiet
    if tables is not None:
        config.attributes["tables"] = list(tables)
    return config


def upgrade(
    database_url: str, revision: str = "heads", *, plugin_dirs: Sequence[Path] = ()
) -> None:
    """Migrate ``database_url`` to ``revision``, the plugins' branches (``plugin_dirs``)
    included (blocking; call from a thread in async code)."""
    if database_url.startswith("sqlite"):
        prepare_sqlite_file(sqlite_path(database_url))
    command.upgrade(alembic_config(database_url, plugin_dirs=plugin_dirs), revision)


async def upgrade_async(
    database_url: str, revision: str = "heads", *, plugin_dirs: Sequence[Path] = ()
) -> None:
    """:func:`upgrade` for async callers (runs Alembic in a worker thread)."""
    await asyncio.to_thread(upgrade, database_url, revision, plugin_dirs=plugin_dirs)
