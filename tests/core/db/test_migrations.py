"""Alembic migrations match the Piccolo tables exactly (no drift), on this engine."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Integer, inspect
from sqlalchemy.ext.asyncio import create_async_engine

from core.db.metadata import build_metadata
from core.db.migrate import alembic_config, sqlalchemy_url, upgrade
from core.kernel.settings import Settings
from core.plugins.current import current_host


async def _run(url: str, fn: Any) -> Any:
    engine = create_async_engine(sqlalchemy_url(url))
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(fn)
    finally:
        await engine.dispose()


def _diff(conn: Any) -> list[Any]:
    context = MigrationContext.configure(conn, opts={"compare_type": True})
    return list(compare_metadata(context, build_metadata(current_host().tables)))


async def test_migrated_database_has_no_drift(app: Any, settings: Settings) -> None:
    """The test database was migrated to head by the suite: compare it with the tables."""
    assert await _run(settings.database_url, _diff) == []


async def test_database_is_at_every_head(app: Any, settings: Settings) -> None:
    """The core's history has one head (plugins add a branch each); the database is at all."""
    script = ScriptDirectory.from_config(
        alembic_config(settings.database_url, plugin_dirs=current_host().migration_dirs)
    )
    heads = script.get_heads()
    core = [h for h in heads if not script.get_revision(h).branch_labels]  # plugins label theirs
    assert len(core) == 1

    def current(conn: Any) -> set[str]:
        return set(MigrationContext.configure(conn).get_current_heads())

    assert await _run(settings.database_url, current) == set(heads)


async def test_every_piccolo_table_and_column_exists(app: Any, settings: Settings) -> None:
    def tables(conn: Any) -> dict[str, set[str]]:
        inspector = inspect(conn)
        return {
            t: {c["name"] for c in inspector.get_columns(t)} for t in inspector.get_table_names()
        }

    found = await _run(settings.database_url, tables)
    for table in current_host().tables:
        name = table._meta.tablename
        assert name in found, name
        assert {c._meta.db_column_name for c in table._meta.columns} == found[name]


async def test_drift_is_detected(app: Any, settings: Settings) -> None:
    """The check can fail: a column the database lacks shows up as a difference."""
    metadata = build_metadata(current_host().tables)
    metadata.tables["stores"].append_column(Column("extra_column", Integer(), nullable=True))

    def diff(conn: Any) -> list[Any]:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))

    differences = await _run(settings.database_url, diff)
    assert [(d[0], d[3].name) for d in differences] == [("add_column", "extra_column")]


def test_lowest_prices_are_backfilled(tmp_path: Path) -> None:
    """Upgrading a database that already has prices fills ``product_prices``."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0001", plugin_dirs=current_host().migration_dirs)
    with sqlite3.connect(tmp_path / "old.db") as conn:
        conn.execute(
            "INSERT INTO stores VALUES ('store_1', 'old', 'Old', 'EUR', 'DE', 'en', '{}', 1, "
            "'2026-01-01 00:00:00+00:00', '2026-01-01 00:00:00+00:00')"
        )
        conn.execute(
            "INSERT INTO products VALUES ('prod_1', 'store_1', 'p', 'active', '[]', '[]', '[]', "
            "'2026-01-01 00:00:00+00:00', '2026-01-01 00:00:00+00:00')"
        )
        for variant in ("var_1", "var_2"):
            conn.execute(
                "INSERT INTO variants VALUES (?, 'store_1', 'prod_1', ?, '', '{}', 0, 0, 0, 0, "
                "'', '', 0, '2026-01-01 00:00:00+00:00')",
                (variant, variant.upper()),
            )
        conn.executemany(
            "INSERT INTO variant_prices VALUES (?, 'store_1', 'prod_1', ?, ?, ?)",
            [
                ("price_1", "var_1", "EUR", 900),
                ("price_2", "var_2", "EUR", 700),
                ("price_3", "var_1", "USD", 1000),
            ],
        )
    upgrade(url, plugin_dirs=current_host().migration_dirs)
    with sqlite3.connect(tmp_path / "old.db") as conn:
        rows = conn.execute(
            "SELECT product, currency, min_amount FROM product_prices ORDER BY currency"
        ).fetchall()
    assert rows == [("prod_1", "EUR", 700), ("prod_1", "USD", 1000)]


def test_region_countries_are_backfilled(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0002", plugin_dirs=current_host().migration_dirs)
    with sqlite3.connect(tmp_path / "old.db") as conn:
        conn.execute(
            "INSERT INTO stores VALUES ('store_1', 'old', 'Old', 'EUR', 'DE', 'en', '{}', 1, "
            "'2026-01-01 00:00:00+00:00', '2026-01-01 00:00:00+00:00')"
        )
        conn.execute(
            "INSERT INTO regions VALUES ('reg_1', 'store_1', 'eu', 'EU', 'EUR', "
            '\'["DE", "FR"]\', \'["de"]\', 0, '
            "'2026-01-01 00:00:00+00:00', '2026-01-01 00:00:00+00:00')"
        )
    upgrade(url, plugin_dirs=current_host().migration_dirs)
    with sqlite3.connect(tmp_path / "old.db") as conn:
        rows = conn.execute(
            "SELECT store, region, country FROM region_countries ORDER BY country"
        ).fetchall()
    assert rows == [("store_1", "reg_1", "DE"), ("store_1", "reg_1", "FR")]


def test_existing_stores_get_the_default_plugins_installed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0008", plugin_dirs=current_host().migration_dirs)
    with sqlite3.connect(tmp_path / "old.db") as conn:
        conn.execute(
            "INSERT INTO stores VALUES ('store_01ABC', 'old', 'Old', 'EUR', 'DE', 'en', '{}', 1, "
            "'2026-01-01 00:00:00+00:00', '2026-01-01 00:00:00+00:00')"
        )
    upgrade(url, plugin_dirs=current_host().migration_dirs)
    with sqlite3.connect(tmp_path / "old.db") as conn:
        rows = conn.execute(
            "SELECT id, store, package, plugin, permissions, uninstalled_at FROM store_plugins "
            "ORDER BY package"
        ).fetchall()
    assert rows == [
        (
            "splug1_01ABC",
            "store_01ABC",
            "caravan-manual-payment",
            "manual_payment",
            '["orders:write"]',
            None,
        ),
        (
            "splug2_01ABC",
            "store_01ABC",
            "caravan-rate-table-tax",
            "rate_table_tax",
            '["settings:write"]',
            None,
        ),
        (
            "splug3_01ABC",
            "store_01ABC",
            "caravan-table-rate-shipping",
            "table_rate_shipping",
            '["settings:write"]',
            None,
        ),
    ]
