"""Migration 0014 on a database that already has maps: they stay public, get ``updated_at`` and
search rows (their outline walked for topic titles and notes), and are found by search; the
migration also goes back down to 0013 and up again. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Connection, Engine, inspect, text

from openplate.oauth.tokens import Digester
from openplate.settings import Settings
from openplate.store.engine import create_engine, dispose
from openplate.store.map_records import MapQuery
from openplate.store.migrate import alembic_config, upgrade
from openplate.store.unit import Database
from tests.support.postgres import create_database, drop_database

OUTLINES = [
    [{"title": "Beekeeping", "children": [
        {"title": "Hives", "note": "Langstroth or top-bar", "link": "https://example.org"},
        {"title": "Honey", "children": [{"title": "Extraction"}]}]}],
    [{"title": "Second map"}, {"title": "Another sheet", "note": "varroa mites"}],
    "not json at all",
]


@pytest.fixture(params=["sqlite", "postgresql"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    if request.param == "sqlite":
        yield Settings(database_url=f"sqlite:///{tmp_path / 'old.db'}", secret_key="k" * 48)
        return
    url = create_database()
    try:
        yield Settings(database_url=url, secret_key="k" * 48)
    finally:
        drop_database(url)


def _run(settings: Settings, work: Any) -> Any:
    async def main() -> Any:
        db = Database(create_engine(settings), Digester(b"k" * 48))
        try:
            return await work(db)
        finally:
            await db.dispose()
    return asyncio.run(main())


async def _old_maps(db: Database) -> None:
    """Rows as revision 0013 had them (no visibility, tags, search)."""
    async with db.transaction() as store:
        await store.conn.execute(text(
            "INSERT INTO users (username, username_key, email, email_key, password_hash, "
            "created_at, password_changed_at) VALUES ('old', 'old', 'o@example.org', "
            "'o@example.org', 'x', 1, 1)"))
        for n, outline in enumerate(OUTLINES):
            await store.conn.execute(text(
                "INSERT INTO maps (public_id, slug, title, description, owner_id, format, "
                "filename, media_type, size, has_thumbnail, outline, topic_count, created_at) "
                "VALUES (:pid, 'm', :title, :description, (SELECT id FROM users), 'xmind', "
                "'m.xmind', 'x', 1, false, :outline, 1, :created)"),
                {"pid": f"oldmap{n}", "title": f"Old map {n}", "description": "kept as it was",
                 "outline": outline if isinstance(outline, str) else json.dumps(outline),
                 "created": 1000 + n})


async def _public_ids(db: Database) -> list[str]:
    async with db.transaction(readonly=True) as store:
        return [r[0] for r in await store.conn.execute(
            text("SELECT public_id FROM maps ORDER BY id"))]


def _schema(settings: Settings) -> tuple[set[str], set[str]]:
    """The database's tables, and the columns of ``maps``."""
    def look(conn: Connection) -> tuple[set[str], set[str]]:
        found = inspect(conn)
        return set(found.get_table_names()), {c["name"] for c in found.get_columns("maps")}

    async def main() -> tuple[set[str], set[str]]:
        engine = create_engine(settings)
        try:
            if isinstance(engine, Engine):
                with engine.connect() as conn:
                    return look(conn)
            async with engine.connect() as async_conn:
                return await async_conn.run_sync(look)
        finally:
            await dispose(engine)
    return asyncio.run(main())


async def _found(db: Database, query: str) -> list[str]:
    async with db.transaction(readonly=True) as store:
        page = await store.maps.page(MapQuery(q=query))
    return [m.public_id for m in page.maps]


def test_existing_maps_are_public_and_searchable_after_0014(settings: Settings) -> None:
    upgrade(settings, "0013")
    _run(settings, _old_maps)
    upgrade(settings)

    async def check(db: Database) -> None:
        async with db.transaction(readonly=True) as store:
            first = await store.maps.by_public_id("oldmap0")
            rows = (await store.conn.execute(text(
                "SELECT public_id, visibility, updated_at, created_at, view_count, search_text "
                "FROM maps ORDER BY id"))).all()
        assert first is not None and first.tags == () and first.category_slug is None
        assert [(r.visibility, r.updated_at, r.view_count) for r in rows] == [
            ("public", 1000, 0), ("public", 1001, 0), ("public", 1002, 0)]
        assert rows[0].search_text.splitlines() == [
            "Beekeeping", "Hives", "Langstroth or top-bar", "Honey", "Extraction"]
        assert rows[2].search_text == ""
        assert await _found(db, "langstroth") == ["oldmap0"]
        assert await _found(db, "varroa") == ["oldmap1"]
        assert await _found(db, "old map") == ["oldmap2", "oldmap1", "oldmap0"]
        assert await _found(db, "kept") == ["oldmap2", "oldmap1", "oldmap0"]
        if settings.database_url.startswith("sqlite"):
            async with db.transaction() as store:
                await store.conn.execute(text("INSERT INTO map_search_fts(map_search_fts, rank) "
                                              "VALUES ('integrity-check', 1)"))

    _run(settings, check)
    command.downgrade(alembic_config(settings), "0013")  # every table and column of 0014 goes
    tables, columns = _schema(settings)
    assert not {"categories", "map_tags", "map_views", "map_search", "map_search_fts"} & tables
    assert not {"visibility", "category_id", "updated_at", "view_count", "search_text"} & columns
    assert "outline" in columns and _run(settings, _public_ids) == ["oldmap0", "oldmap1", "oldmap2"]
    upgrade(settings)
    assert _run(settings, lambda db: _found(db, "extraction")) == ["oldmap0"]
