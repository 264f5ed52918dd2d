"""DPoP: sender-constrained tokens (RFC 9449)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 14:40:00

``access_tokens.jkt`` and ``refresh_tokens.jkt``: the thumbprint (RFC 7638) of the DPoP key a
token is bound to, NULL for a bearer token (read in the bearer check's one statement).
``authorization_codes.dpop_jkt``: the key an authorisation request's ``dpop_jkt`` bound the code
to (§10). ``clients.dpop_bound_access_tokens``: the client must send a DPoP proof with every
token request (§5.2). ``dpop_proofs``: the proofs seen, each until it is too old to be accepted
anyway (§11.1), when no Redis is configured; the purge deletes the rest.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (nullable, or a constant default): no table rebuild on either engine.
    op.add_column('access_tokens', sa.Column('jkt', sa.String(length=43), nullable=True))
    op.add_column('refresh_tokens', sa.Column('jkt', sa.String(length=43), nullable=True))
    op.add_column('authorization_codes',
                  sa.Column('dpop_jkt', sa.String(length=43), nullable=True))
    op.add_column('clients', sa.Column('dpop_bound_access_tokens', sa.Boolean(), nullable=False,
                                       server_default=sa.false()))
    op.create_table('dpop_proofs',
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('digest', name=op.f('pk_dpop_proofs'))
    )
    with op.batch_alter_table('dpop_proofs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dpop_proofs_expires_at'), ['expires_at'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('dpop_proofs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dpop_proofs_expires_at'))
    op.drop_table('dpop_proofs')
    for table, column in (('clients', 'dpop_bound_access_tokens'),
                          ('authorization_codes', 'dpop_jkt'), ('refresh_tokens', 'jkt'),
                          ('access_tokens', 'jkt')):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column(column)  # run with foreign keys off (see env.py)
