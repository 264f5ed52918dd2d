"""refresh tokens remember the stamp of their successors

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 00:20:00

Rows rotated before this revision keep NULL and their successors keep the unstamped form.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN: no table rebuild.
    op.add_column('refresh_tokens', sa.Column('successor_stamp', sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('refresh_tokens', schema=None) as batch_op:
        batch_op.drop_column('successor_stamp')  # run with foreign keys off (see env.py)
