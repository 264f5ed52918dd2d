"""mail outbox, password resets, e-mail verification

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 05:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('email_verified_at', sa.BigInteger(), nullable=True))
    op.create_table('mail_outbox',
    sa.Column('id', Id, autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('recipient', sa.String(length=254), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('text_body', sa.Text(), nullable=True),
    sa.Column('html_body', sa.Text(), nullable=True),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.BigInteger(), nullable=False),
    sa.Column('claimed_until', sa.BigInteger(), nullable=True),
    sa.Column('sent_at', sa.BigInteger(), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_outbox'))
    )
    op.create_index(op.f('ix_mail_outbox_next_attempt_at'), 'mail_outbox', ['next_attempt_at'])
    op.create_index(op.f('ix_mail_outbox_sent_at'), 'mail_outbox', ['sent_at'])
    op.create_table('password_resets',
    sa.Column('id', Id, autoincrement=True, nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('user_id', Id, nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('expires_at', sa.BigInteger(), nullable=False),
    sa.Column('used_at', sa.BigInteger(), nullable=True),
    sa.Column('next_path', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_password_resets_user_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_password_resets')),
    sa.UniqueConstraint('digest', name=op.f('uq_password_resets_digest'))
    )
    op.create_index(op.f('ix_password_resets_user_id'), 'password_resets', ['user_id'])
    op.create_index(op.f('ix_password_resets_expires_at'), 'password_resets', ['expires_at'])
    op.create_table('email_verifications',
    sa.Column('id', Id, autoincrement=True, nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('user_id', Id, nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('expires_at', sa.BigInteger(), nullable=False),
    sa.Column('used_at', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                            name=op.f('fk_email_verifications_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_email_verifications')),
    sa.UniqueConstraint('digest', name=op.f('uq_email_verifications_digest'))
    )
    op.create_index(op.f('ix_email_verifications_user_id'), 'email_verifications', ['user_id'])
    op.create_index(op.f('ix_email_verifications_expires_at'), 'email_verifications', ['expires_at'])


def downgrade() -> None:
    op.drop_table('email_verifications')
    op.drop_table('password_resets')
    op.drop_table('mail_outbox')
    with op.batch_alter_table('users') as batch:
        batch.drop_column('email_verified_at')
