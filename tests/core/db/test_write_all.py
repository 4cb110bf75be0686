"""engine.write_all: several writes as one unit (one statement on PostgreSQL, one
transaction on SQLite), with the number of rows each returned."""

from __future__ import annotations

import sqlite3

import asyncpg
import pytest

from core.db import engine as db
from core.kernel.ids import new_id

pytestmark = pytest.mark.usefixtures("client")  # the app's pools are open


async def _table() -> None:
    await db.fetch(
        "CREATE TABLE IF NOT EXISTS write_probe (id TEXT PRIMARY KEY, tag TEXT NOT NULL, n INTEGER)"
    )


def _add(tag: str, *ids: str) -> tuple[str, list[str]]:
    values = ", ".join("({}, {}, 0)" for _ in ids)
    return (
        f"INSERT INTO write_probe (id, tag, n) VALUES {values} RETURNING id",  # noqa: S608
        [part for row_id in ids for part in (row_id, tag)],
    )


async def _rows(tag: str) -> dict[str, int]:
    rows = await db.fetch("SELECT id, n FROM write_probe WHERE tag = {}", tag)
    return {row["id"]: row["n"] for row in rows}


async def test_it_applies_every_statement_and_counts_the_rows_each_returned() -> None:
    await _table()
    tag = new_id("tag")
    first = new_id("probe")
    await db.write_all(_add(tag, first))
    a, b = new_id("probe"), new_id("probe")
    counts = await db.write_all(
        _add(tag, a, b),
        ("UPDATE write_probe SET n = n + 1 WHERE id = {} RETURNING id", [first]),
        ("UPDATE write_probe SET n = 1 WHERE id = {} RETURNING id", ["missing"]),
        ("DELETE FROM write_probe WHERE tag = {} AND n > 5 RETURNING id", [tag]),
    )
    assert counts == [2, 1, 0, 0]
    assert await _rows(tag) == {first: 1, a: 0, b: 0}


async def test_a_failing_statement_undoes_the_others() -> None:
    await _table()
    tag = new_id("tag")
    taken = new_id("probe")
    await db.write_all(_add(tag, taken))
    with pytest.raises((asyncpg.UniqueViolationError, sqlite3.IntegrityError)):
        await db.write_all(
            ("UPDATE write_probe SET n = 7 WHERE id = {} RETURNING id", [taken]),
            _add(tag, new_id("probe"), taken),  # the second row's id exists already
        )
    assert await _rows(tag) == {taken: 0}


async def test_inside_a_transaction_it_is_part_of_it() -> None:
    await _table()
    tag = new_id("tag")
    counts: list[list[int]] = []

    async def change_mind() -> None:
        async with db.transaction():
            counts.append(
                await db.write_all(_add(tag, new_id("probe")), _add(tag, new_id("probe")))
            )
            raise RuntimeError("changed my mind")

    with pytest.raises(RuntimeError, match="changed my mind"):
        await change_mind()
    assert counts == [[1, 1]]
    assert await _rows(tag) == {}
