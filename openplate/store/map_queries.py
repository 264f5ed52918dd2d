"""The SQL of the library's lists and search: one statement for SQLite and PostgreSQL but for
the full-text match itself.

**Ranking** (relevance order), the same by construction on both databases:
1. tier 0: every query word is in the title; tier 1: every word is in the title or the
   description (and not tier 0); tier 2: the rest (some word only in the topics);
2. within a tier, the most recently shared map first: the larger id.
Both databases match the same keys (store/map_search.py): on SQLite, FTS5 column filters
(``{title_keys} : "word"``); on PostgreSQL, ``tsquery`` weights (``'word':A``, the title's keys
having weight A, the description's B, the topics' C). No score from either engine (BM25,
``ts_rank``) takes part, so no engine detail can reorder the results.

A page of search results is read tier by tier (``tier_statement``, at most three statements),
each in id order with ``LIMIT``: on SQLite the FTS5 index hands its matches out in that order
(rowid), so a common word costs a page's worth of rows, not all its matches.
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
    exists,
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
        conditions.append(exists().where(map_tags.c.map_id == maps.c.id,
                                         map_tags.c.tag == query.tag))
    if query.format is not None:
        conditions.append(maps.c.format == query.format)
    if query.category is not None:
        conditions.append(categories.c.slug == query.category)
    return conditions


def _matches(dialect: str, terms: SearchTerms, tier: int | None) -> tuple[Any, ColumnElement[bool],
                                                                         ColumnElement[int]]:
    """The FROM clause, the match condition (of ``tier``, or any tier when None) and the id
    to order by (SQLite: the FTS5 rowid, so the index hands out matches in order)."""
    if dialect == "postgresql":
        text = terms.tsquery() if tier is None else terms.tsquery_tier(tier)
        found = map_search.c.document.op("@@", is_comparison=True)(
            cast(literal(text, Text), TSQUERY))
        return FROM.join(map_search, map_search.c.map_id == maps.c.id), found, maps.c.id
    text = terms.fts5() if tier is None else terms.fts5_tier(tier)
    rowid: ColumnElement[int] = _FTS.c.rowid
    matched = _FTS.c[FTS_TABLE].op("MATCH", is_comparison=True)(literal(text, Text))
    source = _FTS.join(maps, maps.c.id == rowid).join(users, users.c.id == maps.c.owner_id)
    source = source.outerjoin(categories, categories.c.id == maps.c.category_id)
    return source, matched, rowid


def tier_statement(dialect: str, query: MapQuery, terms: SearchTerms, tier: int,
                   before_id: int | None, limit: int) -> Select[Any]:
    """Up to ``limit`` maps of one relevance tier, larger ids first (below ``before_id``)."""
    source, matched, order_id = _matches(dialect, terms, tier)
    conditions = [matched, *_filters(query)]
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
