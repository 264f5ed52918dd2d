"""The SQL of the library's lists and search, one statement for SQLite and PostgreSQL but for
the full-text match itself.

**Ranking** (relevance order), the same by construction on both databases:
1. tier 0: every query word is in the title; tier 1: every word is in the title or the
   description; tier 2: the rest (some word only in the topics);
2. within a tier, newest first (``created_at``), then the larger id first.
Both databases match the same keys (store/map_search.py): on SQLite, FTS5 column filters
(``{title_keys} : "word"``); on PostgreSQL, ``tsquery`` weights (``'word':A``, the title's keys
having weight A, the description's B, the topics' C). No score from either engine (BM25,
``ts_rank``) takes part, so no engine detail can reorder the results.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    Text,
    and_,
    case,
    cast,
    exists,
    false,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import TSQUERY

from openplate.store.map_records import MapQuery, Order
from openplate.store.map_search import SearchTerms
from openplate.store.search_schema import FTS_TABLE
from openplate.store.tables import categories, map_search, map_tags, maps, users

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


def _fts_rows(name: str, match: str) -> Any:
    """The map ids whose keys match the FTS5 query ``match`` (bound as ``name``)."""
    return select(literal_column("rowid")).select_from(text(FTS_TABLE)).where(
        text(f"{FTS_TABLE} MATCH :{name}").bindparams(**{name: match}))


def _matches(dialect: str, terms: SearchTerms) -> tuple[ColumnElement[bool], ColumnElement[int]]:
    """The condition "every word matches somewhere", and the map's tier (see the docstring).
    On PostgreSQL both read ``map_search``, which the statement joins."""
    if dialect == "postgresql":
        def found(weights: str) -> ColumnElement[bool]:
            query = cast(literal(terms.tsquery(weights), Text), TSQUERY)
            return map_search.c.document.op("@@", is_comparison=True)(query)

        return found(""), case((found("A"), 0), (found("AB"), 1), else_=2)
    title = maps.c.id.in_(_fts_rows("fts_title", terms.fts5(("title_keys",))))
    either = maps.c.id.in_(_fts_rows("fts_either", terms.fts5(("title_keys",
                                                                "description_keys"))))
    matched = maps.c.id.in_(_fts_rows("fts_all", terms.fts5()))
    return matched, case((title, 0), (either, 1), else_=2)


def order_of(query: MapQuery) -> Order:
    if query.order is not None:
        return query.order
    return "relevance" if query.q is not None else "newest"


def list_statement(dialect: str, query: MapQuery, terms: SearchTerms | None,
                   position: tuple[int, ...] | None, limit: int) -> Select[Any]:
    """The page after ``position`` (None: the first page) of ``query``'s list, ``limit`` maps
    (ask one more to know whether another page follows). The rows carry a ``tier`` column."""
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
    tier: ColumnElement[int] = literal(0)
    source = FROM
    if query.q is not None:
        if terms is None:
            conditions.append(false())
        else:
            matched, tier = _matches(dialect, terms)
            conditions.append(matched)
            if dialect == "postgresql":
                source = FROM.join(map_search, map_search.c.map_id == maps.c.id)
    order = order_of(query)
    if order == "relevance":
        sort: tuple[ColumnElement[Any], ...] = (tier.asc(), maps.c.created_at.desc(),
                                                maps.c.id.desc())
        if position is not None:
            at_tier, created, last = position
            conditions.append(and_(tier >= at_tier, or_(
                tier > at_tier, maps.c.created_at < created,
                and_(maps.c.created_at == created, maps.c.id < last))))
    elif order == "views":
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
    return (select(*SUMMARY_COLUMNS, tier.label("tier")).select_from(source)
            .where(*conditions).order_by(*sort).limit(limit))


def position_of(order: Order, row: Any) -> tuple[int, ...]:
    """The sort key of a row of ``list_statement``: what the next page's cursor holds."""
    if order == "relevance":
        return (int(row.tier), int(row.created_at), int(row.id))
    if order == "views":
        return (int(row.view_count), int(row.id))
    return (int(row.created_at), int(row.id))
