"""Maps for the library's storage tests: made through ``SqlMaps.create``, as the API makes them.

The in-memory store has no library, so these run on the SQL backends only (``sql`` fixtures
in the test modules: SQLite and PostgreSQL).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, text

from openplate.oauth.models import UserProfile
from openplate.store.map_records import MapQuery, MapSummary
from openplate.store.tables import map_files, map_search, map_tags, map_views, maps
from openplate.store.unit import Store
from tests.contract.backends import NOW, SqlBackend


def topic(title: str, *children: dict[str, Any], note: str | None = None) -> dict[str, Any]:
    node: dict[str, Any] = {"title": title}
    if note is not None:
        node["note"] = note
    if children:
        node["children"] = list(children)
    return node


async def add_map(
    sql: SqlBackend, owner: UserProfile, *, title: str = "A map", description: str = "",
    outline: Sequence[dict[str, Any]] | None = None, tags: Sequence[str] = (),
    visibility: str = "public", category: str | None = None, format: str = "xmind",
    now: int = NOW, store: Store | None = None,
) -> str:
    """A new map's public id."""
    public_id = secrets.token_hex(5) + "m"
    sheets = list(outline) if outline is not None else [topic(title)]

    async def make(into: Store) -> None:
        await into.maps.create(
            public_id=public_id, slug="map", title=title, description=description,
            owner_id=owner.id, client_pk=None, format=format, filename="map.xmind",
            media_type="application/vnd.xmind.workbook", content=b"PK original bytes",
            thumbnail=b"png" if format == "xmind" else None, outline=json.dumps(sheets),
            topic_count=len(sheets), now=now, tags=tags, visibility=visibility,
            category=category)

    if store is not None:
        await make(store)
    else:
        async with sql.db.transaction() as fresh:
            await make(fresh)
    return public_id


async def titles(sql: SqlBackend, query: MapQuery, *, limit: int = 100) -> list[str]:
    async with sql.db.transaction(readonly=True) as store:
        page = await store.maps.page(query, limit=limit)
    return [m.title for m in page.maps]


async def walk(sql: SqlBackend, query: MapQuery, *, limit: int) -> list[MapSummary]:
    """Every page of ``query``'s list, in order, through the cursors."""
    found: list[MapSummary] = []
    cursor: str | None = None
    while True:
        async with sql.db.transaction(readonly=True) as store:
            page = await store.maps.page(query, limit=limit, cursor=cursor)
        found.extend(page.maps)
        if page.next_cursor is None:
            return found
        assert len(page.maps) == limit
        cursor = page.next_cursor


async def rows_of(sql: SqlBackend, map_id: int) -> dict[str, int]:
    """How many rows each of the map's tables holds for it (and the FTS5 index, on SQLite)."""
    counts: dict[str, int] = {}
    async with sql.db.transaction(readonly=True) as store:
        for table in (map_files, map_tags, map_views, map_search):
            counts[table.name] = int((await store.conn.execute(
                select(func.count()).select_from(table).where(table.c.map_id == map_id))).scalar_one())
        counts["maps"] = int((await store.conn.execute(
            select(func.count()).select_from(maps).where(maps.c.id == map_id))).scalar_one())
    return counts


async def fts_is_consistent(sql: SqlBackend) -> None:
    """SQLite: the FTS5 index agrees with its content table (raises if not)."""
    if not sql.url.startswith("sqlite"):
        return
    async with sql.db.transaction() as store:
        await store.conn.execute(text(
            "INSERT INTO map_search_fts(map_search_fts, rank) VALUES ('integrity-check', 1)"))
