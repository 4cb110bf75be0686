"""stock_reservations: the sweeper's index covers only the active reservations that
expire, by expiry (a partial index on expires_at instead of (state, expires_at))

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 12:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012'
down_revision: str | Sequence[str] | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_EXPIRING = sa.text("state = 'active' AND expires_at IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table('stock_reservations', schema=None) as batch_op:
        batch_op.drop_index('ix_stock_reservations_state_expires_at')
        batch_op.create_index(
            'ix_stock_reservations_expires_at_expiring',
            ['expires_at'],
            unique=False,
            postgresql_where=_EXPIRING,
            sqlite_where=_EXPIRING,
        )


def downgrade() -> None:
    with op.batch_alter_table('stock_reservations', schema=None) as batch_op:
        batch_op.drop_index('ix_stock_reservations_expires_at_expiring')
        batch_op.create_index(
            'ix_stock_reservations_state_expires_at', ['state', 'expires_at'], unique=False
        )
