"""Stock reservations: what checkout and orders call.

A reservation holds units of a stock level for an owner (a cart id, then the
order id it is transferred to). ``stock_levels.reserved`` always equals the
sum of the quantities of the level's active reservations: every function
here changes both in the caller's transaction. Reserving is a conditional
``UPDATE … WHERE on_hand - reserved >= n`` per warehouse, so concurrent
checkouts never oversell.

Except :func:`available`, :func:`has_active`, :func:`committed_lines` and
:func:`sweep_expired` (which opens its own transactions), call these inside
the caller's ``async with transaction():``; an error raised rolls back
everything the transaction did.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import msgspec

from core.catalog.errors import VARIANT_NOT_FOUND
from core.catalog.tables import Variant
from core.db.engine import (
    fetch,
    insert_statements,
    json_object_agg,
    placeholders,
    transaction,
    write_all,
)
from core.db.engine import now as utcnow
from core.inventory import errors, levels
from core.inventory.levels import LevelKey, Movement
from core.inventory.routing import region_warehouses
from core.inventory.tables import (
    OWNER_LENGTH,
    Reservation,
    StockMovement,
    Warehouse,
)
from core.kernel.errors import CaravanError
from core.kernel.ids import new_id

#: How long a cart's reservation holds stock unless extended.
DEFAULT_RESERVATION_TTL: Final = timedelta(minutes=15)

#: How long reservations must still hold for an order to be placed on them: longer
#: than the payment provider's calls of a checkout's completion take.
HOLD_MARGIN: Final = timedelta(minutes=2)

#: Expired reservations released per sweeper transaction.
_SWEEP_BATCH: Final = 200
_REASON = re.compile(r"^[a-z][a-z0-9_.-]{0,31}$")


# ---------------------------------------------------------------------------
# Reads
# ---------------------------------------------------------------------------


async def _held_backordered_free(
    owner: str, store_id: str, variant_ids: Sequence[str], keys: Iterable[LevelKey]
) -> tuple[list[dict[str, Any]], set[str], dict[LevelKey, int]]:
    """In one read: the owner's active reservations (rows with their ``id``,
    ``variant`` and ``warehouse``), which of ``variant_ids`` sell on backorder, and the
    free units of the levels among ``keys``, locked together with the levels of those
    reservations (:func:`levels.locking_sql`). Call with the owner locked: no
    reservation of the owner appears meanwhile (the sweeper may still end some;
    :func:`_end` ends each once)."""
    ordered = sorted(set(keys))
    where = levels.pairs_sql(len(ordered), union="SELECT variant, warehouse FROM held")
    backorder = (
        "UNION ALL SELECT NULL, variant, NULL, NULL FROM inventory_items WHERE store = {} "  # noqa: S608
        f"AND variant IN ({placeholders(variant_ids)}) AND allow_backorder = TRUE"
        if variant_ids
        else ""
    )
    rows = await fetch(
        "WITH held AS (SELECT id, variant, warehouse FROM stock_reservations "  # noqa: S608
        "WHERE state = 'active' AND owner = {}), "
        f"locked AS ({levels.locking_sql(where)}) "
        "SELECT id, variant, warehouse, NULL AS free FROM held "
        f"UNION ALL SELECT NULL, variant, warehouse, free FROM locked {backorder}",
        owner,
        *levels.pairs_params(ordered),
        *([store_id, *variant_ids] if variant_ids else []),
    )
    held = [row for row in rows if row["id"] is not None]
    backordered = {row["variant"] for row in rows if row["id"] is None and row["free"] is None}
    free = {
        (row["variant"], row["warehouse"]): int(row["free"])
        for row in rows
        if row["free"] is not None
    }
    return held, backordered, free


#: The key of :func:`stock_sql`'s object saying the variant sells on backorder.
_BACKORDER = "*"


def stock_sql(variant: str) -> str:
    """An SQL expression for what :func:`available_of` needs to know of the stock of the
    variant ``variant`` (an SQL expression): a JSON object (text) of the free units
    (``on_hand - reserved``, at least 0) by warehouse, ``"*"`` when the variant sells
    on backorder; ``NULL`` for neither."""
    pairs = json_object_agg("a_s.k", "a_s.n")
    return (
        f"(SELECT {pairs} FROM (SELECT warehouse AS k, CASE WHEN on_hand > reserved "  # noqa: S608
        f"THEN on_hand - reserved ELSE 0 END AS n FROM stock_levels WHERE variant = {variant} "
        f"UNION ALL SELECT '{_BACKORDER}', 0 FROM inventory_items WHERE variant = {variant} "
        "AND allow_backorder = TRUE) a_s)"
    )


def available_of(stock: str | bytes | None, warehouses: Sequence[str]) -> int | None:
    """The units available from ``warehouses`` by a value of :func:`stock_sql`, summed;
    ``None`` means unlimited: the variant sells on backorder (and there is a
    warehouse). A variant without stock in them has 0."""
    if not warehouses:
        return 0
    found: dict[str, int] = msgspec.json.decode(stock) if stock else {}
    if _BACKORDER in found:
        return None
    return sum(int(found.get(w, 0)) for w in warehouses)


async def available(
    store_id: str, region_id: str, variant_ids: Sequence[str]
) -> dict[str, int | None]:
    """Units of each variant available to the region (see :func:`available_of`); 0 for
    a variant of another store or none. Works outside a transaction too."""
    ids = list(dict.fromkeys(variant_ids))
    out: dict[str, int | None] = dict.fromkeys(ids, 0)
    if not ids:
        return out
    warehouses = await region_warehouses(store_id, region_id)
    rows = await fetch(
        f"SELECT v.id, {stock_sql('v.id')} AS stock FROM variants v "  # noqa: S608
        f"WHERE v.store = {{}} AND v.id IN ({placeholders(ids)})",
        store_id,
        *ids,
    )
    for row in rows:
        out[row["id"]] = available_of(row["stock"], warehouses)
    return out


def holds_sql(owner: str) -> tuple[str, list[Any]]:
    """An SQL expression, 1 when the owner ``owner`` holds active reservations none of
    which expires within :data:`HOLD_MARGIN` (else 0), and its parameters."""
    return (
        "(SELECT CASE WHEN COUNT(*) > 0 AND SUM(CASE WHEN expires_at IS NULL "
        "OR expires_at > {} THEN 0 ELSE 1 END) = 0 THEN 1 ELSE 0 END "
        "FROM stock_reservations WHERE owner = {} AND state = 'active')",
        [utcnow() + HOLD_MARGIN, owner],
    )


async def has_active(owner: str) -> bool:
    """Whether ``owner`` holds active reservations, none expiring within :data:`HOLD_MARGIN`."""
    held, params = holds_sql(owner)
    rows = await fetch(f"SELECT {held} AS held", *params)
    return bool(rows[0]["held"])


async def committed_lines(owner: str) -> list[tuple[str, str, int]]:
    """``(variant_id, warehouse_id, quantity)`` sold to ``owner``, for restocking on cancel."""
    rows = (
        await Reservation.select(Reservation.variant, Reservation.warehouse, Reservation.quantity)
        .where((Reservation.owner == owner) & (Reservation.state == "committed"))
        .order_by(Reservation.id)
    )
    totals: dict[LevelKey, int] = defaultdict(int)
    for row in rows:
        totals[(row["variant"], row["warehouse"])] += int(row["quantity"])
    return [(v, w, q) for (v, w), q in totals.items()]


# ---------------------------------------------------------------------------
# Reserving
# ---------------------------------------------------------------------------


def _summed(lines: Sequence[tuple[str, int]]) -> dict[str, int]:
    """Quantities per variant (lines of one variant add up)."""
    wanted: dict[str, int] = defaultdict(int)
    for variant_id, quantity in lines:
        if quantity <= 0:
            raise ValueError(f"reserve: quantity {quantity} of {variant_id} is not positive")
        wanted[variant_id] += quantity
    return dict(wanted)


def _plan(needed: int, warehouses: Sequence[str], free: dict[str, int]) -> list[tuple[str, int]]:
    """Where to take ``needed`` units: the first warehouse that covers it all, else
    greedily in priority order (what the result lacks is not available)."""
    for warehouse in warehouses:
        if free.get(warehouse, 0) >= needed:
            return [(warehouse, needed)]
    plan, left = [], needed
    for warehouse in warehouses:
        take = min(left, free.get(warehouse, 0))
        if take > 0:
            plan.append((warehouse, take))
            left -= take
    return plan


def _free(
    locked: dict[LevelKey, int], wanted: dict[str, int], warehouses: Sequence[str]
) -> dict[str, dict[str, int]]:
    """``{variant: {warehouse: on_hand - reserved}}`` of the existing levels of ``wanted``."""
    return {v: {w: locked[(v, w)] for w in warehouses if (v, w) in locked} for v in wanted}


def _short(
    wanted: dict[str, int], free: dict[str, dict[str, int]], backordered: set[str]
) -> list[str]:
    return [
        v
        for v in sorted(wanted)
        if v not in backordered and sum(max(0, f) for f in free[v].values()) < wanted[v]
    ]


def reserving(owner: str) -> Any:
    """A transaction to change ``owner``'s reservations in (:func:`reserve`,
    :func:`release`…), serialised on the owner from its start: on PostgreSQL the
    owner's lock comes with ``BEGIN`` instead of a round trip of its own."""
    return transaction(lock=levels.owner_key(owner))


