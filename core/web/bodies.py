"""Strict request bodies: NUL characters refused early, writes only in well-formed JSON."""

from __future__ import annotations

import re
from typing import Any

import msgspec
from litestar import Request
from litestar.handlers import HTTPRouteHandler

from core.kernel import errors
from core.kernel.errors import (
    PROBLEM_JSON,
    CaravanError,
    FieldIssue,
)
from core.kernel.i18n import catalogs
from core.web.problems import render_problem
from core.web.validation import validation_issue

_ENCODER = msgspec.json.Encoder()


# ---------------------------------------------------------------------------
# NUL characters: no database stores them in text, so they never get that far
# ---------------------------------------------------------------------------

_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


def has_nul(scope: Any) -> bool:
    """Whether the path or query string of ``scope`` carries a NUL character."""
    return "\x00" in scope["path"] or b"%00" in scope["query_string"]


def nul_guard(app: Any) -> Any:
    """ASGI middleware: a NUL in the path or query string gets a 400 problem."""

    async def middleware(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and has_nul(scope):
            accept = dict(scope["headers"]).get(b"accept-language", b"").decode("latin-1")
            locale = catalogs().negotiate(accept)
            body = _ENCODER.encode(render_problem(locale, errors.BAD_REQUEST))
            await send(
                {
                    "type": "http.response.start",
                    "status": 400,
                    "headers": [
                        (b"content-type", PROBLEM_JSON.encode()),
                        (b"content-length", str(len(body)).encode()),
                        (b"content-language", locale.replace("_", "-").encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        await app(scope, receive, send)

    return middleware


_JSON_TYPES = ("application/json",)


def _is_json(content_type: str) -> bool:
    media = content_type.partition(";")[0].strip().lower()
    return media in _JSON_TYPES or (media.startswith("application/") and media.endswith("+json"))


async def check_json_body(request: Request[Any, Any, Any]) -> None:
    """``before_request`` hook: the body of a write is strict, well-formed JSON.

    Runs before Litestar decodes the body (which converts leniently, so that
    ``"1299"`` would pass for an amount): a body of another media type is a
    415, one that is not JSON (truncated, invalid UTF-8, absurdly deep or
    with numbers no double can hold) a 400 ``malformed_json``, a ``\\u0000``
    or a value of the wrong type a 422 naming the field.
    """
    if request.method not in ("POST", "PUT", "PATCH"):
        return
    handler = request.scope.get("route_handler")
    if not isinstance(handler, HTTPRouteHandler):
        return
    data = handler.parsed_fn_signature.parameters.get("data")
    if data is None:
        return
    if not _is_json(request.headers.get("content-type", "")):
        raise CaravanError(errors.UNSUPPORTED_MEDIA_TYPE)
    body = await request.body()
    try:
        msgspec.json.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError, RecursionError):
        raise CaravanError(errors.MALFORMED_JSON) from None
    if _JSON_NUL.search(body):
        raise CaravanError(
            errors.VALIDATION_FAILED,
            errors=[FieldIssue("body", "invalid_value", {"reason": "NUL characters"})],
        )
    try:
        msgspec.json.decode(body, type=data.annotation, strict=True)
    except msgspec.ValidationError as exc:
        raise CaravanError(errors.VALIDATION_FAILED, errors=[validation_issue(exc)]) from None
