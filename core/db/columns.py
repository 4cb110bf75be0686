"""Shared column helpers and table extras for the Piccolo tables.

Composite unique constraints and indexes are declared on a table as
``caravan_unique`` / ``caravan_indexes`` (tuples of column-name tuples);
:mod:`core.db.metadata` turns them into constraints for Alembic.
"""

from __future__ import annotations

from piccolo.columns import Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow

#: Length of every id column (``prefix_`` + 26 characters, with room to spare).
ID_LENGTH = 40


def id_column() -> Varchar:
    """The primary key column every Caravan table uses."""
    return Varchar(length=ID_LENGTH, primary_key=True)


def timestamp_now() -> Timestamptz:
    """A timestamp column defaulting to now (UTC)."""
    return Timestamptz(default=TimestamptzNow())
