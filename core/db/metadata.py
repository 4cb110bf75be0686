"""Piccolo tables → SQLAlchemy ``MetaData``, so Alembic can autogenerate.

The Piccolo tables are the one schema source. This module reads their
columns (type, length, nullability, uniqueness, indexes, foreign keys) and the
``caravan_unique`` / ``caravan_indexes`` extras, and builds the equivalent
SQLAlchemy tables. Column types are chosen so that the DDL Alembic emits is
what Piccolo's engines expect to read back (``TIMESTAMPTZ`` on SQLite, whose
declared type Piccolo's SQLite converters key on).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from piccolo.columns import (
    JSON,
    JSONB,
    BigInt,
    Boolean,
    Column,
    ForeignKey,
    Integer,
    SmallInt,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table
from sqlalchemy.dialects.sqlite import base as sqlite_dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import TypeCompiler

from core.db.columns import PartialIndex


@compiles(sa.DateTime, "sqlite")
def _sqlite_datetime(type_: sa.DateTime, compiler: TypeCompiler, **kw: Any) -> str:
    return "TIMESTAMPTZ" if type_.timezone else "DATETIME"


class _ReflectedTimestampTZ(sa.DateTime):
    """What SQLite's ``TIMESTAMPTZ`` columns reflect as (so drift checks agree)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(timezone=True)


sqlite_dialect.ischema_names["TIMESTAMPTZ"] = _ReflectedTimestampTZ


def _column_type(column: Column) -> sa.types.TypeEngine[Any]:
    if isinstance(column, ForeignKey):
        target = column._foreign_key_meta.resolved_target_column
        return _column_type(target)
    if isinstance(column, Varchar):
        return sa.String(column.length)
    if isinstance(column, Text):
        return sa.Text()
    if isinstance(column, BigInt):
        return sa.BigInteger()
    if isinstance(column, SmallInt):
        return sa.SmallInteger()
    if isinstance(column, Integer):
        return sa.Integer()
    if isinstance(column, Boolean):
        return sa.Boolean()
    if isinstance(column, Timestamptz):
        return sa.DateTime(timezone=True)
    if isinstance(column, JSONB):
        from sqlalchemy.dialects.postgresql import JSONB as PG_JSONB

        return sa.JSON().with_variant(PG_JSONB(), "postgresql")
    if isinstance(column, JSON):
        return sa.JSON()
    raise TypeError(f"no SQLAlchemy type for Piccolo column {type(column).__name__}")


def _sa_column(column: Column) -> sa.Column[Any]:
    meta = column._meta
    args: list[Any] = []
    if isinstance(column, ForeignKey):
        fk_meta = column._foreign_key_meta
        target = fk_meta.resolved_references
        target_col = fk_meta.resolved_target_column
        args.append(
            sa.ForeignKey(
                f"{target._meta.tablename}.{target_col._meta.db_column_name}",
                ondelete=fk_meta.on_delete.value,
            )
        )
    return sa.Column(
        meta.db_column_name,
        _column_type(column),
        *args,
        primary_key=meta.primary_key,
        nullable=meta.null,
        unique=meta.unique or None,
        index=(meta.index and not meta.unique) or None,
        autoincrement=False,
    )


def table_to_sqlalchemy(table: type[Table], metadata: sa.MetaData) -> sa.Table:
    """Add the SQLAlchemy equivalent of ``table`` to ``metadata`` and return it."""
    name = table._meta.tablename
    columns = [_sa_column(c) for c in table._meta.columns]
    extras: list[Any] = []
    for cols in getattr(table, "caravan_unique", ()):
        extras.append(sa.UniqueConstraint(*cols, name=f"uq_{name}_{'_'.join(cols)}"))
    sa_table = sa.Table(name, metadata, *columns, *extras)
    for index in getattr(table, "caravan_indexes", ()):
        if isinstance(index, PartialIndex):
            where = sa.text(index.where)
            sa.Index(
                f"ix_{name}_{'_'.join(index.columns)}_{index.suffix}",
                *(sa_table.c[c] for c in index.columns),
                postgresql_where=where,
                sqlite_where=where,
            )
        else:
            sa.Index(f"ix_{name}_{'_'.join(index)}", *(sa_table.c[c] for c in index))
    return sa_table


def build_metadata(tables: Iterable[type[Table]]) -> sa.MetaData:
    """Return ``MetaData`` holding the SQLAlchemy form of ``tables``."""
    metadata = sa.MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_N_name)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )
    for table in tables:
        table_to_sqlalchemy(table, metadata)
    return metadata
