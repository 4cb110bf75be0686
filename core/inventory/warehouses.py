"""Warehouses (stock locations) of a store and the regions they serve."""

from __future__ import annotations

from typing import Any

from piccolo.query import Select

from core.db.engine import now, transaction, unique_or_conflict
from core.inventory import errors
from core.inventory.routing import forget_warehouses
from core.inventory.schemas import (
    RegionWarehousesRead,
    RegionWarehousesSet,
    WarehouseCreate,
    WarehouseRead,
    WarehouseUpdate,
)
from core.inventory.tables import RegionWarehouse, Reservation, StockLevel, Warehouse
from core.kernel.errors import CaravanError
from core.kernel.ids import new_id
from core.kernel.pagination import Page, page_of
from core.kernel.validation import Issues
from core.stores import errors as store_errors
from core.stores.tables import Region


def _warehouse(row: dict[str, Any]) -> WarehouseRead:
    return WarehouseRead(
        id=row["id"],
        code=row["code"],
        name=row["name"],
        country=row["country"],
        active=bool(row["active"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _warehouses(store_id: str) -> Select[Any]:
    return Warehouse.select(
        Warehouse.id,
        Warehouse.code,
        Warehouse.name,
        Warehouse.country,
        Warehouse.active,
        Warehouse.created_at,
        Warehouse.updated_at,
    ).where(Warehouse.store == store_id)


def _check_country(country: str | None) -> None:
    issues = Issues()
    issues.country("country", country)
    issues.raise_if_any()


async def create_warehouse(store_id: str, data: WarehouseCreate) -> WarehouseRead:
    """Add a warehouse to the store."""
    _check_country(data.country)
    stamp = now()
    row = Warehouse(
        id=new_id("wh"),
        store=store_id,
        code=data.code,
        name=data.name,
        country=data.country,
        active=data.active,
        created_at=stamp,
        updated_at=stamp,
    )

    async def write() -> None:
        async with transaction():
            if await Warehouse.exists().where(
                (Warehouse.store == store_id) & (Warehouse.code == data.code)
            ):
                raise CaravanError(errors.WAREHOUSE_CODE_TAKEN, code=data.code)
            await row.save()

    await unique_or_conflict(write(), errors.WAREHOUSE_CODE_TAKEN, code=data.code)
    forget_warehouses()
    return await get_warehouse(store_id, row.id)


async def get_warehouse(store_id: str, warehouse_id: str) -> WarehouseRead:
    """One warehouse of the store, or 404."""
    row = await _warehouses(store_id).where(Warehouse.id == warehouse_id).first()
    if row is None:
        raise CaravanError(errors.WAREHOUSE_NOT_FOUND, id=warehouse_id)
    return _warehouse(row)


async def list_warehouses(store_id: str, *, limit: int, cursor: str | None) -> Page[WarehouseRead]:
    """The store's warehouses, newest first."""
    return await page_of(
        _warehouses(store_id), Warehouse.id, limit=limit, cursor=cursor, convert=_warehouse
    )


async def update_warehouse(
    store_id: str, warehouse_id: str, data: WarehouseUpdate
) -> WarehouseRead:
    """Rename, move or (de)activate a warehouse; an inactive one serves no region."""
    _check_country(data.country)
    values: dict[Any, Any] = {Warehouse.updated_at: now()}
    for field in ("name", "country", "active"):
        value = getattr(data, field)
        if value is not None:
            values[getattr(Warehouse, field)] = value
    async with transaction():
        found = (
            await Warehouse.update(values)
            .where((Warehouse.id == warehouse_id) & (Warehouse.store == store_id))
            .returning(Warehouse.id)
        )
    forget_warehouses()
    if not found:
        raise CaravanError(errors.WAREHOUSE_NOT_FOUND, id=warehouse_id)
    return await get_warehouse(store_id, warehouse_id)


async def delete_warehouse(store_id: str, warehouse_id: str) -> None:
    """Remove a warehouse that holds no stock and has sold nothing (else deactivate it)."""
    warehouse = await get_warehouse(store_id, warehouse_id)
    async with transaction():
        holds = await StockLevel.exists().where(
            (StockLevel.warehouse == warehouse_id)
            & ((StockLevel.on_hand != 0) | (StockLevel.reserved != 0))
        )
        sold = await Reservation.exists().where(
            (Reservation.warehouse == warehouse_id)
            & Reservation.state.is_in(["active", "committed"])
        )
        if holds or sold:
            raise CaravanError(errors.WAREHOUSE_NOT_EMPTY, code=warehouse.code)
        for table in (RegionWarehouse, StockLevel, Reservation):
            await table.delete().where(table.warehouse == warehouse_id)
        await Warehouse.delete().where(Warehouse.id == warehouse_id)
    forget_warehouses()


# ---------------------------------------------------------------------------
# Regions
# ---------------------------------------------------------------------------


async def _check_region(store_id: str, region_id: str) -> None:
    if not await Region.exists().where((Region.id == region_id) & (Region.store == store_id)):
        raise CaravanError(store_errors.REGION_NOT_FOUND, id=region_id)


async def get_region_warehouses(store_id: str, region_id: str) -> RegionWarehousesRead:
    """The warehouses assigned to a region, first choice first."""
    await _check_region(store_id, region_id)
    links = (
        await RegionWarehouse.select(RegionWarehouse.warehouse)
        .where((RegionWarehouse.region == region_id) & (RegionWarehouse.store == store_id))
        .order_by(RegionWarehouse.priority)
    )
    ids = [link["warehouse"] for link in links]
    rows = await _warehouses(store_id).where(Warehouse.id.is_in(ids)) if ids else []
    by_id = {row["id"]: _warehouse(row) for row in rows}
    return RegionWarehousesRead(region_id=region_id, warehouses=[by_id[i] for i in ids])


async def set_region_warehouses(
    store_id: str, region_id: str, data: RegionWarehousesSet
) -> RegionWarehousesRead:
    """Replace the warehouses serving a region (in priority order)."""
    await _check_region(store_id, region_id)
    issues = Issues()
    issues.unique("warehouse_ids", data.warehouse_ids)
    if data.warehouse_ids:
        found = {
            r["id"]
            for r in await Warehouse.select(Warehouse.id).where(
                (Warehouse.store == store_id) & Warehouse.id.is_in(data.warehouse_ids)
            )
        }
        for i, warehouse_id in enumerate(data.warehouse_ids):
            if warehouse_id not in found:
                issues.add(f"warehouse_ids[{i}]", "not_found")
    issues.raise_if_any()
    async with transaction():
        # Lock the region: concurrent replacements of its list queue up.
        await Region.raw("UPDATE regions SET id = id WHERE id = {}", region_id)
        await RegionWarehouse.delete().where(RegionWarehouse.region == region_id)
        if data.warehouse_ids:
            await RegionWarehouse.insert(
                *(
                    RegionWarehouse(
                        id=new_id("rw"),
                        store=store_id,
                        region=region_id,
                        warehouse=warehouse_id,
                        priority=i,
                    )
                    for i, warehouse_id in enumerate(data.warehouse_ids)
                )
            )
    forget_warehouses()
    return await get_region_warehouses(store_id, region_id)
