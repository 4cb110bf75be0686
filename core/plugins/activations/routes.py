"""Admin routes: installed providers, and activating them per region."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, delete, get, put
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_204_NO_CONTENT

from core.auth.guards import needs, store_id_of
from core.plugins.activations import service
from core.providers.schemas import ActivationRead, ActivationWrite, ProviderInfo

AnyRequest = Request[Any, Any, Any]


class ProvidersController(Controller):
    """Store staff: the payment, tax and shipping providers of each region."""

    tags = ["admin: providers"]

    @get("/admin/providers", opt=needs("settings:read"), operation_id="listProviders")
    async def registered(self) -> list[ProviderInfo]:
        """The providers this deployment's plugins register, with their configuration schemas."""
        return service.registered_providers()

    @get(
        "/admin/regions/{region_id:str}/providers",
        opt=needs("settings:read"),
        operation_id="listRegionProviders",
    )
    async def list_active(
        self, request: AnyRequest, region_id: FromPath[str]
    ) -> list[ActivationRead]:
        """The providers activated in a region."""
        return await service.list_activations(store_id_of(request), region_id)

    @put(
        "/admin/regions/{region_id:str}/providers/{kind:str}/{code:str}",
        opt=needs("settings:write"),
        operation_id="activateRegionProvider",
    )
    async def activate(
        self,
        request: AnyRequest,
        region_id: FromPath[str],
        kind: FromPath[str],
        code: FromPath[str],
        data: JSONBody[ActivationWrite],
    ) -> ActivationRead:
        """Activate a provider in a region, or change its configuration."""
        return await service.activate(store_id_of(request), region_id, kind, code, data)

    @delete(
        "/admin/regions/{region_id:str}/providers/{kind:str}/{code:str}",
        opt=needs("settings:write"),
        operation_id="deactivateRegionProvider",
        status_code=HTTP_204_NO_CONTENT,
    )
    async def deactivate(
        self,
        request: AnyRequest,
        region_id: FromPath[str],
        kind: FromPath[str],
        code: FromPath[str],
    ) -> None:
        """Stop using a provider in a region."""
        await service.deactivate(store_id_of(request), region_id, kind, code)


ADMIN_ROUTES = [ProvidersController]
