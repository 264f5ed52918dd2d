"""what the consent page tells about an app: homepage, description, privacy policy, logo

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 05:00:00

``clients.homepage_url``, ``description``, ``privacy_url``: RFC 7591's client_uri, a
plain-text description and policy_uri, checked by openplate/accounts/applications.py. Apps
registered before this revision keep NULL (no homepage) and work as before; their page asks
for one. ``clients.logo_digest`` is the SHA-256 of the row in ``client_logos``, which holds the
logo's PNG (re-encoded by openplate/accounts/app_logos.py), one row per client at most, gone
with the client.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN: no table rebuild.
    op.add_column('clients', sa.Column('homepage_url', sa.String(length=500), nullable=True))
    op.add_column('clients', sa.Column('description', sa.String(length=300), nullable=True))
    op.add_column('clients', sa.Column('privacy_url', sa.String(length=500), nullable=True))
    op.add_column('clients', sa.Column('logo_digest', sa.String(length=64), nullable=True))
    op.create_table('client_logos',
    sa.Column('client_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
              autoincrement=False, nullable=False),
    sa.Column('png', sa.LargeBinary(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('updated_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['client_pk'], ['clients.id'],
                            name=op.f('fk_client_logos_client_pk_clients'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('client_pk', name=op.f('pk_client_logos'))
    )


def downgrade() -> None:
    op.drop_table('client_logos')
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.drop_column('logo_digest')
        batch_op.drop_column('privacy_url')
        batch_op.drop_column('description')
        batch_op.drop_column('homepage_url')
