"""Cursor pagination: opaque cursors, a bounded ``limit``, ``next_cursor`` in every page.

Listings are ordered by their id (ids are time-ordered, so newest first
means descending id) or by another key with the id as tie-breaker; the
cursor encodes the last item's sort values.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Annotated, Any, Final, Generic, TypeVar

import msgspec
from litestar.params import QueryParameter
from piccolo.columns import Column
from piccolo.query import Select

from core.kernel import errors
from core.kernel.errors import CaravanError, FieldIssue

T = TypeVar("T")

MAX_LIMIT: Final = 100
DEFAULT_LIMIT: Final = 20

#: The ``limit`` query parameter every listing takes.
Limit = Annotated[
    int, QueryParameter(ge=1, le=MAX_LIMIT, description=f"Items per page (1-{MAX_LIMIT}).")
]
#: The ``cursor`` query parameter every listing takes.
Cursor = Annotated[
    str | None,
    QueryParameter(max_length=512, description="The `next_cursor` of the previous page."),
]


class Page(msgspec.Struct, Generic[T]):
    """One page of a listing; ``next_cursor`` is null on the last page."""

    items: list[T]
    next_cursor: str | None


def encode_cursor(values: list[Any]) -> str:
    """Return an opaque cursor for the sort ``values`` of the last item."""
    return base64.urlsafe_b64encode(msgspec.json.encode(values)).decode().rstrip("=")


def decode_cursor(cursor: str, arity: int) -> list[Any]:
    """Return the sort values in ``cursor`` or raise a 422 ``invalid_cursor``."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = msgspec.json.decode(raw)
    except (binascii.Error, ValueError, msgspec.DecodeError):
        values = None
    if not isinstance(values, list) or len(values) != arity:
        raise CaravanError(
            errors.VALIDATION_FAILED, errors=[FieldIssue("cursor", "invalid_cursor")]
        )
    for value in values:
        if not _cursor_value(value):
            raise CaravanError(
                errors.VALIDATION_FAILED, errors=[FieldIssue("cursor", "invalid_cursor")]
            )
    return values


def _cursor_value(value: Any) -> bool:
    """A string without control characters, or an integer a BIGINT holds."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return -(2**63) <= value < 2**63
    return isinstance(value, str) and len(value) <= 256 and value.isprintable()


async def page_of(
    query: Select[Any],
    id_column: Column,
    *,
    limit: int,
    cursor: str | None,
    convert: Callable[[dict[str, Any]], T],
) -> Page[T]:
    """Run ``query`` newest first (descending id) and return one page of it."""
    if cursor is not None:
        (last_id,) = decode_cursor(cursor, 1)
        query = query.where(id_column < str(last_id))
    rows = await query.order_by(id_column, ascending=False).limit(limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor([rows[-1][id_column._meta.name]]) if more and rows else None
    return Page(items=[convert(r) for r in rows], next_cursor=next_cursor)
