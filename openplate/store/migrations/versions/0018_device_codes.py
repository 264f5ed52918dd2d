"""device authorisations (RFC 8628)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 14:40:00

``device_codes``: one row per device authorisation, found by the keyed digest of its device code
(unique) or of its user code (indexed; only one unexpired row has a given user code). The purge
deletes a row an hour after it expires.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table('device_codes',
    sa.Column('id', Id, autoincrement=True, nullable=False),
    sa.Column('device_digest', sa.String(length=64), nullable=False),
    sa.Column('user_digest', sa.String(length=64), nullable=False),
    sa.Column('client_pk', Id, nullable=False),
    sa.Column('scope', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('expires_at', sa.BigInteger(), nullable=False),
    sa.Column('poll_interval', sa.Integer(), nullable=False),
    sa.Column('last_polled_at', sa.BigInteger(), nullable=True),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('claimed_by', Id, nullable=True),
    sa.Column('user_id', Id, nullable=True),
    sa.Column('decided_at', sa.BigInteger(), nullable=True),
    sa.Column('auth_time', sa.BigInteger(), nullable=True),
    sa.Column('amr', sa.String(length=64), nullable=True),
    sa.Column('used_at', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['client_pk'], ['clients.id'],
                            name=op.f('fk_device_codes_client_pk_clients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['claimed_by'], ['users.id'],
                            name=op.f('fk_device_codes_claimed_by_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                            name=op.f('fk_device_codes_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_device_codes')),
    sa.UniqueConstraint('device_digest', name=op.f('uq_device_codes_device_digest'))
    )
    op.create_index(op.f('ix_device_codes_user_digest'), 'device_codes', ['user_digest'])
    op.create_index(op.f('ix_device_codes_client_pk'), 'device_codes', ['client_pk'])
    op.create_index(op.f('ix_device_codes_expires_at'), 'device_codes', ['expires_at'])


def downgrade() -> None:
    op.drop_table('device_codes')
