"""users have a display name; sessions remember their browser, address and last sight

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 05:00:00

``users.display_name``: the name the account shows (the site's header, the OIDC ``name``
claim); NULL means the username stands in for it.

``sessions.user_agent`` (the browser's User-Agent, cut to 256 characters), ``sessions.ip``
(the address it signed in from, then the one last seen) and ``sessions.last_seen_at`` (written
at most once every few minutes per session, see openplate/web/sessions.py), for the list of
signed-in browsers at /account/sessions. Sessions made before this revision keep NULL: the page
says it does not know.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN: no table rebuild.
    op.add_column('users', sa.Column('display_name', sa.String(length=64), nullable=True))
    op.add_column('sessions', sa.Column('user_agent', sa.String(length=256), nullable=True))
    op.add_column('sessions', sa.Column('ip', sa.String(length=64), nullable=True))
    op.add_column('sessions', sa.Column('last_seen_at', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.drop_column('last_seen_at')
        batch_op.drop_column('ip')
        batch_op.drop_column('user_agent')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('display_name')  # run with foreign keys off (see env.py)
