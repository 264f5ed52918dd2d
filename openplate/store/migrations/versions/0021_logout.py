"""OpenID Connect RP-Initiated Logout and Back-Channel Logout

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 14:30:00

``clients.post_logout_redirect_uris`` (a JSON list, matched exactly), ``clients.
backchannel_logout_uri`` and ``clients.backchannel_logout_session_required``: the client
metadata of RP-Initiated Logout §3.1 and Back-Channel Logout §2.2.

``sessions.sid``: a session's OIDC ``sid``, random (NULL for sessions opened before this
revision). ``grants.sid``: the sid of the session a grant was made in; ``authorization_codes.sid``
carries it to the first ID token. Grants made before this revision have none: their clients are
told of nothing.

``backchannel_logouts``: logout tokens owed to clients, queued with the sign-out that caused them
and delivered by one worker at a time (openplate/store/backchannel_repos.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    # Plain ADD COLUMN: no table rebuild.
    op.add_column('clients', sa.Column('post_logout_redirect_uris', sa.Text(), nullable=False,
                                       server_default='[]'))
    op.add_column('clients', sa.Column('backchannel_logout_uri', sa.String(length=2000),
                                       nullable=True))
    op.add_column('clients', sa.Column('backchannel_logout_session_required', sa.Boolean(),
                                       nullable=False, server_default=sa.false()))
    op.add_column('grants', sa.Column('sid', sa.String(length=64), nullable=True))
    op.create_index(op.f('ix_grants_sid'), 'grants', ['sid'])
    op.add_column('sessions', sa.Column('sid', sa.String(length=32), nullable=True))
    op.create_index(op.f('ix_sessions_sid'), 'sessions', ['sid'], unique=True)
    op.add_column('authorization_codes', sa.Column('sid', sa.String(length=64), nullable=True))
    op.create_table('backchannel_logouts',
    sa.Column('id', Id, autoincrement=True, nullable=False),
    sa.Column('client_pk', Id, nullable=False),
    sa.Column('subject', sa.String(length=64), nullable=False),
    sa.Column('sid', sa.String(length=64), nullable=True),
    sa.Column('jti', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.BigInteger(), nullable=False),
    sa.Column('claimed_until', sa.BigInteger(), nullable=True),
    sa.Column('delivered_at', sa.BigInteger(), nullable=True),
    sa.Column('gave_up_at', sa.BigInteger(), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['client_pk'], ['clients.id'],
                            name=op.f('fk_backchannel_logouts_client_pk_clients'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_backchannel_logouts')),
    sa.UniqueConstraint('jti', name=op.f('uq_backchannel_logouts_jti'))
    )
    op.create_index(op.f('ix_backchannel_logouts_client_pk'), 'backchannel_logouts',
                    ['client_pk'])
    op.create_index(op.f('ix_backchannel_logouts_next_attempt_at'), 'backchannel_logouts',
                    ['next_attempt_at'])


def downgrade() -> None:
    op.drop_table('backchannel_logouts')
    with op.batch_alter_table('authorization_codes', schema=None) as batch_op:
        batch_op.drop_column('sid')
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_sessions_sid')
        batch_op.drop_column('sid')
    with op.batch_alter_table('grants', schema=None) as batch_op:
        batch_op.drop_index('ix_grants_sid')
        batch_op.drop_column('sid')
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.drop_column('backchannel_logout_session_required')
        batch_op.drop_column('backchannel_logout_uri')
        batch_op.drop_column('post_logout_redirect_uris')  # run with foreign keys off (env.py)
