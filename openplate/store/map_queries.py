"""The SQL of the library's lists and search: one statement for SQLite and PostgreSQL but for
the full-text match itself.

**Ranking** (relevance order), the same by construction on both databases:
1. tier 0: every query word is in the title; tier 1: every word is in the title or the
   description (and not tier 0); tier 2: the rest (some word only in the topics);
2. within a tier, the most recently shared map first: the larger id.
Both databases match the same keys (store/map_search.py): on SQLite, FTS5 column filters
(``{title_keys} : "word"``, ``{title_keys description_keys} : …``); on PostgreSQL, one
``tsvector`` for each of those scopes (``title_words``, ``text_words``, ``all_words``). No score
from either engine (BM25, ``ts_rank``) takes part, so no engine detail can reorder the results.

A page of search results is read tier by tier (``tier_statement``, at most three statements),
each in id order with ``LIMIT``. On SQLite the FTS5 index hands its matches out in that order
(rowid), so a common word costs a page's worth of rows, not all its matches. On PostgreSQL a
GIN index has no such order, so each tier is first probed (``probe_statement``: at most
``PROBE_CAP`` + 1 of its maps, which the planner finds through the index for a rare word, and by
reading the table until it has them for a common one): a tier with few maps is then read by
their ids, one with many in id order, where its maps are dense enough to stop early.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    Text,
    and_,
    cast,
    column,
    false,
    func,
    literal,
    or_,
    select,
    table,
)
from sqlalchemy.dialects.postgresql import TSQUERY

from openplate.store.map_records import MapQuery, Order
from openplate.store.map_search import SearchTerms
from openplate.store.search_schema import FTS_TABLE
from openplate.store.tables import categories, map_search, map_tags, maps, users

TIERS = (0, 1, 2)
#: A PostgreSQL tier with at most this many maps is read by their ids (see the docstring).
PROBE_CAP = 1000
#: PostgreSQL: the words of each tier's scope (title; title and description; everything).
_WORDS = (map_search.c.title_words, map_search.c.text_words, map_search.c.all_words)
SUMMARY_COLUMNS = (
    maps.c.id, maps.c.public_id, maps.c.slug, maps.c.title, maps.c.description, maps.c.owner_id,
    users.c.username.label("author"),
    func.coalesce(users.c.display_name, users.c.username).label("author_name"),
    maps.c.format, maps.c.filename, maps.c.media_type, maps.c.size, maps.c.has_thumbnail,
    maps.c.topic_count, maps.c.visibility, categories.c.slug.label("category_slug"),
    categories.c.name.label("category_name"), maps.c.view_count, maps.c.created_at,
    maps.c.updated_at,
)
FROM = maps.join(users, users.c.id == maps.c.owner_id).outerjoin(
    categories, categories.c.id == maps.c.category_id)
#: SQLite's FTS5 table: its rowid is the map's id; the hidden column named after the table is
#: what MATCH applies to.
_FTS = table(FTS_TABLE, column("rowid"), column(FTS_TABLE))


def order_of(query: MapQuery) -> Order:
    if query.order is not None:
        return query.order
    return "relevance" if query.q is not None else "newest"


def _filters(query: MapQuery) -> list[ColumnElement[bool]]:
    """Visibility and the filters: which maps the list may hold at all."""
    conditions: list[ColumnElement[bool]] = []
    if query.include_hidden and query.owner_id is not None:
        conditions.append(maps.c.owner_id == query.owner_id)
    else:
        conditions.append(maps.c.visibility == "public")
        if query.owner_id is not None:
            conditions.append(maps.c.owner_id == query.owner_id)
    if query.author is not None:
        conditions.append(users.c.username_key == query.author.lower())
    if query.tag is not None:
        # IN, not EXISTS: the planner may then start from the tag's maps when they are few.
        conditions.append(maps.c.id.in_(select(map_tags.c.map_id)
                                        .where(map_tags.c.tag == query.tag)))
    if query.format is not None:
        conditions.append(maps.c.format == query.format)
    if query.category is not None:
        conditions.append(categories.c.slug == query.category)
    return conditions


def _found(words: ColumnElement[Any], terms: SearchTerms) -> ColumnElement[bool]:
    return words.op("@@", is_comparison=True)(cast(literal(terms.tsquery(), Text), TSQUERY))


def probe_statement(terms: SearchTerms, tier: int) -> Select[Any]:
    """PostgreSQL: up to ``PROBE_CAP`` + 1 ids of maps whose scope of ``tier`` has every word
    (any visibility: only to learn how many there are)."""
    return select(map_search.c.map_id).where(_found(_WORDS[tier], terms)).limit(PROBE_CAP + 1)


def _matches(dialect: str, terms: SearchTerms, tier: int | None) -> tuple[Any, ColumnElement[bool],
                                                                         ColumnElement[int]]:
    """The FROM clause, the match condition (of ``tier``, or any tier when None) and the id
    to order by (SQLite: the FTS5 rowid, so the index hands out matches in order)."""
    if dialect == "postgresql":
        if tier is None:
            condition = _found(map_search.c.all_words, terms)
        elif tier == 0:
            condition = _found(_WORDS[0], terms)
        else:
            condition = and_(_found(_WORDS[tier], terms), ~_found(_WORDS[tier - 1], terms))
        return FROM.join(map_search, map_search.c.map_id == maps.c.id), condition, maps.c.id
    text = terms.fts5() if tier is None else terms.fts5_tier(tier)
    rowid: ColumnElement[int] = _FTS.c.rowid
    matched = _FTS.c[FTS_TABLE].op("MATCH", is_comparison=True)(literal(text, Text))
    source = _FTS.join(maps, maps.c.id == rowid).join(users, users.c.id == maps.c.owner_id)
    source = source.outerjoin(categories, categories.c.id == maps.c.category_id)
    return source, matched, rowid


def tier_statement(dialect: str, query: MapQuery, terms: SearchTerms, tier: int,
                   before_id: int | None, limit: int,
                   among: list[int] | None = None) -> Select[Any]:
    """Up to ``limit`` maps of one relevance tier, larger ids first (below ``before_id``);
    ``among``: only maps with these ids (PostgreSQL, after ``probe_statement``)."""
    source, matched, order_id = _matches(dialect, terms, tier)
    conditions = [matched, *_filters(query)]
    if among is not None:
        conditions.append(maps.c.id.in_(among))
    if before_id is not None:
        conditions.append(order_id < before_id)
    return (select(*SUMMARY_COLUMNS).select_from(source).where(*conditions)
            .order_by(order_id.desc()).limit(limit))


def list_statement(dialect: str, query: MapQuery, terms: SearchTerms | None,
                   position: tuple[int, ...] | None, limit: int) -> Select[Any]:
    """The newest or most viewed maps after ``position`` (None: from the first), ``limit`` of
    them (ask one more to know whether another page follows); with ``q``, only those matching
    (a ``q`` without words matches nothing)."""
    conditions = _filters(query)
    source: Any = FROM
    if query.q is not None:
        if terms is None:
            conditions.append(false())
        else:
            source, matched, _ = _matches(dialect, terms, None)
            conditions.append(matched)
    if order_of(query) == "views":
        sort = (maps.c.view_count.desc(), maps.c.id.desc())
        if position is not None:
            views, last = position
            conditions.append(and_(maps.c.view_count <= views, or_(
                maps.c.view_count < views, maps.c.id < last)))
    else:
        sort = (maps.c.created_at.desc(), maps.c.id.desc())
        if position is not None:
            created, last = position
            conditions.append(and_(maps.c.created_at <= created, or_(
                maps.c.created_at < created, maps.c.id < last)))
    return select(*SUMMARY_COLUMNS).select_from(source).where(*conditions).order_by(*sort).limit(limit)


def position_of(order: Order, row: Any, tier: int = 0) -> tuple[int, ...]:
    """The sort key of a listed row: what the next page's cursor holds."""
    if order == "relevance":
        return (tier, int(row.id))
    if order == "views":
        return (int(row.view_count), int(row.id))
    return (int(row.created_at), int(row.id))
