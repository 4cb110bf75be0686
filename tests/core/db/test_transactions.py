"""Write transactions under cancellation: a task cancelled while it waits for the
write lock, while it begins, or in the middle of its transaction never leaves the
database locked, and what it wrote is either all committed or not there at all.

Cancellation is what a provider timeout or a vanished client does to a request.
"""

from __future__ import annotations

import asyncio
import random

import pytest

from core.db import engine as db
from core.ids import new_id

pytestmark = pytest.mark.usefixtures("client")  # the app's pools are open


async def _scratch_table() -> None:
    await db.fetch("CREATE TABLE IF NOT EXISTS tx_probe (id TEXT PRIMARY KEY, tag TEXT NOT NULL)")


async def _insert(tag: str, *, hold: float = 0.0) -> str:
    row_id = new_id("probe")
    async with db.transaction():
        await db.fetch("INSERT INTO tx_probe (id, tag) VALUES ({}, {})", row_id, tag)
        if hold:
            await asyncio.sleep(hold)
        await db.fetch("INSERT INTO tx_probe (id, tag) VALUES ({}, {})", row_id + "b", tag)
    return row_id


async def _rows(tag: str) -> list[str]:
    rows = await db.fetch("SELECT id FROM tx_probe WHERE tag = {} ORDER BY id", tag)
    return [row["id"] for row in rows]


async def test_a_writer_cancelled_while_waiting_does_not_block_the_next() -> None:
    await _scratch_table()
    tag = new_id("tag")
    holder = asyncio.create_task(_insert(tag, hold=0.3))
    await asyncio.sleep(0.05)
    with pytest.raises(TimeoutError):  # waits for the lock (SQLite) or holds it (PostgreSQL)
        async with asyncio.timeout(0.05):
            await _insert(tag, hold=0.3)
    await holder
    async with asyncio.timeout(5):
        await _insert(tag)
    assert len(await _rows(tag)) == 4  # two rows each from the holder and the last writer


async def test_a_writer_cancelled_mid_transaction_is_rolled_back_and_lets_go() -> None:
    await _scratch_table()
    tag = new_id("tag")
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.1):
            await _insert(tag, hold=1.0)
    async with asyncio.timeout(5):
        await _insert(tag)
    assert len(await _rows(tag)) == 2  # only the last writer's pair


async def test_writers_cancelled_at_random_moments_leave_no_lock_and_no_half_write() -> None:
    await _scratch_table()
    tag = new_id("tag")
    rng = random.Random(7)

    async def attempt() -> str | None:
        try:
            async with asyncio.timeout(rng.uniform(0.0, 0.02)):
                return await _insert(tag, hold=rng.choice([0.0, 0.001]))
        except TimeoutError:
            return None

    done = await asyncio.gather(*[attempt() for _ in range(60)])
    async with asyncio.timeout(5):
        await _insert(tag)
    rows = await _rows(tag)
    assert len(rows) % 2 == 0  # never the first row of a pair without the second
    committed = {row for row in rows if not row.endswith("b")}
    assert {row for row in done if row is not None} <= committed
