"""The one mapping of the error tree to problem responses.

:class:`~core.kernel.errors.CaravanError`, Litestar's HTTP exceptions, validation
failures (with per-field errors) and, as the last resort, unexpected exceptions
(an outage answers 503 with ``Retry-After``; anything else is logged as a 500).
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

import asyncpg
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
    RETRY_AFTER,
    CaravanError,
)
from core.web.problems import problem_response
from core.web.validation import validation_issues

log = logging.getLogger("caravan")


# ---------------------------------------------------------------------------
# Exception handlers
# ---------------------------------------------------------------------------


def handle_caravan_error(request: Request[Any, Any, Any], exc: CaravanError) -> Response[bytes]:
    """Render a domain error."""
    return problem_response(request, exc.error, exc.params, exc.errors, exc.headers, exc.extra)


def handle_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[bytes]:
    """Render Litestar's own HTTP exceptions as problems."""
    if isinstance(exc, ValidationException):
        issues = validation_issues(exc)
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
