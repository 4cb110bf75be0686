"""Admin routes of inventory: warehouses, region routing, stock levels, adjustments, ledger."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, delete, get, patch, post, put
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_204_NO_CONTENT

from core.auth.guards import needs, store_id_of
from core.inventory import stock, warehouses
from core.inventory.schemas import (
    InventorySettingsUpdate,
    RegionWarehousesRead,
    RegionWarehousesSet,
    StockAdjustment,
    StockLevelRead,
    StockMovementRead,
    VariantInventoryRead,
    WarehouseCreate,
    WarehouseRead,
    WarehouseUpdate,
)
from core.kernel.pagination import Cursor, Limit, Page

AnyRequest = Request[Any, Any, Any]

VariantFilter = Annotated[
    str | None, QueryParameter(max_length=40, description="Only movements of this variant.")
]
WarehouseFilter = Annotated[
    str | None, QueryParameter(max_length=40, description="Only movements of this warehouse.")
]
ReferenceFilter = Annotated[
    str | None,
    QueryParameter(max_length=64, description="Only movements caused by this cart or order id."),
]


class WarehousesController(Controller):
    """Store staff: warehouses (stock locations) and their stock."""

    path = "/admin/warehouses"
    tags = ["admin: inventory"]

    @post("/", opt=needs("inventory:write"), operation_id="createWarehouse")
    async def create_warehouse(
        self, request: AnyRequest, data: JSONBody[WarehouseCreate]
    ) -> WarehouseRead:
        """Add a warehouse."""
        return await warehouses.create_warehouse(store_id_of(request), data)

    @get("/", opt=needs("inventory:read"), operation_id="listWarehouses")
    async def list_warehouses(
        self, request: AnyRequest, limit: Limit = 20, cursor: Cursor = None
    ) -> Page[WarehouseRead]:
        """List warehouses, newest first."""
        return await warehouses.list_warehouses(store_id_of(request), limit=limit, cursor=cursor)

    @get("/{warehouse_id:str}", opt=needs("inventory:read"), operation_id="getWarehouse")
    async def get_warehouse(
        self, request: AnyRequest, warehouse_id: FromPath[str]
    ) -> WarehouseRead:
        """Read one warehouse."""
        return await warehouses.get_warehouse(store_id_of(request), warehouse_id)

    @patch("/{warehouse_id:str}", opt=needs("inventory:write"), operation_id="updateWarehouse")
    async def update_warehouse(
        self, request: AnyRequest, warehouse_id: FromPath[str], data: JSONBody[WarehouseUpdate]
    ) -> WarehouseRead:
        """Rename, move or (de)activate a warehouse."""
        return await warehouses.update_warehouse(store_id_of(request), warehouse_id, data)

    @delete(
        "/{warehouse_id:str}",
        opt=needs("inventory:write"),
        operation_id="deleteWarehouse",
        status_code=HTTP_204_NO_CONTENT,
    )
    async def delete_warehouse(self, request: AnyRequest, warehouse_id: FromPath[str]) -> None:
        """Remove a warehouse that holds no stock and has sold nothing."""
        await warehouses.delete_warehouse(store_id_of(request), warehouse_id)

    @get(
        "/{warehouse_id:str}/stock",
        opt=needs("inventory:read"),
        operation_id="listWarehouseStock",
    )
    async def list_stock(
        self,
        request: AnyRequest,
        warehouse_id: FromPath[str],
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> Page[StockLevelRead]:
        """The stock levels of a warehouse, newest first."""
        return await stock.list_warehouse_stock(
            store_id_of(request), warehouse_id, limit=limit, cursor=cursor
        )


class RegionWarehousesController(Controller):
    """Store staff: which warehouses serve a region, first choice first."""

    path = "/admin/regions/{region_id:str}/warehouses"
    tags = ["admin: inventory"]

    @get("/", opt=needs("inventory:read"), operation_id="getRegionWarehouses")
    async def get_region_warehouses(
        self, request: AnyRequest, region_id: FromPath[str]
    ) -> RegionWarehousesRead:
        """The warehouses serving a region, in the order stock is taken from them."""
        return await warehouses.get_region_warehouses(store_id_of(request), region_id)

    @put("/", opt=needs("inventory:write"), operation_id="setRegionWarehouses")
    async def set_region_warehouses(
        self, request: AnyRequest, region_id: FromPath[str], data: JSONBody[RegionWarehousesSet]
    ) -> RegionWarehousesRead:
        """Replace the warehouses serving a region (an empty list: every active warehouse)."""
        return await warehouses.set_region_warehouses(store_id_of(request), region_id, data)


class VariantInventoryController(Controller):
    """Store staff: a variant's stock across warehouses, its settings and adjustments."""

    path = "/admin/variants/{variant_id:str}/inventory"
    tags = ["admin: inventory"]

    @get("/", opt=needs("inventory:read"), operation_id="getVariantInventory")
    async def get_inventory(
        self, request: AnyRequest, variant_id: FromPath[str]
    ) -> VariantInventoryRead:
        """A variant's settings and stock in every warehouse."""
        return await stock.get_variant_inventory(store_id_of(request), variant_id)

    @patch("/", opt=needs("inventory:write"), operation_id="updateVariantInventory")
    async def update_inventory(
        self,
        request: AnyRequest,
        variant_id: FromPath[str],
        data: JSONBody[InventorySettingsUpdate],
    ) -> VariantInventoryRead:
        """Change backorder and the low-stock threshold of a variant."""
        return await stock.update_settings(store_id_of(request), variant_id, data)

    @post(
        "/{warehouse_id:str}/adjustments",
        opt=needs("inventory:write"),
        operation_id="adjustStock",
    )
    async def adjust_stock(
        self,
        request: AnyRequest,
        variant_id: FromPath[str],
        warehouse_id: FromPath[str],
        data: JSONBody[StockAdjustment],
    ) -> StockLevelRead:
        """Add, remove or recount units on hand in a warehouse (written to the ledger)."""
        return await stock.adjust(store_id_of(request), variant_id, warehouse_id, data)


@get(
    "/admin/stock-movements",
    opt=needs("inventory:read"),
    operation_id="listStockMovements",
    tags=["admin: inventory"],
)
async def list_stock_movements(
    request: AnyRequest,
    variant_id: VariantFilter = None,
    warehouse_id: WarehouseFilter = None,
    reference: ReferenceFilter = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> Page[StockMovementRead]:
    """The stock ledger, newest first: every change of units on hand or reserved."""
    return await stock.list_movements(
        store_id_of(request),
        variant_id=variant_id,
        warehouse_id=warehouse_id,
        reference=reference,
        limit=limit,
        cursor=cursor,
    )


ADMIN_ROUTES = [
    WarehousesController,
    RegionWarehousesController,
    VariantInventoryController,
    list_stock_movements,
]
