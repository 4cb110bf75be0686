"""ETags on every read, and ``304 Not Modified`` for a matching ``If-None-Match``."""

from __future__ import annotations

import hashlib
from typing import Any

# ---------------------------------------------------------------------------
# ETags on every read
# ---------------------------------------------------------------------------


def etag_of(body: bytes) -> str:
    """A strong ETag for ``body``."""
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def etag_matches(header: str | None, etag: str) -> bool:
    """Whether an ``If-None-Match`` header names ``etag`` (weak comparison)."""
    if not header:
        return False
    if header.strip() == "*":
        return True
    return etag in (tag.strip().removeprefix("W/") for tag in header.split(","))


def etag_middleware(app: Any) -> Any:
    """ASGI middleware: a GET answered 200 without an ETag gets one (and 304 on a match).

    Responses that already carry an ETag (the cached storefront reads) pass
    straight through; others are buffered, which suits the bounded pages of
    this API.
    """

    async def middleware(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await app(scope, receive, send)
            return
        start: dict[str, Any] | None = None
        chunks: list[bytes] = []

        async def buffered(message: Any) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                headers = message.get("headers", [])
                if message["status"] != 200 or any(k == b"etag" for k, _ in headers):
                    start = None
                    await send(message)
                else:
                    start = message
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = b"".join(chunks)
            etag = etag_of(body)
            headers = [*start.get("headers", []), (b"etag", etag.encode())]
            match = dict(scope["headers"]).get(b"if-none-match")
            if match and etag_matches(match.decode("latin-1"), etag):
                kept = [(k, v) for k, v in headers if k not in (b"content-length", b"content-type")]
                await send({"type": "http.response.start", "status": 304, "headers": kept})
                await send({"type": "http.response.body", "body": b""})
                return
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await app(scope, receive, buffered)

    return middleware
