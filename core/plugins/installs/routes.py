"""Admin routes: the plugins of the deployment, and installing them in a store."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, delete, get, put
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_204_NO_CONTENT

from core.auth.guards import needs, principal_of, store_id_of
from core.plugins.installs import service
from core.plugins.installs.schemas import Installation, InstallRequest, PluginInStore

AnyRequest = Request[Any, Any, Any]


class InstallsController(Controller):
    """Store staff: which plugins the store uses, and the permissions it granted them."""

    tags = ["admin: plugins"]

    @get("/admin/plugins", opt=needs("settings:read"), operation_id="listPlugins")
    async def plugins(self, request: AnyRequest) -> list[PluginInStore]:
        """The plugins of this deployment: each manifest (with the permissions the plugin
        asks for), the providers it adds with their configuration schemas, and whether
        this store installed it."""
        return await service.plugins_in_store(store_id_of(request))

    @get("/admin/installations", opt=needs("settings:read"), operation_id="listInstallations")
    async def installations(self, request: AnyRequest) -> list[Installation]:
        """The plugins installed in this store."""
        return await service.installations(store_id_of(request))

    @put(
        "/admin/installations/{package:str}",
        opt=needs("settings:write"),
        operation_id="installPlugin",
    )
    async def install(
        self, request: AnyRequest, package: FromPath[str], data: JSONBody[InstallRequest]
    ) -> Installation:
        """Install a plugin of this deployment (by its package name), granting exactly
        the permissions its manifest asks for; the calling token must hold them. For an
        installed plugin this grants again (after an upgrade that asks for others)."""
        principal = principal_of(request)
        return await service.install(store_id_of(request), package, data, principal.scopes)

    @delete(
        "/admin/installations/{package:str}",
        opt=needs("settings:write"),
        operation_id="uninstallPlugin",
        status_code=HTTP_204_NO_CONTENT,
    )
    async def uninstall(
        self,
        request: AnyRequest,
        package: FromPath[str],
        force: Annotated[
            bool,
            QueryParameter(
                description="Uninstall even if the plugin is the only provider of a region."
            ),
        ] = False,
    ) -> None:
        """Uninstall a plugin: its providers leave every region of the store. Refused
        while one of them is the only provider of its kind in a region, unless forced."""
        await service.uninstall(store_id_of(request), package, force=force)


ADMIN_ROUTES = [InstallsController]
