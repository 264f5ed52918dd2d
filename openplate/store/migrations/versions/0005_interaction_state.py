"""interaction state: how a session signed in, parked requests bound to a session or a signed-out
browser and marked signed-in, apps trusted for automatic error redirects

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 02:30:00

Parked requests live minutes; the rebuild of auth_requests (session_id becomes nullable) keeps
them. Apps made before this revision are trusted if someone other than their owner has allowed
them (a grant exists for another user); the others become trusted at their next such approval.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('sessions', sa.Column('amr', sa.String(length=64), nullable=True))
    op.add_column('clients', sa.Column('trusted_at', sa.BigInteger(), nullable=True))
    op.execute(
        "UPDATE clients SET trusted_at = created_at WHERE EXISTS ("
        "SELECT 1 FROM grants WHERE grants.client_pk = clients.id "
        "AND grants.user_id <> clients.owner_id)"
    )
    op.add_column('auth_requests', sa.Column('signed_in_at', sa.BigInteger(), nullable=True))
    op.add_column('auth_requests', sa.Column('browser_digest', sa.String(length=64), nullable=True))
    with op.batch_alter_table('auth_requests', schema=None) as batch_op:
        batch_op.alter_column('session_id', existing_type=sa.BigInteger(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM auth_requests WHERE session_id IS NULL")
    with op.batch_alter_table('auth_requests', schema=None) as batch_op:
        batch_op.alter_column('session_id', existing_type=sa.BigInteger(), nullable=False)
        batch_op.drop_column('browser_digest')
        batch_op.drop_column('signed_in_at')
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.drop_column('trusted_at')  # run with foreign keys off (see env.py)
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.drop_column('amr')
