"""Shared column helpers and table extras for the Piccolo tables.

Composite unique constraints and indexes are declared on a table as
``caravan_unique`` / ``caravan_indexes`` (tuples of column-name tuples, or of
:class:`PartialIndex`); :mod:`core.db.metadata` turns them into constraints for
Alembic.
"""

from __future__ import annotations

from typing import NamedTuple

from piccolo.columns import Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow


class PartialIndex(NamedTuple):
    """An index of ``columns`` over only the rows matching ``where`` (fixed SQL), named
    ``ix_<table>_<columns>_<suffix>``.

    Its predicate keeps it small, and keeps the planner from using it for queries that
    do not repeat the predicate (on PostgreSQL, a plan made while a table was still
    empty may otherwise pick any index that shares a column with the query).
    """

    columns: tuple[str, ...]
    where: str
    suffix: str


#: Length of every id column (``prefix_`` + 26 characters, with room to spare).
ID_LENGTH = 40


def id_column() -> Varchar:
    """The primary key column every Caravan table uses."""
    return Varchar(length=ID_LENGTH, primary_key=True)


def timestamp_now() -> Timestamptz:
    """A timestamp column defaulting to now (UTC)."""
    return Timestamptz(default=TimestamptzNow())
