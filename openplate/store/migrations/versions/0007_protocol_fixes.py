"""grants say whether they are a client's own; refresh tokens keep their access token's digest;
clients choose their ID-token algorithm

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 10:00:00

``grants.for_client``: a client-credentials grant, whose tokens speak for the client (RFC 9068
§2.2 ``sub``), not for its owner. Grants made before this revision read false: their tokens
keep the meaning they were minted with until they expire.

``refresh_tokens.access_digest``: the digest of the access token minted with the refresh token,
so a retry of its rotation finds that access token without rebuilding it (a JWT re-signed after
a key rotation has other bytes). Rows minted before this revision keep NULL.

``clients.id_token_alg``: the client's ``id_token_signed_response_alg`` (RS256, ES256 or
EdDSA). Clients registered before this revision keep NULL and follow OPENPLATE_SIGNING_ALG, as
they did.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN: no table rebuild.
    op.add_column('grants', sa.Column('for_client', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    op.add_column('refresh_tokens', sa.Column('access_digest', sa.String(length=64), nullable=True))
    op.add_column('clients', sa.Column('id_token_alg', sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.drop_column('id_token_alg')
    with op.batch_alter_table('refresh_tokens', schema=None) as batch_op:
        batch_op.drop_column('access_digest')
    with op.batch_alter_table('grants', schema=None) as batch_op:
        batch_op.drop_column('for_client')  # run with foreign keys off (see env.py)
