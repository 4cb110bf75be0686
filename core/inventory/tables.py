"""Warehouses, their service to regions, stock levels, reservations and the stock ledger."""

from __future__ import annotations

from piccolo.columns import Boolean, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from core.catalog.tables import Variant
from core.db.columns import ID_LENGTH, PartialIndex, id_column, timestamp_now
from core.db.engine import UNBOUND
from core.stores.tables import Region, Store

#: Length of a reservation owner (a cart id, an order id…).
OWNER_LENGTH = 64


class Warehouse(Table, tablename="warehouses", db=UNBOUND):
    """A stock location of a store."""

    caravan_unique = (("store", "code"),)

    id = id_column()
    store = ForeignKey(Store, on_delete=OnDelete.cascade, null=False)
    code = Varchar(length=32)
    name = Varchar(length=200)
    #: ISO 3166-1 alpha-2 code of the country it ships from.
    country = Varchar(length=2)
    #: Inactive warehouses keep their stock but serve no region.
    active = Boolean(default=True)
    created_at = timestamp_now()
    updated_at = timestamp_now()


class RegionWarehouse(Table, tablename="region_warehouses", db=UNBOUND):
    """A warehouse serving a region; lower ``priority`` is tried first."""

    caravan_unique = (("region", "warehouse"),)

    id = id_column()
    store = ForeignKey(Store, on_delete=OnDelete.cascade, null=False, index=True)
    region = ForeignKey(Region, on_delete=OnDelete.cascade, null=False)
    warehouse = ForeignKey(Warehouse, on_delete=OnDelete.cascade, null=False, index=True)
    priority = Integer(default=0)


class InventoryItem(Table, tablename="inventory_items", db=UNBOUND):
    """Inventory settings of a variant (a variant without a row has the defaults)."""

    id = id_column()
    store = ForeignKey(Store, on_delete=OnDelete.cascade, null=False, index=True)
    variant = ForeignKey(Variant, on_delete=OnDelete.cascade, null=False, unique=True)
    #: Sell beyond the stock on hand (``on_hand`` may go negative when sold).
    allow_backorder = Boolean(default=False)
    #: ``inventory.low`` is emitted when available stock drops to this or below.
    low_stock_threshold = Integer(null=True, default=None)
    updated_at = timestamp_now()


class StockLevel(Table, tablename="stock_levels", db=UNBOUND):
    """Units of a variant in a warehouse: ``available = on_hand - reserved``."""

    caravan_unique = (("variant", "warehouse"),)
    caravan_indexes = (("warehouse", "id"),)

    id = id_column()
    store = ForeignKey(Store, on_delete=OnDelete.cascade, null=False, index=True)
    variant = ForeignKey(Variant, on_delete=OnDelete.cascade, null=False)
    warehouse = ForeignKey(Warehouse, on_delete=OnDelete.cascade, null=False)
    on_hand = Integer(default=0)
    #: The sum of the quantities of the active reservations of this level.
    reserved = Integer(default=0)
    updated_at = timestamp_now()


class Reservation(Table, tablename="stock_reservations", db=UNBOUND):
    """Units of a stock level held for an owner (a cart, then its order)."""

    caravan_indexes = (
        ("owner", "state"),
        ("variant", "state"),
        # The sweeper's: the active reservations that expire, by expiry (a query that
        # does not say ``expires_at IS NOT NULL`` cannot use it).
        PartialIndex(("expires_at",), "state = 'active' AND expires_at IS NOT NULL", "expiring"),
    )

    id = id_column()
    store = ForeignKey(Store, on_delete=OnDelete.cascade, null=False, index=True)
    owner = Varchar(length=OWNER_LENGTH)
    variant = ForeignKey(Variant, on_delete=OnDelete.cascade, null=False)
    warehouse = ForeignKey(Warehouse, on_delete=OnDelete.cascade, null=False, index=True)
    quantity = Integer()
    #: active → committed (sold), released or expired.
    state = Varchar(length=16, default="active")
    #: Null: held until committed or released (an order awaiting manual payment).
    expires_at = Timestamptz(null=True, default=None)
    created_at = timestamp_now()


class StockMovement(Table, tablename="stock_movements", db=UNBOUND):
    """One change of a stock level (the ledger; rows are never changed)."""

    caravan_indexes = (("store", "id"), ("store", "variant", "id"), ("store", "warehouse", "id"))

    id = id_column()
    store = ForeignKey(Store, on_delete=OnDelete.cascade, null=False)
    #: Plain ids: the history outlives deleted variants and warehouses.
    variant = Varchar(length=ID_LENGTH)
    warehouse = Varchar(length=ID_LENGTH)
    delta_on_hand = Integer(default=0)
    delta_reserved = Integer(default=0)
    reason = Varchar(length=32)
    #: What caused it: a cart or order id, a return…
    reference = Varchar(length=OWNER_LENGTH, default="")
    note = Varchar(length=500, default="")
    created_at = timestamp_now()
