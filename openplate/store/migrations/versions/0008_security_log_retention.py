"""the security log's retention purge

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 02:00:00

The append-only triggers let a DELETE through for rows older than the bound that the purge
writes to ``security_log_purge`` inside its own transaction (see openplate/store/append_only.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from openplate.store import append_only

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('security_log_purge',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('delete_before', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_security_log_purge'))
    )
    for statement in append_only.replace_statements(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in append_only.drop_statements(dialect):
        op.execute(statement)
    for statement in append_only.create_statements_0002(dialect):
        op.execute(statement)
    op.drop_table('security_log_purge')