async def reserve(
    store_id: str,
    region_id: str,
    owner: str,
    lines: Sequence[tuple[str, int]],
    *,
    expires_at: datetime | None,
) -> None:
    """Reserve ``lines`` (``(variant_id, quantity)``) for ``owner`` from the region's warehouses.

    The owner's active reservations are released first, so calling it again
    with the cart's new lines replaces them. Lines of one variant are summed;
    each variant is taken from the first warehouse that covers it, else split
    across warehouses in priority order. A variant sold on backorder always
    succeeds (what stock cannot cover is reserved at the first warehouse).

    The levels concerned are locked first, in one global order; they are then
    changed by one conditional ``UPDATE … WHERE on_hand - reserved >= n``.

    Raises:
        CaravanError: ``insufficient_stock`` (409) with ``extra={"variants": [...]}``
            naming the variants that cannot be covered; nothing is reserved then.
        ValueError: a quantity is not positive or the owner is not a valid id.
    """
    _check_owner(owner)
    wanted = _summed(lines)
    warehouses = await region_warehouses(store_id, region_id)
    await levels.lock_owner(owner)
    keys = {(v, w) for v in wanted for w in warehouses}
    held, backordered, locked = await _held_backordered_free(owner, store_id, list(wanted), keys)
    if not warehouses:  # nothing to reserve at
        backordered = set()
    if await _end(held, "released", reason="replaced"):  # their units are free again
        locked = await levels.lock_all(keys, read=True)
    free = _free(locked, wanted, warehouses)
    short = _short(wanted, free, backordered)
    if short and await _expire_stale(short, warehouses):
        free = _free(await levels.lock_all(keys, read=True), wanted, warehouses)
        short = _short(wanted, free, backordered)
    if short:
        raise CaravanError(errors.INSUFFICIENT_STOCK, extra={"variants": short})
    await _take_all(store_id, owner, wanted, warehouses, free, backordered, _utc(expires_at))


