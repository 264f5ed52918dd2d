"""signing keys and oidc fields

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 17:36:03.096658
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('signing_keys',
    sa.Column('kid', sa.String(length=64), nullable=False),
    sa.Column('alg', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('public_jwk', sa.Text(), nullable=False),
    sa.Column('private_encrypted', sa.Text(), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('activated_at', sa.BigInteger(), nullable=True),
    sa.Column('retired_at', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('kid', name=op.f('pk_signing_keys'))
    )
    # Plain ADD COLUMN: no table rebuild, so no risk to rows that refer to these tables.
    op.add_column('authorization_codes', sa.Column('nonce', sa.String(length=512), nullable=True))
    op.add_column('authorization_codes', sa.Column('auth_time', sa.BigInteger(), nullable=True))
    op.add_column('grants', sa.Column('auth_time', sa.BigInteger(), nullable=True))

def downgrade() -> None:
    with op.batch_alter_table('grants', schema=None) as batch_op:
        batch_op.drop_column('auth_time')

    with op.batch_alter_table('authorization_codes', schema=None) as batch_op:
        batch_op.drop_column('auth_time')
        batch_op.drop_column('nonce')

    op.drop_table('signing_keys')
