"""Admin view and changes of stock: levels, per-variant settings, adjustments, the ledger."""

from __future__ import annotations

from typing import Any

from msgspec import UNSET

from core.db.engine import now, transaction
from core.inventory import errors, levels
from core.inventory.levels import Movement
from core.inventory.schemas import (
    MAX_UNITS,
    InventorySettingsUpdate,
    StockAdjustment,
    StockLevelRead,
    StockMovementRead,
    VariantInventoryRead,
)
from core.inventory.service import check_variant, check_warehouse
from core.inventory.tables import InventoryItem, StockLevel, StockMovement
from core.kernel.errors import CaravanError
from core.kernel.ids import new_id
from core.kernel.pagination import Page, decode_cursor, page_of
from core.kernel.validation import Issues


def _level(row: dict[str, Any]) -> StockLevelRead:
    on_hand, reserved = int(row["on_hand"]), int(row["reserved"])
    return StockLevelRead(
        variant_id=row["variant"],
        warehouse_id=row["warehouse"],
        on_hand=on_hand,
        reserved=reserved,
        available=on_hand - reserved,
        updated_at=row["updated_at"],
    )


def _level_columns() -> list[Any]:
    return [
        StockLevel.id,
        StockLevel.variant,
        StockLevel.warehouse,
        StockLevel.on_hand,
        StockLevel.reserved,
        StockLevel.updated_at,
    ]


async def _settings(variant_id: str) -> tuple[bool, int | None]:
    row = (
        await InventoryItem.select(InventoryItem.allow_backorder, InventoryItem.low_stock_threshold)
        .where(InventoryItem.variant == variant_id)
        .first()
    )
    if row is None:
        return False, None
    return bool(row["allow_backorder"]), row["low_stock_threshold"]


async def get_variant_inventory(store_id: str, variant_id: str) -> VariantInventoryRead:
    """A variant's inventory settings and its stock level in each warehouse."""
    await check_variant(store_id, variant_id)
    backorder, threshold = await _settings(variant_id)
    rows = (
        await StockLevel.select(*_level_columns())
        .where((StockLevel.variant == variant_id) & (StockLevel.store == store_id))
        .order_by(StockLevel.id)
    )
    found = [_level(r) for r in rows]
    return VariantInventoryRead(
        variant_id=variant_id,
        allow_backorder=backorder,
        low_stock_threshold=threshold,
        on_hand=sum(level.on_hand for level in found),
        reserved=sum(level.reserved for level in found),
        available=sum(level.available for level in found),
        levels=found,
    )


async def update_settings(
    store_id: str, variant_id: str, data: InventorySettingsUpdate
) -> VariantInventoryRead:
    """Change whether a variant sells on backorder and its low-stock threshold."""
    await check_variant(store_id, variant_id)
    values: dict[Any, Any] = {InventoryItem.updated_at: now()}
    if data.allow_backorder is not None:
        values[InventoryItem.allow_backorder] = data.allow_backorder
    if data.low_stock_threshold is not UNSET:
        values[InventoryItem.low_stock_threshold] = data.low_stock_threshold
    async with transaction():
        await InventoryItem.raw(
            "INSERT INTO inventory_items (id, store, variant, allow_backorder, updated_at) "
            "VALUES ({}, {}, {}, {}, {}) ON CONFLICT (variant) DO NOTHING",
            new_id("invi"),
            store_id,
            variant_id,
            False,
            now(),
        )
        await InventoryItem.update(values).where(InventoryItem.variant == variant_id)
    return await get_variant_inventory(store_id, variant_id)


def _check_quantity(data: StockAdjustment) -> None:
    issues = Issues()
    low = 0 if data.mode == "set" else -MAX_UNITS
    if not low <= data.quantity <= MAX_UNITS or (data.mode == "delta" and data.quantity == 0):
        bound = f"{low}..{MAX_UNITS}" + (", not 0" if data.mode == "delta" else "")
        issues.add("quantity", "out_of_range", constraint=bound)
    issues.raise_if_any()


