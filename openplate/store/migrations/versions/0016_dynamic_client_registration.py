"""applications may register themselves (RFC 7591 and RFC 7592)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 15:00:00

``clients`` gains how an app registered itself (``registration``: "token", "open" or "metadata",
a client ID metadata document), the digest of its RFC 7592 registration access token, its
``application_type``, the metadata it is given back (``registered_metadata``, JSON) and when a
client ID metadata document is to be fetched again (``metadata_expires_at``). ``owner_id`` may be NULL: an app that registered itself on
an open server belongs to nobody. ``client_id`` grows to 1000 characters, for client ID metadata
documents (a client_id that is the URL of its document), in ``clients`` and in the security log. ``registration_tokens`` holds the
digests of the operator's initial access tokens.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from openplate.store import append_only

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def _security_log_client_id(old: sa.String, new: sa.String) -> None:
    """``security_events.client_id`` from ``old`` to ``new``. PostgreSQL alters the column in
    place (cut to size on the way down); SQLite rebuilds the table, which drops its append-only
    triggers with it, so they are made again (openplate/store/append_only.py)."""
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.alter_column('security_events', 'client_id', existing_type=old, type_=new,
                        existing_nullable=True,
                        postgresql_using=f"left(client_id, {new.length})")
        return
    for statement in append_only.drop_statements(dialect):
        op.execute(statement)
    with op.batch_alter_table('security_events', schema=None) as batch_op:
        batch_op.alter_column('client_id', existing_type=old, type_=new, existing_nullable=True)
    for statement in append_only.create_statements(dialect):
        op.execute(statement)


def upgrade() -> None:
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.alter_column('owner_id', existing_type=sa.BigInteger().with_variant(
            sa.Integer(), 'sqlite'), nullable=True)
        batch_op.alter_column('client_id', existing_type=sa.String(length=64),
                              type_=sa.String(length=1000), existing_nullable=False)
        batch_op.add_column(sa.Column('registration', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('registration_token_digest', sa.String(length=64),
                                      nullable=True))
        batch_op.add_column(sa.Column('application_type', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('registered_metadata', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('metadata_expires_at', sa.BigInteger(), nullable=True))
    # The security log names apps by client_id, which may now be a URL.
    _security_log_client_id(sa.String(length=64), sa.String(length=1000))
    op.create_table(
        'registration_tokens',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True,
                  nullable=False),
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.Column('owner_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                  nullable=True),
        sa.Column('note', sa.String(length=100), nullable=True),
        sa.Column('uses_left', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.BigInteger(), nullable=False),
        sa.Column('expires_at', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['owner_id'], ['users.id'],
                                name=op.f('fk_registration_tokens_owner_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_registration_tokens')),
        sa.UniqueConstraint('digest', name=op.f('uq_registration_tokens_digest')),
    )
    with op.batch_alter_table('registration_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_registration_tokens_owner_id'), ['owner_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_registration_tokens_expires_at'), ['expires_at'],
                              unique=False)


def downgrade() -> None:
    op.drop_table('registration_tokens')
    _security_log_client_id(sa.String(length=1000), sa.String(length=64))
    # Apps without an owner cannot stay once owner_id is required again.
    op.execute("DELETE FROM clients WHERE owner_id IS NULL")
    with op.batch_alter_table('clients', schema=None) as batch_op:  # foreign keys off (env.py)
        batch_op.drop_column('metadata_expires_at')
        batch_op.drop_column('registered_metadata')
        batch_op.drop_column('application_type')
        batch_op.drop_column('registration_token_digest')
        batch_op.drop_column('registration')
        batch_op.alter_column('client_id', existing_type=sa.String(length=1000),
                              type_=sa.String(length=64), existing_nullable=False)
        batch_op.alter_column('owner_id', existing_type=sa.BigInteger().with_variant(
            sa.Integer(), 'sqlite'), nullable=False)
