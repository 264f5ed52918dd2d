"""tokens name the resource they are for (RFC 8707)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 15:10:00

``grants.resource`` (what the user authorised), ``authorization_codes.resource`` (as its grant's)
and ``access_tokens.resource`` (what the token opens): space-separated resource indicators; NULL
is Openplate's API, as every token was before.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

TABLES = ('grants', 'authorization_codes', 'access_tokens')


def upgrade() -> None:
    # Plain ADD COLUMN (nullable, no default): no table rebuild on either engine.
    for table in TABLES:
        op.add_column(table, sa.Column('resource', sa.String(length=500), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('resource')  # run with foreign keys off (see env.py)
