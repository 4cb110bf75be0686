"""HTTP plumbing shared by every domain: problem responses and their mapping.

One place turns the error tree into RFC 9457 ``application/problem+json``:
:class:`~core.kernel.errors.CaravanError`, Litestar's HTTP exceptions, validation
failures (with per-field errors) and, as the last resort, unexpected
exceptions (logged, answered as a generic 500 problem).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import sqlite3
from typing import Any

import asyncpg
import msgspec
from litestar import Request, Response
from litestar.exceptions import (
    ClientException,
    HTTPException,
    MethodNotAllowedException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.handlers import HTTPRouteHandler
from litestar.types import ExceptionHandlersMap

from core.kernel import errors
from core.kernel.errors import (
    PROBLEM_JSON,
    RETRY_AFTER,
    TYPE_BASE,
    CaravanError,
    ErrorCode,
    FieldError,
    FieldIssue,
    Problem,
)
from core.kernel.i18n import catalogs

log = logging.getLogger("caravan")

_ENCODER = msgspec.json.Encoder()


class _SafeDict(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _format(template: str, params: dict[str, Any]) -> str:
    try:
        return template.format_map(_SafeDict(params))
    except (ValueError, IndexError):
        return template


def request_locale(request: Request[Any, Any, Any]) -> str:
    """The catalog locale negotiated from the request's ``Accept-Language``."""
    return catalogs().negotiate(request.headers.get("accept-language"))


def render_problem(
    locale: str,
    error: ErrorCode,
    params: dict[str, Any] | None = None,
    issues: list[FieldIssue] | None = None,
    extra: dict[str, Any] | None = None,
) -> Problem:
    """Build the problem body of ``error``, translated into ``locale``."""
    cats = catalogs()
    title = cats.gettext(locale, error.code, error.title)
    detail = _format(cats.gettext(locale, f"{error.code}.detail", error.detail), params or {})
    field_errors = None
    if issues is not None:
        field_errors = [
            FieldError(
                issue.field,
                issue.code,
                _format(
                    cats.gettext(
                        locale,
                        errors.field_message_id(issue.code),
                        errors.FIELD_CODES.get(issue.code, issue.code),
                    ),
                    issue.params,
                ),
            )
            for issue in issues
        ]
    return Problem(
        type=TYPE_BASE + error.code,
        title=title,
        status=error.status,
        detail=detail,
        code=error.code,
        errors=field_errors,
        extra=extra,
    )


def problem_response(
    request: Request[Any, Any, Any],
    error: ErrorCode,
    params: dict[str, Any] | None = None,
    issues: list[FieldIssue] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> Response[bytes]:
    """Return the problem response for ``error`` in the request's language."""
    locale = request_locale(request)
    body = render_problem(locale, error, params, issues, extra)
    all_headers = {"content-language": locale.replace("_", "-")}
    if headers:
        all_headers.update(headers)
    return Response(
        _ENCODER.encode(body),
        status_code=error.status,
        media_type=PROBLEM_JSON,
        headers=all_headers,
    )


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


def validation_issue(error: msgspec.ValidationError, prefix: str = "") -> FieldIssue:
    """Turn a msgspec decoding error into a field issue (its path under ``prefix``)."""
    message, _, path = str(error).rpartition(" - at `")
    if not message:
        message, path = str(error), "$"
    key = path.rstrip("`").removeprefix("$").removeprefix(".")
    if prefix:
        key = _join_path(prefix, key) if key else prefix
    return issue_from_message(key or "$", message)


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


# ---------------------------------------------------------------------------
# Requests in flight, so that shutdown can let them finish
# ---------------------------------------------------------------------------


class InFlight:
    """Counts HTTP requests being handled; shutdown waits for them to finish."""

    def __init__(self) -> None:
        self.count = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def middleware(self, app: Any) -> Any:
        """ASGI middleware counting the requests ``app`` is handling."""

        async def counting(scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            self.count += 1
            self._idle.clear()
            try:
                await app(scope, receive, send)
            finally:
                self.count -= 1
                if self.count == 0:
                    self._idle.set()

        return counting

    async def drained(self, grace: float) -> bool:
        """Wait until no request is in flight (at most ``grace`` seconds)."""
        try:
            await asyncio.wait_for(self._idle.wait(), grace)
        except TimeoutError:
            return False
        return True


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


# ---------------------------------------------------------------------------
# msgspec validation messages → field errors
# ---------------------------------------------------------------------------

_FIELD_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"Object missing required field `(?P<name>[^`]+)`"), "required"),
    (re.compile(r"Object contains unknown field `(?P<name>[^`]+)`"), "unknown_field"),
    (re.compile(r"Expected `(?:str|array|object)` of length <= (?P<max>\d+)"), "too_long"),
    (re.compile(r"Expected `(?:str|array|object)` of length >= (?P<min>\d+)"), "too_short"),
    (re.compile(r"Expected `(?:int|float)` (?P<constraint>[<>]=? ?-?\d+)"), "out_of_range"),
    (re.compile(r"Expected `str` matching regex"), "invalid_pattern"),
    (re.compile(r"Invalid enum value"), "invalid_choice"),
    (re.compile(r"Expected `(?P<expected>[^`]+)`, got `[^`]+`"), "invalid_type"),
]


