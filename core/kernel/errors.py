"""The error tree and its one mapping to RFC 9457 problem responses.

Every error has a stable ``code`` that is also its gettext message id: the
``title`` is the translation of ``code`` and the ``detail`` the translation
of ``code + ".detail"``, formatted with the error's parameters. Each domain
declares its codes in ``core/<domain>/errors.py`` with :func:`error_code`.
"""

from __future__ import annotations

from typing import Any, ClassVar

import msgspec

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://caravan.dev/problems/"
#: Seconds a client should wait before retrying after a 503.
RETRY_AFTER = "5"


class ErrorCode(msgspec.Struct, frozen=True):
    """A registered error: its HTTP status and English title/detail."""

    code: str
    status: int
    title: str
    detail: str


#: Every error code the running process knows, by code.
REGISTRY: dict[str, ErrorCode] = {}


def error_code(code: str, status: int, title: str, detail: str) -> ErrorCode:
    """Register and return an error code (``detail`` may hold ``{params}``)."""
    entry = ErrorCode(code, status, title, detail)
    existing = REGISTRY.get(code)
    if existing is not None and existing != entry:
        raise ValueError(f"error code {code!r} registered twice with different texts")
    REGISTRY[code] = entry
    return entry


class FieldError(msgspec.Struct, frozen=True):
    """One invalid field of a request: ``field`` is a dotted path (``variants[0].sku``)."""

    field: str
    code: str
    message: str


class FieldIssue(msgspec.Struct, frozen=True):
    """A field error before translation: ``params`` fill the message template."""

    field: str
    code: str
    params: dict[str, Any] = {}


class Problem(msgspec.Struct, omit_defaults=True):
    """The body of an ``application/problem+json`` response."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: list[FieldError] | None = None
    extra: dict[str, Any] | None = None


class CaravanError(Exception):
    """An expected, client-visible failure: rendered as a problem response."""

    default: ClassVar[ErrorCode | None] = None

    def __init__(
        self,
        error: ErrorCode,
        *,
        errors: list[FieldIssue] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
        **params: Any,
    ) -> None:
        super().__init__(error.code)
        self.error = error
        self.params = params
        self.errors = errors
        self.headers = headers or {}
        self.extra = extra

    @property
    def code(self) -> str:
        """The stable error code."""
        return self.error.code

    @property
    def status(self) -> int:
        """The HTTP status."""
        return self.error.status


# Codes of the HTTP layer itself; domains add theirs in their own errors.py.
BAD_REQUEST = error_code("bad_request", 400, "Bad request", "The request could not be understood.")
MALFORMED_JSON = error_code(
    "malformed_json", 400, "Malformed JSON", "The request body is not valid JSON."
)
VALIDATION_FAILED = error_code(
    "validation_failed",
    422,
    "Validation failed",
    "Some fields of the request are invalid; see the errors list.",
)
UNAUTHORIZED = error_code(
    "unauthorized", 401, "Unauthorized", "Valid credentials for this API are required."
)
FORBIDDEN = error_code("forbidden", 403, "Forbidden", "This token may not do this.")
NOT_FOUND = error_code("not_found", 404, "Not found", "Nothing exists at this address.")
METHOD_NOT_ALLOWED = error_code(
    "method_not_allowed", 405, "Method not allowed", "This address does not accept that method."
)
BODY_TOO_LARGE = error_code(
    "body_too_large", 413, "Request body too large", "The request body exceeds {limit} bytes."
)
UNSUPPORTED_MEDIA_TYPE = error_code(
    "unsupported_media_type",
    415,
    "Unsupported media type",
    "Send the request body as application/json.",
)
SERVICE_UNAVAILABLE = error_code(
    "service_unavailable",
    503,
    "Service unavailable",
    "A service this request needs is unavailable; retry later.",
)
INTERNAL_ERROR = error_code(
    "internal_error", 500, "Internal error", "An unexpected error occurred; it has been logged."
)

# Field-level codes (the ``code`` of a :class:`FieldError`).
FIELD_CODES: dict[str, str] = {
    "required": "This field is required.",
    "unknown_field": "This field is not accepted here.",
    "invalid_type": "This value has the wrong type (expected {expected}).",
    "too_long": "This value is too long (at most {max}).",
    "too_short": "This value is too short (at least {min}).",
    "out_of_range": "This value is out of range ({constraint}).",
    "invalid_value": "This value is not valid: {reason}",
    "invalid_choice": "This value is not one of the accepted choices.",
    "invalid_currency": "Unknown ISO 4217 currency code.",
    "invalid_locale": "Unknown locale identifier.",
    "invalid_country": "Unknown ISO 3166-1 alpha-2 country code.",
    "invalid_pattern": "This value does not have the expected format.",
    "invalid_url": "This value is not an absolute http(s) URL.",
    "invalid_cursor": "This cursor is not valid for this listing.",
    "invalid_scope": "Unknown scope, or one this token cannot grant.",
    "duplicate": "This value appears more than once.",
    "not_found": "No such object exists in this store.",
    "default_locale_required": "Content in the store's default locale ({locale}) is required.",
    "currency_required": "Price filters and price sorting need a currency.",
}


def field_message_id(code: str) -> str:
    """The message id of a field error code (``field.required``)."""
    return f"field.{code}"
