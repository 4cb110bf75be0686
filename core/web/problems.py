"""Problem responses (RFC 9457 ``application/problem+json``), in the caller's language."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response

from core.kernel import errors
from core.kernel.errors import (
    PROBLEM_JSON,
    TYPE_BASE,
    ErrorCode,
    FieldError,
    FieldIssue,
    Problem,
)
from core.kernel.i18n import catalogs

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
