"""SQL repository for the mind-map library: maps, their files, tags, views and search rows.

Everything a method writes is in the caller's unit of work (store/unit.py); nothing commits on
its own. Values are checked (store/map_fields.py) before anything is written, so a refusal
(``InvalidField``) leaves the database as it was. The lists' SQL and the ranking rule are in
map_queries.py; search keys in map_search.py; cursors in map_cursors.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import Text, cast, delete, exists, literal, select, text, update
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from openplate.accounts.validation import USERNAME
from openplate.library.slugs import slugify
from openplate.oauth.tokens import Digester
from openplate.store import map_fields, map_queries
from openplate.store.category_counts import CategoryCounts
from openplate.store.map_cursors import BadCursor, CursorSeal
from openplate.store.map_fields import InvalidField
from openplate.store.map_records import (
    KEEP,
    ORDERS,
    Keep,
    MapPage,
    MapQuery,
    MapRecord,
    MapSummary,
    record_from,
    summary_from,
)
from openplate.store.map_search import SearchKeys, SearchTerms, outline_text
from openplate.store.prepared import DbConnection
from openplate.store.tables import categories, map_files, map_search, map_tags, map_views, maps

__all__ = ["BadCursor", "InvalidField", "MapPage", "MapQuery", "MapRecord", "MapSummary",
           "SqlMaps", "KEEP", "MAX_PAGE"]

#: The most maps one page holds.
MAX_PAGE = 100


def _topic_text(outline: str) -> str:
    try:
        return outline_text(json.loads(outline))
    except ValueError:
        return ""


class SqlMaps:
    def __init__(self, conn: DbConnection, digester: Digester, counts: CategoryCounts) -> None:
        self._conn = conn
        self._digester = digester
        self._counts = counts
        self._seal: CursorSeal | None = None

    @property
    def _postgres(self) -> bool:
        return self._conn.dialect.name == "postgresql"

    @property
    def _cursors(self) -> CursorSeal:
        if self._seal is None:
            self._seal = CursorSeal(self._digester.key)
        return self._seal

    # --- writing ----------------------------------------------------------------------------

    async def create(
        self, *, public_id: str, slug: str, title: str, description: str, owner_id: int,
        client_pk: int | None, format: str, filename: str, media_type: str, content: bytes,
        thumbnail: bytes | None, outline: str, topic_count: int, now: int,
        tags: Sequence[str] = (), visibility: str = "public", category: str | None = None,
    ) -> int:
        """Store a new map; its id. ``category`` is a category's slug. ``InvalidField`` for
        tags, a visibility or a category the rules refuse (nothing is written then)."""
        tag_list = map_fields.normalise_tags(tags)
        map_fields.check_visibility(visibility)
        category_id = await self._category_id(category) if category is not None else None
        topic_text = _topic_text(outline)
        result = await self._conn.execute(
            maps.insert()
            .values(
                public_id=public_id, slug=slug, title=title, description=description,
                owner_id=owner_id, client_pk=client_pk, format=format, filename=filename,
                media_type=media_type, size=len(content), has_thumbnail=thumbnail is not None,
                outline=outline, topic_count=topic_count, created_at=now, updated_at=now,
                visibility=visibility, category_id=category_id, search_text=topic_text,
            )
            .returning(maps.c.id)
        )
        map_id = int(result.scalar_one())
        files = [{"map_id": map_id, "kind": "map", "content": content}]
        if thumbnail is not None:
            files.append({"map_id": map_id, "kind": "thumbnail", "content": thumbnail})
        await self._conn.execute(map_files.insert(), files)
        await self._write_tags(map_id, tag_list)
        keys = SearchKeys.of(title=title, description=description, topic_text=topic_text)
        await self._conn.execute(map_search.insert().values(
            map_id=map_id, title_keys=keys.title, description_keys=keys.description,
            topic_keys=keys.topics, **self._words(keys)))
        self._counts.changed()
        return map_id

    def _words(self, keys: SearchKeys) -> dict[str, Any]:
        """``map_search``'s tsvectors on PostgreSQL (NULL on SQLite: FTS5 reads the keys)."""
        vectors = keys.tsvectors()
        if not self._postgres:
            return dict.fromkeys(vectors)
        return {name: cast(literal(words, Text), TSVECTOR) for name, words in vectors.items()}

    async def _category_id(self, slug: str) -> int:
        map_fields.check_category_slug(slug)
        row = (await self._conn.execute(
            select(categories.c.id).where(categories.c.slug == slug))).first()
        if row is None:
            raise InvalidField("category", f"there is no category {slug!r}")
        return int(row.id)

    async def _write_tags(self, map_id: int, tags: Iterable[str]) -> None:
        rows = [{"map_id": map_id, "tag": tag} for tag in tags]
        if rows:
            await self._conn.execute(map_tags.insert(), rows)

    async def update(
        self, map_id: int, *, now: int, title: str | Keep = KEEP,
        description: str | Keep = KEEP, tags: Sequence[str] | Keep = KEEP,
        visibility: str | Keep = KEEP, category: str | None | Keep = KEEP,
    ) -> bool:
        """Change what is given (``category`` None: no category) and set ``updated_at``; False
        if there is no such map. A new title brings a new slug (old map page URLs redirect) and
        download name. ``InvalidField`` for any value the rules refuse, nothing changed then."""
        values: dict[str, Any] = {"updated_at": now}
        if title is not KEEP:
            values["title"] = map_fields.check_title(title)
        if description is not KEEP:
            values["description"] = map_fields.check_description(description)
        tag_list = map_fields.normalise_tags(tags) if tags is not KEEP else None
        if visibility is not KEEP:
            values["visibility"] = map_fields.check_visibility(visibility)
        if category is not KEEP:
            values["category_id"] = await self._category_id(category) if category else None
        row = (await self._conn.execute(
            select(maps.c.title, maps.c.description, maps.c.filename, maps.c.search_text)
            .where(maps.c.id == map_id))).first()
        if row is None:
            return False
        if "title" in values:
            slug = slugify(values["title"])
            _, dot, extension = row.filename.rpartition(".")
            values.update(slug=slug, filename=f"{slug}.{extension}" if dot else slug)
        await self._conn.execute(update(maps).where(maps.c.id == map_id).values(**values))
        self._counts.changed()
        if tag_list is not None:
            await self._conn.execute(delete(map_tags).where(map_tags.c.map_id == map_id))
            await self._write_tags(map_id, tag_list)
        if "title" in values or "description" in values:
            keys = SearchKeys.of(title=values.get("title", row.title),
                                 description=values.get("description", row.description),
                                 topic_text=row.search_text)
            await self._conn.execute(
                update(map_search).where(map_search.c.map_id == map_id).values(
                    title_keys=keys.title, description_keys=keys.description,
                    topic_keys=keys.topics, **self._words(keys)))
        return True

    async def replace_file(
        self, map_id: int, *, now: int, format: str, filename: str, media_type: str,
        content: bytes, thumbnail: bytes | None, outline: str, topic_count: int,
    ) -> bool:
        """Give the map a new file and outline (the MCP tool ``update_map``): its format, file,
        thumbnail, outline, topic count and search words change, ``updated_at`` too; the
        pictures drawn from the old outline go with the old file. False if there is no such
        map (nothing written)."""
        row = (await self._conn.execute(
            select(maps.c.title, maps.c.description).where(maps.c.id == map_id))).first()
        if row is None:
            return False
        topic_text = _topic_text(outline)
        await self._conn.execute(update(maps).where(maps.c.id == map_id).values(
            format=format, filename=filename, media_type=media_type, size=len(content),
            has_thumbnail=thumbnail is not None, outline=outline, topic_count=topic_count,
            search_text=topic_text, updated_at=now))
        await self._conn.execute(delete(map_files).where(map_files.c.map_id == map_id))
        files = [{"map_id": map_id, "kind": "map", "content": content}]
        if thumbnail is not None:
            files.append({"map_id": map_id, "kind": "thumbnail", "content": thumbnail})
        await self._conn.execute(map_files.insert(), files)
        keys = SearchKeys.of(title=row.title, description=row.description, topic_text=topic_text)
        await self._conn.execute(update(map_search).where(map_search.c.map_id == map_id).values(
            title_keys=keys.title, description_keys=keys.description, topic_keys=keys.topics,
            **self._words(keys)))
        self._counts.changed()
        return True

    async def delete(self, map_id: int) -> bool:
        """Delete the map and everything of it: files, tags, views, search row (and so its
        full-text entry). False if there was no such map."""
        for table in (map_search, map_tags, map_views, map_files):
            await self._conn.execute(delete(table).where(table.c.map_id == map_id))
        gone = await self._conn.execute(delete(maps).where(maps.c.id == map_id)
                                        .returning(maps.c.id))
        self._counts.changed()
        return gone.first() is not None

    async def record_view(self, map_id: int, viewer_key_digest: str, day: int) -> bool:
        """Count a view of the map by this viewer (a keyed digest that names them, never an
        address or session id as such) on this day (Unix days): True, and ``view_count`` one
        more, only for the first view of the day; False for the rest, or if there is no such
        map. Atomic: of parallel calls for one viewer and day, one counts (the row's primary
        key decides, on both databases)."""
        insert = pg_insert if self._postgres else sqlite_insert
        source = select(literal(map_id), literal(viewer_key_digest), literal(day)).where(
            exists().where(maps.c.id == map_id))
        added = await self._conn.execute(
            insert(map_views).from_select(["map_id", "viewer", "day"], source)
            .on_conflict_do_nothing().returning(map_views.c.map_id))
        if added.first() is None:
            return False
        await self._conn.execute(update(maps).where(maps.c.id == map_id)
                                 .values(view_count=maps.c.view_count + 1))
        return True

    async def forget_views(self, *, before_day: int) -> int:
        """Delete the view rows of days before ``before_day`` (the counts stay); how many."""
        result = await self._conn.execute(
            delete(map_views).where(map_views.c.day < before_day).returning(map_views.c.day))
        return len(result.all())

    async def refresh_statistics(self) -> None:
        """PostgreSQL: have the planner's statistics of the library's tables read again, after
        a bulk load (``openplate demo``). Until autovacuum gets to it, the planner would take a
        table of thousands of new maps for the small one it last measured, and choose plans
        that read every map. SQLite keeps no such statistics here: nothing to do."""
        if self._postgres:
            await self._conn.execute(text("ANALYZE maps, map_search, map_tags, map_files"))

    # --- reading ----------------------------------------------------------------------------

    async def by_public_id(self, public_id: str) -> MapRecord | None:
        """The map, whatever its visibility (the caller decides who may see it)."""
        row = (await self._conn.execute(
            select(*map_queries.SUMMARY_COLUMNS, maps.c.outline)
            .select_from(map_queries.FROM).where(maps.c.public_id == public_id))).first()
        if row is None:
            return None
        tags = await self._tags([int(row.id)])
        return record_from(row, tags.get(int(row.id), ()))

    async def _tags(self, map_ids: list[int]) -> dict[int, tuple[str, ...]]:
        if not map_ids:
            return {}
        rows = await self._conn.execute(
            select(map_tags.c.map_id, map_tags.c.tag).where(map_tags.c.map_id.in_(map_ids)))
        found: dict[int, list[str]] = {}
        for row in rows:
            found.setdefault(int(row.map_id), []).append(row.tag)
        return {map_id: tuple(sorted(tags)) for map_id, tags in found.items()}

    async def page(self, query: MapQuery, *, limit: int = 20, cursor: str | None = None) -> MapPage:
        """A page of maps (see ``MapQuery`` for which, map_queries.py for the order), and the
        next page's cursor. ``InvalidField`` for a filter the rules refuse; ``BadCursor`` for a
        cursor this list did not give."""
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidField("limit", f"must be a whole number from 1 to {MAX_PAGE}")
        query = self._checked(query)
        if query.author is not None and not USERNAME.fullmatch(query.author):
            return MapPage((), None)  # nobody has that name (and it may not reach the database)
        order = map_queries.order_of(query)
        terms = SearchTerms.parse(query.q) if query.q is not None else None
        canonical = self._canonical(query, order, terms)
        position = self._cursors.open(cursor, order, canonical) if cursor is not None else None
        dialect = self._conn.dialect.name
        found: list[tuple[int, Any]] = []  # (tier, row)
        if order == "relevance" and terms is not None:
            first, before = position if position is not None else (0, None)
            for tier in map_queries.TIERS[first:]:
                below = before if tier == first else None
                need = limit + 1 - len(found)
                ids = await self._probed(terms, tier)
                if ids is not None:
                    ids = [i for i in ids if below is None or i < below]
                    if not ids:
                        continue
                statement = (map_queries.ids_statement(query, ids, need) if ids is not None else
                             map_queries.tier_statement(dialect, query, terms, tier, below, need))
                found.extend((tier, row) for row in await self._conn.execute(statement))
                if len(found) > limit:
                    break
        else:
            among = await self._probed(terms, None) if terms is not None else None
            if among != []:
                statement = map_queries.list_statement(dialect, query, terms, position,
                                                       limit + 1, among)
                found.extend((0, row) for row in await self._conn.execute(statement))
        shown = found[:limit]
        tags = await self._tags([int(row.id) for _, row in shown])
        page = tuple(summary_from(row, tags.get(int(row.id), ())) for _, row in shown)
        following = None
        if len(found) > limit:
            tier, row = shown[-1]
            following = self._cursors.seal(order, map_queries.position_of(order, row, tier),
                                           canonical)
        return MapPage(page, following)

    async def _probed(self, terms: SearchTerms, tier: int | None) -> list[int] | None:
        """PostgreSQL: the ids of the maps of ``tier`` (None: of any tier) when there are at
        most ``PROBE_CAP`` of them, to be read by their ids; None when there are more, or on
        SQLite: read in the list's order then (map_queries.py)."""
        if not self._postgres:
            return None
        probed = await self._conn.execute(map_queries.probe_statement(terms, tier))
        ids = [int(row.map_id) for row in probed]
        return ids if len(ids) <= map_queries.PROBE_CAP else None

    @staticmethod
    def _checked(query: MapQuery) -> MapQuery:
        """The query with its tag normalised and its other filters checked."""
        if query.order is not None and query.order not in ORDERS:
            raise InvalidField("sort", "must be one of " + ", ".join(ORDERS))
        if query.order == "relevance" and query.q is None:
            raise InvalidField("sort", "relevance needs a query (q)")
        if query.format is not None:
            map_fields.check_format(query.format)
        if query.category is not None:
            map_fields.check_category_slug(query.category)
        if query.tag is not None:
            try:
                tag = map_fields.normalise_tag(query.tag)
            except InvalidField as refused:
                raise InvalidField("tag", refused.message) from None
            if tag != query.tag:
                return replace(query, tag=tag)
        return query

    @staticmethod
    def _canonical(query: MapQuery, order: str, terms: SearchTerms | None) -> str:
        """The text a cursor is bound to: everything that decides the list."""
        search = "" if terms is None else " ".join(terms.keys) + ("*" if terms.prefix_last else "")
        return json.dumps([order, query.q is not None, search, query.author and query.author.lower(),
                           query.owner_id, query.tag, query.format, query.category,
                           query.include_hidden])

    async def latest(self, *, limit: int = 20) -> list[MapSummary]:
        """The newest public maps."""
        return list((await self.page(MapQuery(), limit=limit)).maps)

    async def file(self, *, map_id: int, kind: str) -> bytes | None:
        row = (
            await self._conn.execute(
                select(map_files.c.content).where(
                    map_files.c.map_id == map_id, map_files.c.kind == kind
                )
            )
        ).first()
        return bytes(row.content) if row is not None else None

