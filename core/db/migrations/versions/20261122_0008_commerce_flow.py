"""commerce flow

Revision ID: 0008
Revises: 0004, 0005, 0006, 0007
Create Date: 2026-11-22 05:33:24.699579
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | Sequence[str] | None = ('0004', '0005', '0006', '0007')
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