def _target(data: StockAdjustment, on_hand: int, reserved: int, backorder: bool) -> int:
    """The new ``on_hand`` of an adjustment, or the 409 that refuses it."""
    target = data.quantity if data.mode == "set" else on_hand + data.quantity
    lowers = target < on_hand
    if target < 0 and lowers:
        raise CaravanError(errors.STOCK_BELOW_ZERO, on_hand=target)
    if target < reserved and lowers and not backorder:
        raise CaravanError(errors.STOCK_BELOW_RESERVED, on_hand=target, reserved=reserved)
    if target > MAX_UNITS:
        issues = Issues()
        issues.add("quantity", "out_of_range", constraint=f"on hand at most {MAX_UNITS}")
        issues.raise_if_any()
    return target


async def adjust(
    store_id: str, variant_id: str, warehouse_id: str, data: StockAdjustment
) -> StockLevelRead:
    """Add to, remove from or recount the units on hand of a variant in a warehouse.

    Refused (409, nothing written) when it would leave fewer units on hand than
    zero or than are reserved (the latter allowed for backorder variants).
    """
    _check_quantity(data)
    await check_variant(store_id, variant_id)
    await check_warehouse(store_id, warehouse_id)
    key = (variant_id, warehouse_id)
    async with transaction():
        await levels.ensure_level(store_id, *key)
        locked = await levels.lock(key)
        assert locked is not None  # ensure_level made it
        on_hand, reserved = locked
        backorder, _ = await _settings(variant_id)
        target = _target(data, on_hand, reserved, backorder)
        delta = target - on_hand
        await levels.change(key, on_hand=delta)
        movement = Movement(key, reason=data.reason, delta_on_hand=delta, note=data.note)
        await levels.record(store_id, [movement])
        if delta < 0:
            await levels.notify_low(store_id, [key])
    row = (
        await StockLevel.select(*_level_columns())
        .where((StockLevel.variant == variant_id) & (StockLevel.warehouse == warehouse_id))
        .first()
    )
    assert row is not None
    return _level(row)


async def list_warehouse_stock(
    store_id: str, warehouse_id: str, *, limit: int, cursor: str | None
) -> Page[StockLevelRead]:
    """The stock levels of a warehouse, newest first."""
    if cursor is not None:
        decode_cursor(cursor, 1)  # a bad cursor is a 422 whatever the warehouse
    await check_warehouse(store_id, warehouse_id)
    query = StockLevel.select(*_level_columns()).where(
        (StockLevel.warehouse == warehouse_id) & (StockLevel.store == store_id)
    )
    return await page_of(query, StockLevel.id, limit=limit, cursor=cursor, convert=_level)


def _movement(row: dict[str, Any]) -> StockMovementRead:
    return StockMovementRead(
        id=row["id"],
        variant_id=row["variant"],
        warehouse_id=row["warehouse"],
        delta_on_hand=row["delta_on_hand"],
        delta_reserved=row["delta_reserved"],
        reason=row["reason"],
        reference=row["reference"],
        note=row["note"],
        created_at=row["created_at"],
    )


async def list_movements(
    store_id: str,
    *,
    variant_id: str | None,
    warehouse_id: str | None,
    reference: str | None,
    limit: int,
    cursor: str | None,
) -> Page[StockMovementRead]:
    """The stock ledger, newest first, optionally of one variant, warehouse or reference."""
    query = StockMovement.select().where(StockMovement.store == store_id)
    if variant_id is not None:
        query = query.where(StockMovement.variant == variant_id)
    if warehouse_id is not None:
        query = query.where(StockMovement.warehouse == warehouse_id)
    if reference is not None:
        query = query.where(StockMovement.reference == reference)
    return await page_of(query, StockMovement.id, limit=limit, cursor=cursor, convert=_movement)
