"""pushed authorisation requests (RFC 9126)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 14:40:00

``pushed_requests`` keeps a request pushed to POST /oauth/par under the keyed digest of its
request_uri until it is used once or expires (the purge removes it then).
``clients.require_pushed_authorization_requests`` (RFC 9126 §6): the app's authorisation
requests must be pushed first.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.add_column('clients', sa.Column('require_pushed_authorization_requests', sa.Boolean(),
                                       nullable=False, server_default=sa.false()))
    op.create_table('pushed_requests',
    sa.Column('id', Id, autoincrement=True, nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('client_pk', Id, nullable=False),
    sa.Column('params', sa.Text(), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('expires_at', sa.BigInteger(), nullable=False),
    sa.Column('used_at', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['client_pk'], ['clients.id'],
                            name=op.f('fk_pushed_requests_client_pk_clients'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pushed_requests')),
    sa.UniqueConstraint('digest', name=op.f('uq_pushed_requests_digest'))
    )
    op.create_index(op.f('ix_pushed_requests_client_pk'), 'pushed_requests', ['client_pk'])
    op.create_index(op.f('ix_pushed_requests_expires_at'), 'pushed_requests', ['expires_at'])


def downgrade() -> None:
    op.drop_index(op.f('ix_pushed_requests_expires_at'), table_name='pushed_requests')
    op.drop_index(op.f('ix_pushed_requests_client_pk'), table_name='pushed_requests')
    op.drop_table('pushed_requests')
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.drop_column('require_pushed_authorization_requests')
