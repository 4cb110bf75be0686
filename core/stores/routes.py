"""Admin routes for stores (operator), the own store, regions and storefronts;
storefront route for regions."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, delete, get, patch, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_204_NO_CONTENT

from core.auth.guards import needs, operator_only, store_id_of
from core.kernel.pagination import Cursor, Limit, Page
from core.stores import service
from core.stores.context import region_list, resolve_key
from core.stores.schemas import (
    RegionCreate,
    RegionRead,
    RegionUpdate,
    StoreCreate,
    StoreCreated,
    StorefrontCreate,
    StorefrontRead,
    StorefrontUpdate,
    StorefrontWithKey,
    StoreRead,
    StoreRegionRead,
    StoreUpdate,
)

AnyRequest = Request[Any, Any, Any]


class OperatorStoresController(Controller):
    """Platform operator: every store on the deployment."""

    path = "/admin/stores"
    tags = ["admin: stores"]

    @post("/", opt=operator_only(), operation_id="createStore")
    async def create(self, data: JSONBody[StoreCreate]) -> StoreCreated:
        """Create a store; the answer holds its first staff token (shown once)."""
        return await service.create_store(data)

    @get("/", opt=operator_only(), operation_id="listStores")
    async def list(self, limit: Limit = 20, cursor: Cursor = None) -> Page[StoreRead]:
        """List stores, newest first."""
        return await service.list_stores(limit=limit, cursor=cursor)

    @get("/{store_id:str}", opt=operator_only(), operation_id="getStore")
    async def get(self, store_id: FromPath[str]) -> StoreRead:
        """Read one store."""
        return await service.get_store(store_id)

    @patch("/{store_id:str}", opt=operator_only(), operation_id="updateStore")
    async def update(self, store_id: FromPath[str], data: JSONBody[StoreUpdate]) -> StoreRead:
        """Change a store."""
        return await service.update_store(store_id, data)


class OwnStoreController(Controller):
    """Store staff: the store their token belongs to."""

    path = "/admin/store"
    tags = ["admin: stores"]

    @get("/", opt=needs("settings:read"), operation_id="getOwnStore")
    async def get(self, request: AnyRequest) -> StoreRead:
        """Read this store."""
        return await service.get_store(store_id_of(request))

    @patch("/", opt=needs("settings:write"), operation_id="updateOwnStore")
    async def update(self, request: AnyRequest, data: JSONBody[StoreUpdate]) -> StoreRead:
        """Change this store's name, currency, country, default locale or settings."""
        return await service.update_store(store_id_of(request), data)


class RegionsController(Controller):
    """Store staff: regions (markets)."""

    path = "/admin/regions"
    tags = ["admin: regions"]

    @post("/", opt=needs("settings:write"), operation_id="createRegion")
    async def create(self, request: AnyRequest, data: JSONBody[RegionCreate]) -> RegionRead:
        """Add a region."""
        return await service.create_region(store_id_of(request), data)

    @get("/", opt=needs("settings:read"), operation_id="listRegions")
    async def list(
        self, request: AnyRequest, limit: Limit = 20, cursor: Cursor = None
    ) -> Page[RegionRead]:
        """List regions, newest first."""
        return await service.list_regions(store_id_of(request), limit=limit, cursor=cursor)

    @get("/{region_id:str}", opt=needs("settings:read"), operation_id="getRegion")
    async def get(self, request: AnyRequest, region_id: FromPath[str]) -> RegionRead:
        """Read one region."""
        return await service.get_region(store_id_of(request), region_id)

    @patch("/{region_id:str}", opt=needs("settings:write"), operation_id="updateRegion")
    async def update(
        self, request: AnyRequest, region_id: FromPath[str], data: JSONBody[RegionUpdate]
    ) -> RegionRead:
        """Change a region."""
        return await service.update_region(store_id_of(request), region_id, data)

    @delete(
        "/{region_id:str}",
        opt=needs("settings:write"),
        operation_id="deleteRegion",
        status_code=HTTP_204_NO_CONTENT,
    )
    async def delete(self, request: AnyRequest, region_id: FromPath[str]) -> None:
        """Remove a region."""
        await service.delete_region(store_id_of(request), region_id)


class StorefrontsController(Controller):
    """Store staff: storefronts and their publishable keys."""

    path = "/admin/storefronts"
    tags = ["admin: storefronts"]

    @post("/", opt=needs("settings:write"), operation_id="createStorefront")
    async def create(
        self, request: AnyRequest, data: JSONBody[StorefrontCreate]
    ) -> StorefrontWithKey:
        """Add a storefront; the answer holds its publishable key."""
        return await service.create_storefront(store_id_of(request), data)

    @get("/", opt=needs("settings:read"), operation_id="listStorefronts")
    async def list(
        self, request: AnyRequest, limit: Limit = 20, cursor: Cursor = None
    ) -> Page[StorefrontRead]:
        """List storefronts, newest first."""
        return await service.list_storefronts(store_id_of(request), limit=limit, cursor=cursor)

    @get("/{storefront_id:str}", opt=needs("settings:read"), operation_id="getStorefront")
    async def get(self, request: AnyRequest, storefront_id: FromPath[str]) -> StorefrontRead:
        """Read one storefront."""
        return await service.get_storefront(store_id_of(request), storefront_id)

    @patch("/{storefront_id:str}", opt=needs("settings:write"), operation_id="updateStorefront")
    async def update(
        self, request: AnyRequest, storefront_id: FromPath[str], data: JSONBody[StorefrontUpdate]
    ) -> StorefrontRead:
        """Change a storefront."""
        return await service.update_storefront(store_id_of(request), storefront_id, data)

    @post(
        "/{storefront_id:str}/rotate-key",
        opt=needs("settings:write"),
        operation_id="rotateStorefrontKey",
    )
    async def rotate_key(
        self, request: AnyRequest, storefront_id: FromPath[str]
    ) -> StorefrontWithKey:
        """Issue a new publishable key; the old one stops working."""
        return await service.rotate_storefront_key(store_id_of(request), storefront_id)

    @delete(
        "/{storefront_id:str}",
        opt=needs("settings:write"),
        operation_id="deleteStorefront",
        status_code=HTTP_204_NO_CONTENT,
    )
    async def delete(self, request: AnyRequest, storefront_id: FromPath[str]) -> None:
        """Remove a storefront."""
        await service.delete_storefront(store_id_of(request), storefront_id)


@get("/store/regions", operation_id="storeListRegions", tags=["store"])
async def store_regions(request: AnyRequest) -> list[StoreRegionRead]:
    """The regions this storefront sells in."""
    context = await resolve_key(request.headers.get("x-publishable-key"))
    return region_list(context)


ADMIN_ROUTES = [
    OperatorStoresController,
    OwnStoreController,
    RegionsController,
    StorefrontsController,
]
STORE_ROUTES = [store_regions]
