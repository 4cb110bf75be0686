"""msgspec validation messages turned into field issues (``errors`` of a problem)."""

from __future__ import annotations

import re

import msgspec
from litestar.exceptions import (
    ValidationException,
)

from core.kernel import errors
from core.kernel.errors import (
    FieldIssue,
)

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


def validation_issues(exc: ValidationException) -> list[FieldIssue]:
    extra = exc.extra if isinstance(exc.extra, list) else []
    return [
        issue_from_message(str(item.get("key", "")), str(item.get("message", "")))
        for item in extra
        if isinstance(item, dict)
    ]


def validation_issue(error: msgspec.ValidationError, prefix: str = "") -> FieldIssue:
    """Turn a msgspec decoding error into a field issue (its path under ``prefix``)."""
    message, _, path = str(error).rpartition(" - at `")
    if not message:
        message, path = str(error), "$"
    key = path.rstrip("`").removeprefix("$").removeprefix(".")
    if prefix:
        key = _join_path(prefix, key) if key else prefix
    return issue_from_message(key or "$", message)
