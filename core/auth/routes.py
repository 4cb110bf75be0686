"""Admin routes for store staff tokens (and the operator minting a store's token)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, delete, get, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_204_NO_CONTENT

from core.auth import service
from core.auth.guards import needs, operator_only, principal_of, store_id_of
from core.auth.schemas import TokenCreate, TokenCreated
from core.auth.scopes import ALL_SCOPES
from core.auth.service import TokenRecord
from core.kernel.pagination import Cursor, Limit, Page
from core.stores.service import get_store

AnyRequest = Request[Any, Any, Any]


class TokensController(Controller):
    """Store staff: secret tokens with scopes."""

    path = "/admin/tokens"
    tags = ["admin: tokens"]

    @post("/", opt=needs("tokens:write"), operation_id="createToken")
    async def create(self, request: AnyRequest, data: JSONBody[TokenCreate]) -> TokenCreated:
        """Create a token holding some of the caller's scopes; the secret is shown once."""
        service.check_grantable(principal_of(request).scopes, data.scopes)
        secret, record = await service.create_token(
            store_id=store_id_of(request),
            name=data.name,
            scopes=data.scopes,
            expires_in_days=data.expires_in_days,
        )
        return TokenCreated(token=secret, record=record)

    @get("/", opt=needs("tokens:read"), operation_id="listTokens")
    async def list(
        self, request: AnyRequest, limit: Limit = 20, cursor: Cursor = None
    ) -> Page[TokenRecord]:
        """List the store's tokens, newest first (secrets never shown)."""
        return await service.list_tokens(store_id_of(request), limit=limit, cursor=cursor)

    @get("/{token_id:str}", opt=needs("tokens:read"), operation_id="getToken")
    async def get(self, request: AnyRequest, token_id: FromPath[str]) -> TokenRecord:
        """Read one token."""
        return await service.get_token(store_id_of(request), token_id)

    @delete(
        "/{token_id:str}",
        opt=needs("tokens:write"),
        operation_id="revokeToken",
        status_code=HTTP_204_NO_CONTENT,
    )
    async def revoke(self, request: AnyRequest, token_id: FromPath[str]) -> None:
        """Revoke a token at once."""
        await service.revoke_token(store_id_of(request), token_id)


@post(
    "/admin/stores/{store_id:str}/tokens",
    opt=operator_only(),
    operation_id="createStoreToken",
    tags=["admin: stores"],
)
async def create_store_token(store_id: FromPath[str], data: JSONBody[TokenCreate]) -> TokenCreated:
    """Operator: mint a staff token for a store (for example after losing the owner token)."""
    await get_store(store_id)
    service.check_grantable(ALL_SCOPES, data.scopes)
    secret, record = await service.create_token(
        store_id=store_id, name=data.name, scopes=data.scopes, expires_in_days=data.expires_in_days
    )
    return TokenCreated(token=secret, record=record)


ADMIN_ROUTES = [TokensController, create_store_token]
