"""Admin routes of shipping zones and their rates."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, delete, get, patch, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_204_NO_CONTENT

from caravan_table_rate_shipping import service
from caravan_table_rate_shipping.schemas import (
    RateCreate,
    RateRead,
    RateUpdate,
    ZoneCreate,
    ZoneRead,
    ZoneUpdate,
)
from core.plugins import Cursor, Limit, Page, needs, store_id_of

AnyRequest = Request[Any, Any, Any]


class ShippingZonesController(Controller):
    """Store staff: the zones and rates the table-rate shipping provider quotes."""

    path = "/admin/shipping-zones"
    tags = ["admin: shipping"]

    @post("/", opt=needs("settings:write"), operation_id="createShippingZone")
    async def create_zone(self, request: AnyRequest, data: JSONBody[ZoneCreate]) -> ZoneRead:
        """Add a zone of countries."""
        return await service.create_zone(store_id_of(request), data)

    @get("/", opt=needs("settings:read"), operation_id="listShippingZones")
    async def list_zones(
        self, request: AnyRequest, limit: Limit = 20, cursor: Cursor = None
    ) -> Page[ZoneRead]:
        """List zones with their rates, newest first."""
        return await service.list_zones(store_id_of(request), limit=limit, cursor=cursor)

    @get("/{shipping_zone_id:str}", opt=needs("settings:read"), operation_id="getShippingZone")
    async def get_zone(self, request: AnyRequest, shipping_zone_id: FromPath[str]) -> ZoneRead:
        """Read one zone with its rates."""
        return await service.get_zone(store_id_of(request), shipping_zone_id)

    @patch(
        "/{shipping_zone_id:str}", opt=needs("settings:write"), operation_id="updateShippingZone"
    )
    async def update_zone(
        self, request: AnyRequest, shipping_zone_id: FromPath[str], data: JSONBody[ZoneUpdate]
    ) -> ZoneRead:
        """Rename a zone or change its countries."""
        return await service.update_zone(store_id_of(request), shipping_zone_id, data)

    @delete(
        "/{shipping_zone_id:str}",
        opt=needs("settings:write"),
        operation_id="deleteShippingZone",
        status_code=HTTP_204_NO_CONTENT,
    )
    async def delete_zone(self, request: AnyRequest, shipping_zone_id: FromPath[str]) -> None:
        """Remove a zone and its rates."""
        await service.delete_zone(store_id_of(request), shipping_zone_id)

    @post(
        "/{shipping_zone_id:str}/rates",
        opt=needs("settings:write"),
        operation_id="createShippingRate",
    )
    async def add_rate(
        self, request: AnyRequest, shipping_zone_id: FromPath[str], data: JSONBody[RateCreate]
    ) -> RateRead:
        """Add a rate (a weight or order value band) to a zone."""
        return await service.add_rate(store_id_of(request), shipping_zone_id, data)

    @patch(
        "/{shipping_zone_id:str}/rates/{shipping_rate_id:str}",
        opt=needs("settings:write"),
        operation_id="updateShippingRate",
    )
    async def update_rate(
        self,
        request: AnyRequest,
        shipping_zone_id: FromPath[str],
        shipping_rate_id: FromPath[str],
        data: JSONBody[RateUpdate],
    ) -> RateRead:
        """Change a rate (``null`` clears ``max``, ``free_above`` or the delivery days)."""
        return await service.update_rate(
            store_id_of(request), shipping_zone_id, shipping_rate_id, data
        )

    @delete(
        "/{shipping_zone_id:str}/rates/{shipping_rate_id:str}",
        opt=needs("settings:write"),
        operation_id="deleteShippingRate",
        status_code=HTTP_204_NO_CONTENT,
    )
    async def delete_rate(
        self, request: AnyRequest, shipping_zone_id: FromPath[str], shipping_rate_id: FromPath[str]
    ) -> None:
        """Remove a rate."""
        await service.delete_rate(store_id_of(request), shipping_zone_id, shipping_rate_id)