def _join_path(prefix: str, name: str) -> str:
    if prefix in ("", "data", "$"):
        return name
    return f"{prefix}.{name}"


def issue_from_message(key: str, message: str) -> FieldIssue:
    """Turn one msgspec validation message into a :class:`FieldIssue`."""
    key = key.removeprefix("data.")
    base = "" if key in ("data", "$") else key
    for pattern, code in _FIELD_PATTERNS:
        match = pattern.search(message)
        if not match:
            continue
        params = match.groupdict()
        name = params.pop("name", None)
        field = _join_path(base, name) if name else base
        return FieldIssue(field or "body", code, params)
    # A __post_init__ check raises "<code>: <reason>" (see core.kernel.validation).
    code, sep, reason = message.partition(": ")
    if sep and code in errors.FIELD_CODES:
        return FieldIssue(base or "body", code, {"reason": reason})
    return FieldIssue(base or "body", "invalid_value", {"reason": message})


def _validation_issues(exc: ValidationException) -> list[FieldIssue]:
    extra = exc.extra if isinstance(exc.extra, list) else []
    return [
        issue_from_message(str(item.get("key", "")), str(item.get("message", "")))
        for item in extra
        if isinstance(item, dict)
    ]


# ---------------------------------------------------------------------------
# Exception handlers
# ---------------------------------------------------------------------------


def handle_caravan_error(request: Request[Any, Any, Any], exc: CaravanError) -> Response[bytes]:
    """Render a domain error."""
    return problem_response(request, exc.error, exc.params, exc.errors, exc.headers, exc.extra)


def handle_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[bytes]:
    """Render Litestar's own HTTP exceptions as problems."""
    if isinstance(exc, ValidationException):
        issues = _validation_issues(exc)
        if issues:
            return problem_response(request, errors.VALIDATION_FAILED, issues=issues)
        return problem_response(
            request, errors.BAD_REQUEST if not _is_json_error(exc) else errors.MALFORMED_JSON
        )
    if isinstance(exc, RequestEntityTooLarge):
        handler = request.scope.get("route_handler")
        limit = (
            handler.resolve_request_max_body_size()
            if isinstance(handler, HTTPRouteHandler)
            else None
        )
        return problem_response(request, errors.BODY_TOO_LARGE, {"limit": limit or "-"})
    if isinstance(exc, NotFoundException):
        return problem_response(request, errors.NOT_FOUND)
    if isinstance(exc, MethodNotAllowedException):
        return problem_response(request, errors.METHOD_NOT_ALLOWED, headers=exc.headers or None)
    if isinstance(exc, NotAuthorizedException):
        return problem_response(request, errors.UNAUTHORIZED)
    if isinstance(exc, PermissionDeniedException):
        return problem_response(request, errors.FORBIDDEN)
    if exc.status_code == 415:
        return problem_response(request, errors.UNSUPPORTED_MEDIA_TYPE)
    if isinstance(exc, ClientException):
        if _is_json_error(exc):
            return problem_response(request, errors.MALFORMED_JSON)
        return problem_response(request, errors.BAD_REQUEST)
    if exc.status_code == 503:
        return problem_response(
            request, errors.SERVICE_UNAVAILABLE, headers={"retry-after": RETRY_AFTER}
        )
    return handle_unexpected(request, exc)


def _is_json_error(exc: HTTPException) -> bool:
    text = str(exc.detail).lower()
    return "json" in text or "malformed" in text or "decode" in text


def is_outage(exc: BaseException) -> bool:
    """Whether ``exc`` means the database (or another backing service) is unreachable or busy."""
    if isinstance(exc, OSError | TimeoutError | asyncpg.exceptions.ConnectionDoesNotExistError):
        return True
    if isinstance(exc, asyncpg.exceptions.InterfaceError) and "pool is closing" in str(exc):
        return True
    if isinstance(exc, asyncpg.exceptions.PostgresError):
        # Class 08 (connection), 53 (insufficient resources), 57P (shutdown), 40001/40P01.
        state = getattr(exc, "sqlstate", "") or ""
        return state.startswith(("08", "53", "57P")) or state in ("40001", "40P01")
    if isinstance(exc, sqlite3.OperationalError):
        text = str(exc).lower()
        return "locked" in text or "busy" in text or "unable to open" in text
    return False


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    """Answer 503 + Retry-After for an outage; log anything else as a 500 problem."""
    if is_outage(exc):
        log.warning("service unavailable on %s %s: %r", request.method, request.url.path, exc)
        return problem_response(
            request, errors.SERVICE_UNAVAILABLE, headers={"retry-after": RETRY_AFTER}
        )
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(request, errors.INTERNAL_ERROR)


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    CaravanError: handle_caravan_error,
    HTTPException: handle_http_exception,
    Exception: handle_unexpected,
}
