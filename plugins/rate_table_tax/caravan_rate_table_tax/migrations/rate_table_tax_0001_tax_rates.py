"""rate table tax rates

Revision ID: rate_table_tax_0001
Revises:
Create Date: 2026-11-22 05:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "rate_table_tax_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("rate_table_tax",)
# The core revision that creates ``stores``.
depends_on: str | Sequence[str] | None = "0001"


def upgrade() -> None:
    op.create_table(
        "rate_table_tax_rates",
        sa.Column("id", sa.String(length=40), autoincrement=False, nullable=False),
        sa.Column("store", sa.String(length=40), autoincrement=False, nullable=False),
        sa.Column("country", sa.String(length=2), autoincrement=False, nullable=False),
        sa.Column("subdivision", sa.String(length=3), autoincrement=False, nullable=False),
        sa.Column("category", sa.String(length=32), autoincrement=False, nullable=False),
        sa.Column("rate", sa.String(length=16), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(length=64), autoincrement=False, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), autoincrement=False, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), autoincrement=False, nullable=False),
        sa.ForeignKeyConstraint(
            ["store"],
            ["stores.id"],
            name=op.f("fk_rate_table_tax_rates_store_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rate_table_tax_rates")),
        sa.UniqueConstraint(
            "store",
            "country",
            "subdivision",
            "category",
            name="uq_rate_table_tax_rates_store_country_subdivision_category",
        ),
    )


def downgrade() -> None:
    op.drop_table("rate_table_tax_rates")
