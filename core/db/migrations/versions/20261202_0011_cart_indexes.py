"""carts: one index (store, status, id) for the admin's listing instead of (store) and
(status, updated_at), so that a cart's changes touch no indexed column

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 06:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '0011'
down_revision: str | Sequence[str] | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('carts', schema=None) as batch_op:
        batch_op.drop_index('ix_carts_status_updated_at')
        batch_op.drop_index(batch_op.f('ix_carts_store'))
        batch_op.create_index('ix_carts_store_status_id', ['store', 'status', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('carts', schema=None) as batch_op:
        batch_op.drop_index('ix_carts_store_status_id')
        batch_op.create_index(batch_op.f('ix_carts_store'), ['store'], unique=False)
        batch_op.create_index('ix_carts_status_updated_at', ['status', 'updated_at'], unique=False)
