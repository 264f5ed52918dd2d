"""users and applications can be disabled by the operator

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 05:00:00

``users.disabled_at`` and ``clients.disabled_at``: NULL while enabled, else when the operator
disabled it (``openplate user disable``, ``openplate app disable``). Every token check reads
them in the statement it already runs (see docs/accounts.md, "Operators").
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (nullable, no default): no table rebuild on either engine.
    op.add_column('users', sa.Column('disabled_at', sa.BigInteger(), nullable=True))
    op.add_column('clients', sa.Column('disabled_at', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    for table in ('clients', 'users'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('disabled_at')  # run with foreign keys off (see env.py)
