"""A checkout's statements find payments and reservations by index on PostgreSQL, even
in plans made while those tables were empty.

asyncpg keeps each statement prepared per connection, and PostgreSQL settles on one
generic plan per statement after its fifth run. A plan made while ``payments`` or
``stock_reservations`` were still empty (a new database; one whose statistics are not
yet gathered) that scans the table, or picks an index on a column the query does not
narrow, reads every row of a table that only grows: checkouts then slow down as
orders accumulate.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from core.db import engine as db
from core.plugins.testing.api import Api
from tests.core.checkout.test_checkout import checkout_ready, open_session
from tests.factories.checkout import CheckoutShop

#: The tables whose rows a checkout must find by index, and the indexes that narrow
#: them by what a checkout knows (its cart, its payment, its reservations' owner).
_NARROWING = {
    "payments": ("pk_payments", "ix_payments_cart_id"),
    "stock_reservations": ("pk_stock_reservations", "ix_stock_reservations_owner_state"),
}
_SCAN = re.compile(r"(\w[\w ]*Scan)(?: using (\w+))? on (\w+)")


async def _recorded_checkout(
    api: Api, shop: CheckoutShop, monkeypatch: pytest.MonkeyPatch, provider: str
) -> list[str]:
    """The statements (``{}`` placeholders) a whole checkout with ``provider`` runs."""
    seen: list[str] = []
    numbered = db._numbered

    def recording(sql: str) -> str:
        seen.append(sql)
        return numbered(sql)

    cart = await checkout_ready(api, shop, 2)
    with monkeypatch.context() as patched:
        patched.setattr(db, "_numbered", recording)
        r = await open_session(api, shop, cart, provider)
        assert r.status_code == 201, r.text
        r = await api.store_call("POST", f"/store/carts/{cart['id']}/complete", shop.store)
        assert r.status_code == 201, r.text
    return list(
        dict.fromkeys(sql for sql in seen if re.search(r"payments|stock_reservations", sql))
    )


async def _generic_plans_on_empty_tables(statements: list[str]) -> list[str]:
    """The generic plan of each statement, made as if ``payments`` and
    ``stock_reservations`` were empty (truncated in a transaction rolled back)."""
    plans: list[str] = []
    names: list[str] = []
    try:
        async with db.transaction():
            await db.fetch("TRUNCATE payments, stock_reservations CASCADE")
            await db.fetch("SET LOCAL plan_cache_mode = force_generic_plan")
            for i, sql in enumerate(statements):
                name = f"caravan_plan_test_{i}"
                await db.fetch(f"PREPARE {name} AS {db._numbered(sql)}")
                names.append(name)
                nulls = ", ".join("NULL" for _ in range(sql.count("{}")))
                rows = await db.fetch(
                    f"EXPLAIN EXECUTE {name}({nulls})" if nulls else f"EXPLAIN EXECUTE {name}"
                )
                plans.append("\n".join(row["QUERY PLAN"] for row in rows))
            raise _DiscardError
    except _DiscardError:
        pass
    finally:
        for name in names:  # prepared statements outlive the transaction
            await db.fetch(f"DEALLOCATE {name}")
    return plans


class _DiscardError(Exception):
    """Leaves the truncating transaction without committing it."""


def _wide_scans(plan: str) -> list[str]:
    """The plan's scans of the narrowed tables that do not use a narrowing index."""
    return [
        " ".join(filter(None, scan))
        for scan in _SCAN.findall(plan)
        if scan[2] in _NARROWING and scan[1] not in _NARROWING[scan[2]]
    ]


@pytest.mark.parametrize("provider", ["fakepay", "manual"])
async def test_checkout_statements_find_rows_by_index_in_plans_made_on_empty_tables(
    api: Api, shop: CheckoutShop, monkeypatch: pytest.MonkeyPatch, provider: str
) -> None:
    if not db.on_postgres():
        pytest.skip("PostgreSQL's cached generic plans; SQLite plans each statement anew")
    if provider == "manual":
        await api.activate(shop.store, "eu", "payment", "manual")
    statements = await _recorded_checkout(api, shop, monkeypatch, provider)
    assert len(statements) >= 4  # the session's, the load and the placing of complete…
    plans = await _generic_plans_on_empty_tables(statements)
    wide: dict[str, Any] = {
        sql[:120]: scans
        for sql, plan in zip(statements, plans, strict=True)
        if (scans := _wide_scans(plan))
    }
    assert wide == {}
    # The check sees the scans it judges.
    assert any("ix_stock_reservations_owner_state" in plan for plan in plans)
    assert any("ix_payments_cart_id" in plan for plan in plans)
