"""Admin API authentication and authorization (Litestar guards).

Every ``/admin`` handler declares what it needs in its ``opt``: either
``{"operator": True}`` (platform operator routes) or ``{"scope": "<area>:<level>"}``.
``create_app`` refuses to start if an admin handler declares neither.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from core.auth import errors as auth_errors
from core.auth.service import PUBLISHABLE_PREFIX, Principal, authenticate
from core.kernel.errors import CaravanError


def operator_only() -> dict[str, Any]:
    """``opt`` of a route only the platform operator may call."""
    return {"operator": True}


def needs(scope: str) -> dict[str, Any]:
    """``opt`` of a store route that needs ``scope``."""
    return {"scope": scope}


def bearer_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """The token of the request's ``Authorization: Bearer …`` header, ``None`` without
    one; 401 ``invalid_token`` for another scheme or an empty or oversized token."""
    header = connection.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > 256:
        raise CaravanError(auth_errors.INVALID_TOKEN)
    return token


def _bearer(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    token = bearer_token(connection)
    if token is None:
        if connection.headers.get("x-publishable-key"):
            raise CaravanError(auth_errors.PUBLISHABLE_KEY_ON_ADMIN)
        raise CaravanError(auth_errors.MISSING_TOKEN)
    if token.startswith(PUBLISHABLE_PREFIX + "_"):
        raise CaravanError(auth_errors.PUBLISHABLE_KEY_ON_ADMIN)
    return token


async def admin_guard(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """Authenticate the bearer token and check the handler's ``opt`` requirement."""
    principal = await authenticate(_bearer(connection))
    if principal is None:
        raise CaravanError(auth_errors.INVALID_TOKEN)
    if handler.opt.get("operator"):
        if principal.kind != "operator":
            raise CaravanError(auth_errors.OPERATOR_REQUIRED)
    else:
        if principal.kind == "operator" or principal.store_id is None:
            raise CaravanError(auth_errors.STORE_TOKEN_REQUIRED)
        scope = handler.opt["scope"]
        if scope not in principal.scopes:
            raise CaravanError(auth_errors.MISSING_SCOPE, scope=scope)
    connection.state.principal = principal


def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    """The principal :func:`admin_guard` authenticated."""
    principal: Principal = connection.state.principal
    return principal


def store_id_of(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The store of the calling staff token."""
    store_id = principal_of(connection).store_id
    assert store_id is not None  # admin_guard refuses operator tokens on store routes
    return store_id
