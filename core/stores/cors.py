"""CORS for the storefront API, with origins allowed per storefront.

A preflight (``OPTIONS``) carries no publishable key, so it is answered for
any origin some storefront allows; the real request then gets
``Access-Control-Allow-Origin`` only if *its* storefront allows the origin,
so a browser on another storefront's site cannot read the answer.
"""

from __future__ import annotations

from typing import Any

from litestar.types import ASGIApp, Receive

from core.kernel.scope import Cached
from core.stores.context import resolve_key
from core.stores.tables import Storefront

ALLOW_HEADERS = (
    "accept, accept-language, content-type, x-publishable-key, x-region, "
    "idempotency-key, if-none-match, authorization"
)
ALLOW_METHODS = "GET, POST, PATCH, PUT, DELETE, OPTIONS"
EXPOSE_HEADERS = "etag, content-language, retry-after"

_known: Cached[str, frozenset[str]] = Cached("stores.cors_origins", ttl=5.0)


async def _all_origins() -> frozenset[str]:
    async def load() -> frozenset[str]:
        rows = await Storefront.select(Storefront.cors_origins).output(load_json=True)
        return frozenset(o for r in rows for o in r["cors_origins"])

    return await _known.get().get_or_load("all", load)


def forget_origins(_store_id: str | None = None) -> None:
    """Drop the cached set of allowed origins."""
    _known.get().clear()


def _header(scope: Any, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def cors_middleware(app: ASGIApp) -> ASGIApp:
    """Wrap ``app`` with storefront CORS (only ``/store`` paths are touched)."""

    async def middleware(scope: Any, receive: Receive, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/store"):
            await app(scope, receive, send)
            return
        origin = _header(scope, b"origin")
        if origin is None:
            await app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS" and _header(scope, b"access-control-request-method"):
            allowed = origin in await _all_origins()
            headers: list[tuple[bytes, bytes]] = [(b"vary", b"origin")]
            if allowed:
                headers += [
                    (b"access-control-allow-origin", origin.encode("latin-1")),
                    (b"access-control-allow-methods", ALLOW_METHODS.encode()),
                    (b"access-control-allow-headers", ALLOW_HEADERS.encode()),
                    (b"access-control-max-age", b"600"),
                ]
            await send(
                {
                    "type": "http.response.start",
                    "status": 204 if allowed else 403,
                    "headers": headers,
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return
        allow = False
        key = _header(scope, b"x-publishable-key")
        if key:
            try:
                allow = origin in (await resolve_key(key)).cors_origins
            except Exception:
                allow = False

        async def send_with_cors(message: Any) -> None:
            if message["type"] == "http.response.start":
                extra: list[tuple[bytes, bytes]] = [(b"vary", b"origin")]
                if allow:
                    extra += [
                        (b"access-control-allow-origin", origin.encode("latin-1")),
                        (b"access-control-expose-headers", EXPOSE_HEADERS.encode()),
                    ]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await app(scope, receive, send_with_cors)

    return middleware
