"""customers: accounts, sessions, address books and login attempts

Revision ID: 0005
Revises: 0003
Create Date: 2026-11-22 05:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _id() -> sa.Column[str]:
    return sa.Column("id", sa.String(length=40), autoincrement=False, nullable=False)


def _ref(name: str, *, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(length=40), autoincrement=False, nullable=nullable)


def _stamp(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), autoincrement=False, nullable=nullable)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{target}.id"],
        name=op.f(f"fk_{table}_{column}_{target}"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "customers",
        _id(),
        _ref("store"),
        sa.Column("email", sa.String(length=254), autoincrement=False, nullable=False),
        sa.Column("email_normalized", sa.String(length=254), autoincrement=False, nullable=False),
        sa.Column("first_name", sa.String(length=200), autoincrement=False, nullable=False),
        sa.Column("last_name", sa.String(length=200), autoincrement=False, nullable=False),
        sa.Column("phone", sa.String(length=32), autoincrement=False, nullable=True),
        sa.Column("locale", sa.String(length=16), autoincrement=False, nullable=True),
        sa.Column("accepts_marketing", sa.Boolean(), autoincrement=False, nullable=False),
        sa.Column("password_hash", sa.String(length=255), autoincrement=False, nullable=False),
        _ref("default_shipping_address", nullable=True),
        _ref("default_billing_address", nullable=True),
        _stamp("created_at"),
        _stamp("updated_at"),
        _fk("customers", "store", "stores"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
        sa.UniqueConstraint(
            "store", "email_normalized", name="uq_customers_store_email_normalized"
        ),
    )
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.create_index("ix_customers_store_id", ["store", "id"], unique=False)

    op.create_table(
        "customer_sessions",
        _id(),
        _ref("store"),
        _ref("customer"),
        sa.Column("token_hash", sa.String(length=64), autoincrement=False, nullable=False),
        _stamp("created_at"),
        _stamp("expires_at"),
        _stamp("last_used_at"),
        _stamp("revoked_at", nullable=True),
        _fk("customer_sessions", "customer", "customers"),
        _fk("customer_sessions", "store", "stores"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_customer_sessions_token_hash")),
    )
    with op.batch_alter_table("customer_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_customer_sessions_customer"), ["customer"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_customer_sessions_store"), ["store"], unique=False)

    op.create_table(
        "customer_addresses",
        _id(),
        _ref("store"),
        _ref("customer"),
        sa.Column("address", sa.JSON(), autoincrement=False, nullable=False),
        _stamp("created_at"),
        _stamp("updated_at"),
        _fk("customer_addresses", "customer", "customers"),
        _fk("customer_addresses", "store", "stores"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_addresses")),
    )
    with op.batch_alter_table("customer_addresses", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_customer_addresses_customer"), ["customer"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_customer_addresses_store"), ["store"], unique=False)

    op.create_table(
        "customer_login_attempts",
        _id(),
        _ref("store"),
        sa.Column("subject", sa.String(length=64), autoincrement=False, nullable=False),
        _stamp("attempted_at"),
        _fk("customer_login_attempts", "store", "stores"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_login_attempts")),
    )
    with op.batch_alter_table("customer_login_attempts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_customer_login_attempts_attempted_at", ["attempted_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_customer_login_attempts_store"), ["store"], unique=False
        )
        batch_op.create_index(
            "ix_customer_login_attempts_subject_attempted_at",
            ["subject", "attempted_at"],
            unique=False,
        )


def downgrade() -> None:
    for table in (
        "customer_login_attempts",
        "customer_addresses",
        "customer_sessions",
        "customers",
    ):
        op.drop_table(table)
