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

A page of search results is read tier by tier (at most three tiers), each in id order with
``LIMIT``. On SQLite the FTS5 index hands its matches out in that order (rowid), so a common word
costs a page's worth of rows, not all its matches (``tier_statement``). On PostgreSQL a GIN index
has no such order, so each tier is first probed through its index (``probe_statement``: at most
``PROBE_CAP`` + 1 ids of the tier's maps). A tier with at most ``PROBE_CAP`` maps is then read by
those ids alone (``ids_statement``: one array parameter, no full-text test again). A tier with more
is common enough to be read in id order (``tier_statement``), newest map first, testing each map
until the page is full; there the match is written as ``ts_match_vq``, the function behind
``@@``, which no index serves, so the planner cannot turn back to the GIN index and sort every
match (its estimate for several words is far too low, and every match would be read).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    Select,
    Text,
    and_,
    any_,
    bindparam,
    cast,
    column,
    false,
    func,
    literal,
    or_,
    select,
    table,
)
from sqlalchemy.dialects.postgresql import ARRAY, TSQUERY

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
        # The author's id first (one row of users), so the maps are read through the owner's
        # index; a name nobody has gives NULL, and no map.
        conditions.append(maps.c.owner_id == select(users.c.id).where(
            users.c.username_key == query.author.lower()).scalar_subquery())
    if query.tag is not None:
        # IN, not EXISTS: the planner may then start from the tag's maps when they are few.
        conditions.append(maps.c.id.in_(select(map_tags.c.map_id)
                                        .where(map_tags.c.tag == query.tag)))
    if query.format is not None:
        conditions.append(maps.c.format == query.format)
    if query.category is not None:
        # As for the author: the category's id first, then its own index (category, date).
        conditions.append(maps.c.category_id == select(categories.c.id).where(
            categories.c.slug == query.category).scalar_subquery())
    return conditions


def _tsquery(terms: SearchTerms) -> ColumnElement[Any]:
    return cast(literal(terms.tsquery(), Text), TSQUERY)


def _found(words: ColumnElement[Any], terms: SearchTerms) -> ColumnElement[bool]:
    """``words @@ query``: a condition the GIN index of ``words`` serves."""
    return words.op("@@", is_comparison=True)(_tsquery(terms))


def _tested(words: ColumnElement[Any], terms: SearchTerms) -> ColumnElement[bool]:
    """The same test as ``_found``, in the function's form, which no index serves: each row
    read is tested (see the module's docstring)."""
    return func.ts_match_vq(words, _tsquery(terms), type_=Boolean)


Test = Callable[[ColumnElement[Any], SearchTerms], ColumnElement[bool]]


def _in_tier(tier: int, terms: SearchTerms, test: Test = _found) -> ColumnElement[bool]:
    """PostgreSQL: the maps of ``tier`` (every word in its scope, not in the tier above's)."""
    if tier == 0:
        return test(_WORDS[0], terms)
    return and_(test(_WORDS[tier], terms), ~test(_WORDS[tier - 1], terms))


def probe_statement(terms: SearchTerms, tier: int | None) -> Select[Any]:
    """PostgreSQL: up to ``PROBE_CAP`` + 1 ids of the maps of ``tier`` (None: of any tier),
    through the GIN index (any visibility: only to learn which, or that there are many)."""
    found = _found(map_search.c.all_words, terms) if tier is None else _in_tier(tier, terms)
    return select(map_search.c.map_id).where(found).limit(PROBE_CAP + 1)


def _among(ids: list[int]) -> ColumnElement[bool]:
    """``maps.id = ANY(:ids)``: one array parameter, whatever the number of ids."""
    return maps.c.id == any_(bindparam("among", ids, type_=ARRAY(BigInteger)))


def ids_statement(query: MapQuery, ids: list[int], limit: int) -> Select[Any]:
    """PostgreSQL: up to ``limit`` of the maps with these ids that ``query``'s filters let
    through, larger ids first (the ids of a probed tier)."""
    return (select(*SUMMARY_COLUMNS).select_from(FROM)
            .where(_among(ids), *_filters(query))
            .order_by(maps.c.id.desc()).limit(limit))


def tier_statement(dialect: str, query: MapQuery, terms: SearchTerms, tier: int,
                   before_id: int | None, limit: int) -> Select[Any]:
    """Up to ``limit`` maps of one relevance tier, larger ids first (below ``before_id``),
    read in id order (on PostgreSQL, for a tier of many maps)."""
    if dialect == "postgresql":
        source: Any = FROM.join(map_search, map_search.c.map_id == maps.c.id)
        matched = _in_tier(tier, terms, _tested)
        order_id: ColumnElement[int] = maps.c.id
    else:
        source, matched, order_id = _fts5_source(terms, tier)
    conditions = [matched, *_filters(query)]
    if before_id is not None:
        conditions.append(order_id < before_id)
    return (select(*SUMMARY_COLUMNS).select_from(source).where(*conditions)
            .order_by(order_id.desc()).limit(limit))


def _fts5_source(terms: SearchTerms, tier: int | None) -> tuple[Any, ColumnElement[bool],
                                                                  ColumnElement[int]]:
    """SQLite: the FROM clause, the FTS5 match (of ``tier``, or any tier when None) and the
    FTS5 rowid to order by, so that the index hands out matches in order."""
    text = terms.fts5() if tier is None else terms.fts5_tier(tier)
    rowid: ColumnElement[int] = _FTS.c.rowid
    matched = _FTS.c[FTS_TABLE].op("MATCH", is_comparison=True)(literal(text, Text))
    source = _FTS.join(maps, maps.c.id == rowid).join(users, users.c.id == maps.c.owner_id)
    source = source.outerjoin(categories, categories.c.id == maps.c.category_id)
    return source, matched, rowid


def list_statement(dialect: str, query: MapQuery, terms: SearchTerms | None,
                   position: tuple[int, ...] | None, limit: int,
                   among: list[int] | None = None) -> Select[Any]:
    """The newest or most viewed maps after ``position`` (None: from the first), ``limit`` of
    them (ask one more to know whether another page follows); with ``q``, only those matching
    (a ``q`` without words matches nothing). PostgreSQL, with ``q``: ``among``, the matches'
    ids when ``probe_statement`` found at most ``PROBE_CAP``; None, when it found more, and each
    map read in the list's order is tested (as a crowded tier is, see the module's docstring)."""
    conditions = _filters(query)
    source: Any = FROM
    if query.q is not None:
        if terms is None:
            conditions.append(false())
        elif dialect == "postgresql" and among is not None:
            conditions.append(_among(among))
        elif dialect == "postgresql":
            source = FROM.join(map_search, map_search.c.map_id == maps.c.id)
            conditions.append(_tested(map_search.c.all_words, terms))
        else:
            source, matched, _ = _fts5_source(terms, None)
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
