"""a session's one-time notice has an expiry

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 10:00:00

The notice in ``sessions.flash`` (sealed: it may hold a client secret shown once) is kept only
until it is shown or ``flash_expires_at`` passes; purge clears the stale ones.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN: no table rebuild. Notices written before this revision had no expiry:
    # they are dropped (they were never more than a message shown once).
    op.add_column('sessions', sa.Column('flash_expires_at', sa.BigInteger(), nullable=True))
    op.execute("UPDATE sessions SET flash = NULL")
    op.create_index(op.f('ix_sessions_flash_expires_at'), 'sessions', ['flash_expires_at'],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_sessions_flash_expires_at'), table_name='sessions')
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.drop_column('flash_expires_at')  # run with foreign keys off (see env.py)
