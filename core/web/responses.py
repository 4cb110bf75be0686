"""Pre-encoded responses: status line, headers and body already bytes."""

from __future__ import annotations

from typing import Any

# ---------------------------------------------------------------------------
# Pre-encoded responses
# ---------------------------------------------------------------------------


class EncodedResponse:
    """A response whose status line, headers and body are already bytes.

    Cached storefront reads are answered with one of these: sending it costs
    two ``send`` calls and no header processing.
    """

    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": self.status, "headers": self.headers})
        await send({"type": "http.response.body", "body": self.body})