async def _take_all(
    store_id: str,
    owner: str,
    wanted: dict[str, int],
    warehouses: Sequence[str],
    free: dict[str, dict[str, int]],
    backordered: set[str],
    expires_at: datetime | None,
) -> None:
    """Reserve every variant of ``wanted`` for ``owner`` (levels locked, availability
    checked): the levels' units, the reservations and their ledger rows in one write;
    what stock cannot cover of a variant sold on backorder goes to the first warehouse."""
    plans = {v: _plan(wanted[v], warehouses, free[v]) for v in sorted(wanted)}
    takes = [(v, w, quantity) for v, plan in plans.items() for w, quantity in plan]
    allocated = {v: dict(plan) for v, plan in plans.items()}
    extra = {v: wanted[v] - sum(allocated[v].values()) for v in sorted(backordered & set(wanted))}
    for v, left in extra.items():
        if left:
            allocated[v][warehouses[0]] = allocated[v].get(warehouses[0], 0) + left
    rows, movements = _reservation_rows(store_id, owner, allocated, expires_at)
    if not rows:
        return
    statements = insert_statements(
        (Reservation, rows), (StockMovement, levels.movement_rows(store_id, movements))
    )
    if takes:
        statements.insert(0, levels.reserve_sql(takes))
    counts = await write_all(*statements)
    if takes and counts[0] < len(takes):  # cannot happen while the levels are locked
        raise CaravanError(errors.INSUFFICIENT_STOCK, extra={"variants": sorted(plans)})
    for v, left in extra.items():
        if left:
            key = (v, warehouses[0])
            await levels.ensure_level(store_id, *key)
            await levels.change(key, reserved=left)


