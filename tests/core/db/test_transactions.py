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
from core.kernel.ids import new_id

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


async def _hold_serialised(key: str, tag: str, *, from_start: bool, hold: float) -> None:
    """Write a pair of rows tagged ``tag`` in a transaction serialised on ``key``, holding
    it ``hold`` seconds between the two."""
    async with db.transaction(lock=key) if from_start else db.transaction():
        if not from_start:
            await db.advisory_lock(key)
        await db.fetch("INSERT INTO tx_probe (id, tag) VALUES ({}, {})", new_id("probe"), tag)
        await asyncio.sleep(hold)
        await db.fetch("INSERT INTO tx_probe (id, tag) VALUES ({}, {})", new_id("probe"), tag)


@pytest.mark.parametrize(("first", "second"), [(True, False), (False, True), (True, True)])
async def test_transactions_serialised_on_one_key_run_one_after_another(
    first: bool, second: bool
) -> None:
    """The key taken with ``BEGIN`` (``transaction(lock=…)``) and the key taken by
    :func:`advisory_lock` inside a transaction are one lock."""
    await _scratch_table()
    key, tag = new_id("key"), new_id("tag")
    holder = asyncio.create_task(_hold_serialised(key, tag, from_start=first, hold=0.3))
    await asyncio.sleep(0.1)  # the holder has its lock and its first row
    async with db.transaction(lock=key) if second else db.transaction():
        await db.advisory_lock(key)  # taken twice in one transaction: still one lock
        seen = len(await _rows(tag))
    assert holder.done()
    assert seen == 2  # the whole pair: this transaction waited for the holder's commit


async def test_a_transaction_serialised_on_another_key_does_not_wait() -> None:
    if not db.on_postgres():
        pytest.skip("SQLite's write transactions are serial whatever their keys")
    await _scratch_table()
    tag = new_id("tag")
    holder = asyncio.create_task(_hold_serialised(new_id("key"), tag, from_start=True, hold=0.5))
    await asyncio.sleep(0.1)
    async with asyncio.timeout(0.3), db.transaction(lock=new_id("key")):
        seen = len(await _rows(tag))
    assert not holder.done()
    assert seen == 0  # the holder's first row is not committed yet
    await holder


async def test_a_serialised_transaction_rolled_back_writes_nothing_and_lets_the_key_go() -> None:
    await _scratch_table()
    key, tag = new_id("key"), new_id("tag")

    async def refused() -> None:
        async with db.transaction(lock=key):
            await db.fetch("INSERT INTO tx_probe (id, tag) VALUES ({}, {})", new_id("probe"), tag)
            raise RuntimeError("refused")

    with pytest.raises(RuntimeError, match="refused"):
        await refused()
    async with asyncio.timeout(2):
        await _hold_serialised(key, tag, from_start=True, hold=0.0)
    assert len(await _rows(tag)) == 2  # the second transaction's pair alone
