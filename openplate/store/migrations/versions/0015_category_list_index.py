"""a category's maps are listed through one index, newest first

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 12:10:00

``ix_maps_category_id`` (``category_id`` alone) becomes ``ix_maps_category_id_created_at_id``
(``category_id, created_at, id``). A category's page lists its maps newest first: with the
composite index that reads a page's worth of rows, whatever the category's size. With the old
one, a category of a few maps in a large library was found by walking every public map in
date order until the page filled (the planner takes each category for average-sized). The
new index still serves what the old one did (``ON DELETE SET NULL`` when a category goes).
"""

from __future__ import annotations

from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('maps', schema=None) as batch_op:
        batch_op.create_index('ix_maps_category_id_created_at_id',
                              ['category_id', 'created_at', 'id'], unique=False)
        batch_op.drop_index('ix_maps_category_id')


def downgrade() -> None:
    with op.batch_alter_table('maps', schema=None) as batch_op:
        batch_op.create_index('ix_maps_category_id', ['category_id'], unique=False)
        batch_op.drop_index('ix_maps_category_id_created_at_id')