def _reservation_rows(
    store_id: str,
    owner: str,
    allocated: dict[str, dict[str, int]],
    expires_at: datetime | None,
) -> tuple[list[dict[str, Any]], list[Movement]]:
    stamp = utcnow()
    rows, movements = [], []
    for variant_id, taken in allocated.items():
        for warehouse, quantity in taken.items():
            rows.append(
                {
                    "id": new_id("rsv"),
                    "store": store_id,
                    "owner": owner,
                    "variant": variant_id,
                    "warehouse": warehouse,
                    "quantity": quantity,
                    "state": "active",
                    "expires_at": expires_at,
                    "created_at": stamp,
                }
            )
            movements.append(
                Movement(
                    (variant_id, warehouse),
                    reason="reserved",
                    reference=owner,
                    delta_reserved=quantity,
                )
            )
    return rows, movements


# ---------------------------------------------------------------------------
# Ending reservations
# ---------------------------------------------------------------------------


async def _active(where: str, *args: Any) -> list[dict[str, Any]]:
    """The active reservations matching ``where`` (fixed SQL, ``{}`` placeholders)."""
    return await fetch(
        "SELECT id, variant, warehouse FROM stock_reservations "  # noqa: S608
        f"WHERE state = 'active' AND {where}",
        *args,
    )


def _keys(reservations: Iterable[dict[str, Any]]) -> set[LevelKey]:
    return {(r["variant"], r["warehouse"]) for r in reservations}


async def _finish(
    where: str, *args: Any, state: str, reason: str, reference: str | None = None
) -> int:
    """End the active reservations matching ``where`` (see :func:`_end`)."""
    found = await _active(where, *args)
    await levels.lock_all(_keys(found))
    return await _end(found, state, reason=reason, reference=reference)


async def _end(
    found: Sequence[dict[str, Any]], state: str, *, reason: str, reference: str | None = None
) -> int:
    """End the reservations ``found`` (whose levels the caller locked) that are still
    active: move them to ``state`` and give back their units (``committed``: take them
    out of stock). Returns how many ended.

    Levels are locked before reservations, the order every writer keeps; the
    ``state = 'active'`` condition makes each reservation end once, also when
    two transactions try at the same time.
    """
    if not found:
        return 0
    ids = [r["id"] for r in found]
    rows = await fetch(
        "UPDATE stock_reservations SET state = {} "  # noqa: S608
        f"WHERE id IN ({placeholders(ids)}) AND state = 'active' "
        "RETURNING store, owner, variant, warehouse, quantity",
        state,
        *ids,
    )
    sold = state == "committed"
    totals: dict[tuple[str, str, str, str], int] = defaultdict(int)
    for row in rows:
        ref = row["owner"] if reference is None else reference
        totals[(row["store"], ref, row["variant"], row["warehouse"])] += int(row["quantity"])
    by_store: dict[str, list[Movement]] = defaultdict(list)
    for (store_id, ref, variant_id, warehouse), quantity in sorted(totals.items()):
        key = (variant_id, warehouse)
        await levels.change(key, on_hand=-quantity if sold else 0, reserved=-quantity)
        by_store[store_id].append(
            Movement(
                key,
                reason=reason,
                reference=ref,
                delta_on_hand=-quantity if sold else 0,
                delta_reserved=-quantity,
            )
        )
    for store_id, movements in by_store.items():
        await levels.record(store_id, movements)
        if sold:
            await levels.notify_low(store_id, (m.key for m in movements))
    return len(rows)


async def release(owner: str, reason: str) -> None:
    """Release the owner's active reservations (payment failed, cart abandoned…).

    ``reason`` (lower-case letters, digits, ``_.-``; at most 32 characters) is the ledger's reason.
    """
    if not _REASON.match(reason):
        raise ValueError(f"release: invalid reason {reason!r}")
    await levels.lock_owner(owner)
    await _finish("owner = {}", owner, state="released", reason=reason)


async def commit(owner: str, reference: str) -> None:
    """The owner paid: its active reservations leave stock (``on_hand`` and ``reserved``
    both drop) and become committed; the ledger says ``sold`` with ``reference``.

    Idempotent: with no active reservation (already committed) it does nothing.
    """
    await levels.lock_owner(owner)
    await _finish(
        "owner = {}",
        owner,
        state="committed",
        reason="sold",
        reference=reference[:OWNER_LENGTH],
    )


