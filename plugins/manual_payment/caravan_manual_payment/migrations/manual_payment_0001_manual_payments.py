"""manual payments

Revision ID: manual_payment_0001
Revises:
Create Date: 2026-11-22 05:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "manual_payment_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("manual_payment",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "manual_payments",
        sa.Column("id", sa.String(length=40), autoincrement=False, nullable=False),
        sa.Column("store_id", sa.String(length=40), autoincrement=False, nullable=False),
        sa.Column("cart_id", sa.String(length=40), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=32), autoincrement=False, nullable=False),
        sa.Column("status", sa.String(length=16), autoincrement=False, nullable=False),
        sa.Column("amount", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("currency", sa.String(length=3), autoincrement=False, nullable=False),
        sa.Column("captured", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("refunded", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), autoincrement=False, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), autoincrement=False, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_manual_payments")),
        sa.UniqueConstraint(
            "store_id", "idempotency_key", name="uq_manual_payments_store_id_idempotency_key"
        ),
    )
    op.create_table(
        "manual_payment_operations",
        sa.Column("id", sa.String(length=40), autoincrement=False, nullable=False),
        sa.Column("payment", sa.String(length=40), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=16), autoincrement=False, nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), autoincrement=False, nullable=False),
        sa.Column("amount", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("status", sa.String(length=16), autoincrement=False, nullable=False),
        sa.Column("failure_reason", sa.String(length=200), autoincrement=False, nullable=False),
        sa.Column("reason", sa.String(length=500), autoincrement=False, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), autoincrement=False, nullable=False),
        sa.ForeignKeyConstraint(
            ["payment"],
            ["manual_payments.id"],
            name=op.f("fk_manual_payment_operations_payment_manual_payments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_manual_payment_operations")),
        sa.UniqueConstraint(
            "payment",
            "kind",
            "idempotency_key",
            name="uq_manual_payment_operations_payment_kind_idempotency_key",
        ),
    )


def downgrade() -> None:
    op.drop_table("manual_payment_operations")
    op.drop_table("manual_payments")
