r"""the library's catalogue: visibility, categories, tags, view counts and full-text search

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-20 09:00:00

``maps`` gains ``visibility`` (``public``, ``unlisted`` or ``private``; every existing map is
public), ``category_id`` (``categories``, a list the operator keeps; removing one sets its maps'
category to NULL), ``updated_at`` (set to ``created_at`` here), ``view_count`` and
``search_text`` (every topic title and note, one a line), with indexes for the lists.
``map_tags`` holds up to ten tags a map, ``map_views`` one row per viewer, map and day.

``map_search`` holds each map's search keys (store/map_search.py); on SQLite the FTS5 table
``map_search_fts`` indexes them (store/search_schema.py), on PostgreSQL ``title_words``,
``text_words`` and ``all_words`` are their ``tsvector``\ s (title; title and description; all),
each with a GIN index. Every existing map is indexed here: its stored outline is walked
(an explicit stack) for topic titles and notes. The keys are made by today's code, as for a new
upload; a later change to how keys are made would need a migration that makes them again.
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import TSVECTOR

from openplate.store import search_schema
from openplate.store.map_search import SearchKeys, outline_text

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

_BATCH = 200
_WORDS = ('title_words', 'text_words', 'all_words')


def upgrade() -> None:
    op.create_table(
        'categories',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True,
                  nullable=False),
        sa.Column('slug', sa.String(length=40), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('created_at', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_categories')),
        sa.UniqueConstraint('slug', name=op.f('uq_categories_slug')),
    )
    # SQLite rebuilds the table to add the foreign key (foreign keys are off while migrating).
    with op.batch_alter_table('maps', schema=None) as batch_op:
        batch_op.add_column(sa.Column('visibility', sa.String(length=10), nullable=False,
                                      server_default='public'))
        batch_op.add_column(sa.Column('category_id',
                                      sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                                      nullable=True))
        batch_op.add_column(sa.Column('updated_at', sa.BigInteger(), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('view_count', sa.Integer(), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('search_text', sa.Text(), nullable=False,
                                      server_default=''))
        batch_op.create_foreign_key(batch_op.f('fk_maps_category_id_categories'), 'categories',
                                    ['category_id'], ['id'], ondelete='SET NULL')
        batch_op.create_index(batch_op.f('ix_maps_category_id'), ['category_id'], unique=False)
        batch_op.create_index('ix_maps_visibility_created_at_id',
                              ['visibility', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_maps_visibility_view_count_id',
                              ['visibility', 'view_count', 'id'], unique=False)
        batch_op.create_index('ix_maps_owner_id_created_at_id', ['owner_id', 'created_at', 'id'],
                              unique=False)
    map_id = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
    op.create_table(
        'map_tags',
        sa.Column('map_id', map_id, autoincrement=False, nullable=False),
        sa.Column('tag', sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(['map_id'], ['maps.id'], name=op.f('fk_map_tags_map_id_maps'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('map_id', 'tag', name=op.f('pk_map_tags')),
    )
    op.create_index('ix_map_tags_tag_map_id', 'map_tags', ['tag', 'map_id'], unique=False)
    op.create_table(
        'map_views',
        sa.Column('map_id', map_id, autoincrement=False, nullable=False),
        sa.Column('viewer', sa.String(length=64), nullable=False),
        sa.Column('day', sa.Integer(), autoincrement=False, nullable=False),
        sa.ForeignKeyConstraint(['map_id'], ['maps.id'], name=op.f('fk_map_views_map_id_maps'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('map_id', 'viewer', 'day', name=op.f('pk_map_views')),
    )
    op.create_index('ix_map_views_day', 'map_views', ['day'], unique=False)
    op.create_table(
        'map_search',
        sa.Column('map_id', map_id, autoincrement=False, nullable=False),
        sa.Column('title_keys', sa.Text(), nullable=False),
        sa.Column('description_keys', sa.Text(), nullable=False),
        sa.Column('topic_keys', sa.Text(), nullable=False),
        *(sa.Column(name, TSVECTOR().with_variant(sa.Text(), 'sqlite'), nullable=True)
          for name in _WORDS),
        sa.ForeignKeyConstraint(['map_id'], ['maps.id'], name=op.f('fk_map_search_map_id_maps'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('map_id', name=op.f('pk_map_search')),
    )
    for name in _WORDS:
        op.create_index(f'ix_map_search_{name}', 'map_search', [name], unique=False,
                        postgresql_using='gin', postgresql_with={'fastupdate': 'off'},
                        sqlite_where=sa.text(f'{name} IS NOT NULL'))
    bind = op.get_bind()
    for statement in search_schema.create_statements(bind.dialect.name):
        op.execute(statement)
    _index_existing_maps(bind)


def _index_existing_maps(bind: sa.Connection) -> None:
    """Search text and keys for every map there is, a batch at a time (by id)."""
    maps = sa.table('maps', sa.column('id'), sa.column('title'), sa.column('description'),
                    sa.column('outline'), sa.column('created_at'), sa.column('updated_at'),
                    sa.column('search_text'))
    postgres = bind.dialect.name == 'postgresql'
    search = sa.table('map_search', *(sa.column(name) for name in (
        'map_id', 'title_keys', 'description_keys', 'topic_keys', *_WORDS)))
    after = 0
    while True:
        rows = bind.execute(
            sa.select(maps.c.id, maps.c.title, maps.c.description, maps.c.outline)
            .where(maps.c.id > after).order_by(maps.c.id).limit(_BATCH)).all()
        if not rows:
            return
        for row in rows:
            try:
                outline = json.loads(row.outline)
            except ValueError:
                outline = []
            text = outline_text(outline)
            keys = SearchKeys.of(title=row.title, description=row.description, topic_text=text)
            bind.execute(sa.update(maps).where(maps.c.id == row.id)
                         .values(search_text=text, updated_at=maps.c.created_at))
            values: dict[str, object] = {
                'map_id': row.id, 'title_keys': keys.title,
                'description_keys': keys.description, 'topic_keys': keys.topics}
            if postgres:
                values.update({name: sa.cast(sa.literal(vector, sa.Text()), TSVECTOR)
                               for name, vector in keys.tsvectors().items()})
            bind.execute(search.insert().values(**values))
        after = rows[-1].id


def downgrade() -> None:
    bind = op.get_bind()
    for statement in search_schema.drop_statements(bind.dialect.name):
        op.execute(statement)
    for name in _WORDS:
        op.drop_index(f'ix_map_search_{name}', table_name='map_search')
    op.drop_table('map_search')
    op.drop_index('ix_map_views_day', table_name='map_views')
    op.drop_table('map_views')
    op.drop_index('ix_map_tags_tag_map_id', table_name='map_tags')
    op.drop_table('map_tags')
    with op.batch_alter_table('maps', schema=None) as batch_op:
        batch_op.drop_index('ix_maps_owner_id_created_at_id')
        batch_op.drop_index('ix_maps_visibility_view_count_id')
        batch_op.drop_index('ix_maps_visibility_created_at_id')
        batch_op.drop_index(batch_op.f('ix_maps_category_id'))
        batch_op.drop_constraint(batch_op.f('fk_maps_category_id_categories'), type_='foreignkey')
        batch_op.drop_column('search_text')
        batch_op.drop_column('view_count')
        batch_op.drop_column('updated_at')
        batch_op.drop_column('category_id')
        batch_op.drop_column('visibility')
    op.drop_table('categories')