def transfer_sql(
    owner: str, new_owner: str, *, expires_at: datetime | None
) -> tuple[str, list[Any]]:
    """The statement handing the owner's active, unexpired reservations to ``new_owner``
    (a cart's to its order), expiring at ``expires_at`` from then on (``None``: never),
    and its parameters; it returns a row per reservation handed over."""
    _check_owner(new_owner)
    return (
        "UPDATE stock_reservations SET owner = {}, expires_at = {} WHERE owner = {} "
        "AND state = 'active' AND (expires_at IS NULL OR expires_at > {}) RETURNING id",
        [new_owner, _utc(expires_at), owner, utcnow()],
    )


async def transfer(owner: str, new_owner: str, *, expires_at: datetime | None) -> int:
    """Hand the owner's active reservations to ``new_owner`` (see :func:`transfer_sql`);
    returns how many were handed over."""
    sql, params = transfer_sql(owner, new_owner, expires_at=expires_at)
    return len(await fetch(sql, *params))


async def restock(
    store_id: str,
    warehouse_id: str,
    variant_id: str,
    quantity: int,
    reason: str,
    reference: str,
) -> None:
    """Put ``quantity`` units back on hand (a return received, an order canceled after sale).

    Raises:
        CaravanError: ``warehouse_not_found`` or ``variant_not_found`` (404) for ids
            that are not the store's.
        ValueError: ``quantity`` is not positive or ``reason`` is malformed.
    """
    if quantity <= 0 or not _REASON.match(reason):
        raise ValueError(f"restock: invalid quantity {quantity} or reason {reason!r}")
    await check_warehouse(store_id, warehouse_id)
    await check_variant(store_id, variant_id)
    key = (variant_id, warehouse_id)
    await levels.ensure_level(store_id, *key)
    await levels.change(key, on_hand=quantity)
    movement = Movement(
        key, reason=reason, reference=reference[:OWNER_LENGTH], delta_on_hand=quantity
    )
    await levels.record(store_id, [movement])


# ---------------------------------------------------------------------------
# Expiry
# ---------------------------------------------------------------------------


#: The condition (one placeholder: the moment) of reservations past their expiry.
_EXPIRED = "expires_at IS NOT NULL AND expires_at <= {}"


async def _expire_stale(variant_ids: Sequence[str], warehouses: Sequence[str]) -> bool:
    """Release the expired (not yet swept) reservations of the variants in the
    warehouses (whose levels the caller locked); whether there were any."""
    where = (
        f"variant IN ({placeholders(variant_ids)}) AND warehouse IN ({placeholders(warehouses)}) "
        f"AND {_EXPIRED}"
    )
    found = await _finish(
        where, *variant_ids, *warehouses, utcnow(), state="expired", reason="expired"
    )
    return found > 0


async def sweep_expired(now: datetime | None = None) -> int:
    """Release every active reservation whose expiry is at or before ``now`` (default: the
    current time).

    Opens its own transactions (one per batch); returns how many it released.
    """
    moment = _utc(now) or utcnow()
    total = 0
    while True:
        async with transaction():
            found = await _active(f"{_EXPIRED} ORDER BY expires_at LIMIT {_SWEEP_BATCH}", moment)
            await levels.lock_all(_keys(found))
            total += await _end(found, "expired", reason="expired")
        if len(found) < _SWEEP_BATCH:
            return total


# ---------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------


def _check_owner(owner: str) -> None:
    if not 0 < len(owner) <= OWNER_LENGTH:
        raise ValueError(f"invalid reservation owner {owner!r}")


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        raise ValueError("reservation expiry must be timezone-aware")
    return moment.astimezone(UTC)


async def check_warehouse(store_id: str, warehouse_id: str) -> None:
    """Raise ``warehouse_not_found`` unless the warehouse is the store's."""
    if not await Warehouse.exists().where(
        (Warehouse.id == warehouse_id) & (Warehouse.store == store_id)
    ):
        raise CaravanError(errors.WAREHOUSE_NOT_FOUND, id=warehouse_id)


async def check_variant(store_id: str, variant_id: str) -> None:
    """Raise ``variant_not_found`` unless the variant is the store's."""
    if not await Variant.exists().where((Variant.id == variant_id) & (Variant.store == store_id)):
        raise CaravanError(VARIANT_NOT_FOUND, id=variant_id)
