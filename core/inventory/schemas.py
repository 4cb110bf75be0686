"""Request and response bodies of inventory: warehouses, stock levels, adjustments, ledger."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Final, Literal

import msgspec
from msgspec import UNSET, UnsetType

from core.kernel.validation import Code, CountryCode, Name

#: The largest number of units a stock level holds or an adjustment moves.
MAX_UNITS: Final = 1_000_000_000

#: Why staff adjusted stock (the ledger's ``reason`` of an admin adjustment).
AdjustmentReason = Literal["received", "recount", "damaged", "correction", "returned", "lost"]
WarehouseId = Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
Note = Annotated[str, msgspec.Meta(max_length=500)]
Threshold = Annotated[int, msgspec.Meta(ge=0, le=MAX_UNITS)]


class WarehouseCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A new warehouse (stock location) of the store."""

    code: Code
    name: Name
    country: CountryCode
    active: bool = True


class WarehouseUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Changes to a warehouse; absent fields stay as they are (the code is fixed)."""

    name: Name | None = None
    country: CountryCode | None = None
    active: bool | None = None


class WarehouseRead(msgspec.Struct, kw_only=True):
    """A warehouse of the store."""

    id: str
    code: str
    name: str
    country: str
    active: bool
    created_at: datetime
    updated_at: datetime


class RegionWarehousesSet(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The warehouses serving a region, first choice first (replaces the list)."""

    warehouse_ids: Annotated[list[WarehouseId], msgspec.Meta(max_length=50)]


class RegionWarehousesRead(msgspec.Struct, kw_only=True):
    """The warehouses serving a region, in the order stock is taken from them.

    An empty list means the region takes stock from every active warehouse of
    the store, oldest first.
    """

    region_id: str
    warehouses: list[WarehouseRead]


class StockLevelRead(msgspec.Struct, kw_only=True):
    """Units of a variant in a warehouse."""

    variant_id: str
    warehouse_id: str
    on_hand: int
    reserved: int
    #: ``on_hand - reserved`` (negative only for a variant sold on backorder).
    available: int
    updated_at: datetime


class VariantInventoryRead(msgspec.Struct, kw_only=True):
    """A variant's inventory settings and its stock in every warehouse that holds a level."""

    variant_id: str
    allow_backorder: bool
    low_stock_threshold: int | None
    on_hand: int
    reserved: int
    available: int
    levels: list[StockLevelRead]


class InventorySettingsUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Changes to a variant's inventory settings; ``"low_stock_threshold": null`` clears it."""

    allow_backorder: bool | None = None
    low_stock_threshold: Threshold | UnsetType | None = UNSET


class StockAdjustment(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A change of the units on hand: ``delta`` adds ``quantity`` (negative removes),
    ``set`` makes ``quantity`` the new count (a recount). ``|quantity| <= 1e9``."""

    quantity: int
    mode: Literal["delta", "set"] = "delta"
    reason: AdjustmentReason
    note: Note = ""


class StockMovementRead(msgspec.Struct, kw_only=True):
    """One entry of the stock ledger."""

    id: str
    variant_id: str
    warehouse_id: str
    delta_on_hand: int
    delta_reserved: int
    reason: str
    reference: str
    note: str
    created_at: datetime
