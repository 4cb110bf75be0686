"""Low-level stock writes shared by reservations and admin adjustments.

Every change of ``on_hand`` or ``reserved`` goes through this module and is
written to the stock ledger in the same transaction. Writes are conditional
``UPDATE``s (``… WHERE on_hand - reserved >= n``), never read-then-write, so
they stay correct when many transactions change one level at once on
PostgreSQL (READ COMMITTED) as on SQLite.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from core.db.engine import advisory_lock, fetch, insert, now, on_postgres
from core.events.outbox import emit
from core.inventory.tables import InventoryItem, StockLevel, StockMovement
from core.kernel.ids import new_id

#: A key of a stock level: ``(variant_id, warehouse_id)``.
LevelKey = tuple[str, str]


class Movement:
    """A ledger entry to write: the change of one level and why."""

    __slots__ = ("delta_on_hand", "delta_reserved", "key", "note", "reason", "reference")

    def __init__(
        self,
        key: LevelKey,
        *,
        reason: str,
        reference: str = "",
        delta_on_hand: int = 0,
        delta_reserved: int = 0,
        note: str = "",
    ) -> None:
        self.key = key
        self.reason = reason
        self.reference = reference
        self.delta_on_hand = delta_on_hand
        self.delta_reserved = delta_reserved
        self.note = note


async def ensure_level(store_id: str, variant_id: str, warehouse_id: str) -> None:
    """Create the (empty) stock level of a variant in a warehouse unless it exists."""
    await fetch(
        "INSERT INTO stock_levels (id, store, variant, warehouse, on_hand, reserved, updated_at) "
        "VALUES ({}, {}, {}, {}, 0, 0, {}) ON CONFLICT (variant, warehouse) DO NOTHING",
        new_id("stock"),
        store_id,
        variant_id,
        warehouse_id,
        now(),
    )


def reserve_sql(takes: Sequence[tuple[str, str, int]]) -> tuple[str, list[Any]]:
    """The statement reserving each ``(variant_id, warehouse_id, quantity)`` of ``takes``
    (at least one; each level once) whose level has that many units available, and its
    parameters; it returns a row per level reserved."""
    values = ", ".join("({}, {}, CAST({} AS INTEGER))" for _ in takes)
    return (
        f"WITH wanted (w_variant, w_warehouse, w_quantity) AS (VALUES {values}) "  # noqa: S608
        "UPDATE stock_levels SET reserved = reserved + w_quantity, updated_at = {} "
        "FROM wanted WHERE variant = w_variant AND warehouse = w_warehouse "
        "AND on_hand - reserved >= w_quantity RETURNING variant, warehouse",
        [*[part for take in takes for part in take], now()],
    )


async def change(key: LevelKey, *, on_hand: int = 0, reserved: int = 0) -> None:
    """Add ``on_hand`` and ``reserved`` (either may be negative) to a level, unconditionally."""
    await fetch(
        "UPDATE stock_levels SET on_hand = on_hand + {}, reserved = reserved + {}, "
        "updated_at = {} WHERE variant = {} AND warehouse = {}",
        on_hand,
        reserved,
        now(),
        key[0],
        key[1],
    )


async def lock(key: LevelKey) -> tuple[int, int] | None:
    """Lock a level for the rest of the transaction and return ``(on_hand, reserved)``."""
    rows = await fetch(
        "UPDATE stock_levels SET on_hand = on_hand WHERE variant = {} AND warehouse = {} "
        "RETURNING on_hand, reserved",
        key[0],
        key[1],
    )
    return (int(rows[0]["on_hand"]), int(rows[0]["reserved"])) if rows else None


async def lock_all(keys: Iterable[LevelKey], *, read: bool = False) -> dict[LevelKey, int]:
    """Lock the existing levels among ``keys`` for the rest of the transaction; with
    ``read``, return their ``on_hand - reserved`` (else possibly nothing).

    PostgreSQL locks them with one ``SELECT … FOR UPDATE`` in byte order of
    (variant, warehouse) — rows are sorted before they are locked, and this
    is the one order every transaction of this module uses — so concurrent
    writers queue instead of deadlocking. SQLite's write transactions are
    serial already: nothing to lock, and the levels are read only if asked.
    """
    ordered = sorted(set(keys))
    if not ordered or not (on_postgres() or read):
        return {}
    rows = await fetch(locking_sql(pairs_sql(len(ordered))), *pairs_params(ordered))
    return {(row["variant"], row["warehouse"]): int(row["free"]) for row in rows}


def locking_sql(where: str) -> str:
    """The ``SELECT`` of ``variant, warehouse, free`` (``on_hand - reserved``) of the
    levels matching ``where`` (fixed SQL) that locks them, on PostgreSQL, in the one
    order of :func:`lock_all`."""
    lock = ' ORDER BY variant COLLATE "C", warehouse COLLATE "C" FOR UPDATE'
    return (
        "SELECT variant, warehouse, on_hand - reserved AS free FROM stock_levels "  # noqa: S608
        f"WHERE {where}{lock if on_postgres() else ''}"
    )


def pairs_sql(count: int, union: str = "") -> str:
    """``(variant, warehouse) IN (…)`` for ``count`` keys (:func:`pairs_params`) and the
    keys the query ``union`` (fixed SQL) selects, if given; false for none.

    One ``IN`` of one list or query, so that PostgreSQL may find each level by its
    unique index (an ``OR`` of two ``IN`` makes it read every level).
    """
    listed = ", ".join("({}, {})" for _ in range(count))
    if union:
        values = f"VALUES {listed} UNION " if count else ""
        return f"(variant, warehouse) IN ({values}{union})"
    return f"(variant, warehouse) IN ({listed})" if count else "1 = 0"


def pairs_params(keys: Sequence[LevelKey]) -> list[str]:
    """The parameters of :func:`pairs_sql` for ``keys``."""
    return [part for key in keys for part in key]


def owner_key(owner: str) -> str:
    """The key that serialises the reservation changes of ``owner``."""
    return owner


async def lock_owner(owner: str) -> None:
    """Serialise the reservation changes of one owner until the transaction ends
    (taken before any level lock)."""
    await advisory_lock(owner_key(owner))


async def record(store_id: str, movements: Sequence[Movement]) -> None:
    """Write ``movements`` to the ledger."""
    await insert(StockMovement, movement_rows(store_id, movements))


def movement_rows(store_id: str, movements: Sequence[Movement]) -> list[dict[str, Any]]:
    """The ledger rows of ``movements``."""
    stamp = now()
    return [
        {
            "id": new_id("mov"),
            "store": store_id,
            "variant": m.key[0],
            "warehouse": m.key[1],
            "delta_on_hand": m.delta_on_hand,
            "delta_reserved": m.delta_reserved,
            "reason": m.reason,
            "reference": m.reference,
            "note": m.note,
            "created_at": stamp,
        }
        for m in movements
    ]


async def available_by_key(keys: Iterable[LevelKey]) -> dict[LevelKey, int]:
    """``on_hand - reserved`` of each existing level among ``keys``."""
    wanted = set(keys)
    if not wanted:
        return {}
    rows = await StockLevel.select(
        StockLevel.variant, StockLevel.warehouse, StockLevel.on_hand, StockLevel.reserved
    ).where(StockLevel.variant.is_in(sorted({k[0] for k in wanted})))
    out = {}
    for row in rows:
        key = (row["variant"], row["warehouse"])
        if key in wanted:
            out[key] = int(row["on_hand"]) - int(row["reserved"])
    return out


async def notify_low(store_id: str, keys: Iterable[LevelKey]) -> None:
    """Emit ``inventory.low`` for each level of ``keys`` at or below its variant's threshold.

    Call inside the transaction that lowered the levels, after the change.
    """
    keys = set(keys)
    if not keys:
        return
    items = await InventoryItem.select(
        InventoryItem.variant, InventoryItem.low_stock_threshold
    ).where(
        InventoryItem.variant.is_in(sorted({k[0] for k in keys}))
        & InventoryItem.low_stock_threshold.is_not_null()
    )
    thresholds = {row["variant"]: int(row["low_stock_threshold"]) for row in items}
    if not thresholds:
        return
    levels = await available_by_key(k for k in keys if k[0] in thresholds)
    for (variant_id, warehouse_id), available in sorted(levels.items()):
        if available <= thresholds[variant_id]:
            payload = {
                "variant_id": variant_id,
                "warehouse_id": warehouse_id,
                "available": available,
            }
            await emit(store_id, "inventory.low", payload, aggregate_id=variant_id)
