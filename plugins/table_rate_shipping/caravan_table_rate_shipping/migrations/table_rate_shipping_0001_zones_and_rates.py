"""table rate shipping zones and rates

Revision ID: table_rate_shipping_0001
Revises:
Create Date: 2026-11-22 05:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "table_rate_shipping_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("table_rate_shipping",)
# The core revision that creates ``stores``.
depends_on: str | Sequence[str] | None = "0001"


def _store_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["store"], ["stores.id"], name=op.f(f"fk_{table}_store_stores"), ondelete="CASCADE"
    )


def _zone_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["zone"],
        ["table_rate_shipping_zones.id"],
        name=op.f(f"fk_{table}_zone_table_rate_shipping_zones"),
        ondelete="CASCADE",
    )


def _id() -> sa.Column[str]:
    return sa.Column("id", sa.String(length=40), autoincrement=False, nullable=False)


def _ref(name: str) -> sa.Column[str]:
    return sa.Column(name, sa.String(length=40), autoincrement=False, nullable=False)


def _stamp(name: str) -> sa.Column[sa.DateTime]:
    return sa.Column(name, sa.DateTime(timezone=True), autoincrement=False, nullable=False)


def upgrade() -> None:
    zones = "table_rate_shipping_zones"
    op.create_table(
        zones,
        _id(),
        _ref("store"),
        sa.Column("name", sa.String(length=200), autoincrement=False, nullable=False),
        sa.Column("countries", sa.JSON(), autoincrement=False, nullable=False),
        _stamp("created_at"),
        _stamp("updated_at"),
        _store_fk(zones),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{zones}")),
    )
    with op.batch_alter_table(zones, schema=None) as batch_op:
        batch_op.create_index(batch_op.f(f"ix_{zones}_store"), ["store"], unique=False)

    countries = "table_rate_shipping_countries"
    op.create_table(
        countries,
        _id(),
        _ref("store"),
        _ref("zone"),
        sa.Column("country", sa.String(length=2), autoincrement=False, nullable=False),
        _store_fk(countries),
        _zone_fk(countries),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{countries}")),
        sa.UniqueConstraint("store", "country", name=f"uq_{countries}_store_country"),
    )
    with op.batch_alter_table(countries, schema=None) as batch_op:
        batch_op.create_index(batch_op.f(f"ix_{countries}_zone"), ["zone"], unique=False)

    rates = "table_rate_shipping_rates"
    op.create_table(
        rates,
        _id(),
        _ref("store"),
        _ref("zone"),
        sa.Column("name", sa.String(length=200), autoincrement=False, nullable=False),
        sa.Column("basis", sa.String(length=16), autoincrement=False, nullable=False),
        sa.Column("band_min", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("band_max", sa.BigInteger(), autoincrement=False, nullable=True),
        sa.Column("amount", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("currency", sa.String(length=3), autoincrement=False, nullable=False),
        sa.Column("free_above", sa.BigInteger(), autoincrement=False, nullable=True),
        sa.Column("min_days", sa.Integer(), autoincrement=False, nullable=True),
        sa.Column("max_days", sa.Integer(), autoincrement=False, nullable=True),
        _stamp("created_at"),
        _stamp("updated_at"),
        _store_fk(rates),
        _zone_fk(rates),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{rates}")),
    )
    with op.batch_alter_table(rates, schema=None) as batch_op:
        batch_op.create_index(batch_op.f(f"ix_{rates}_zone"), ["zone"], unique=False)


def downgrade() -> None:
    op.drop_table("table_rate_shipping_rates")
    op.drop_table("table_rate_shipping_countries")
    op.drop_table("table_rate_shipping_zones")
