"""A map's cached pictures (web/map_pictures.py) on a real SQLite file and on PostgreSQL: drawn
once and read back, redrawn after a rename, left out when too big, and safe when requests race."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select

from openplate.library.model import Topic
from openplate.settings import Settings
from openplate.store.map_picture_repos import SqlMapPictures
from openplate.store.migrate import upgrade
from openplate.store.tables import map_files
from openplate.web import map_pictures
from openplate.web.app import create_app
from openplate.web.context import AppContext
from openplate.web.map_pictures import PNG_KIND, SVG_KIND, map_png, map_svg
from tests.contract.backends import SECRET_KEY, SqlBackend
from tests.contract.map_helpers import add_map, topic
from tests.library.picture.maps import generated
from tests.support.pngs import png as make_png
from tests.support.postgres import create_database, drop_database


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest,
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('pictures') / 'pictures.db'}"
        upgrade(Settings(database_url=url, secret_key=SECRET_KEY))
        yield url
        return
    url = create_database()
    try:
        upgrade(Settings(database_url=url, secret_key=SECRET_KEY))
        yield url
    finally:
        drop_database(url)


Work = Callable[[AppContext, SqlBackend], Awaitable[None]]


def run(url: str, work: Work, *, slots: int = 2) -> None:
    """``work`` with a real app context (its own engine, in one event loop) and a seeder."""
    app = create_app(Settings(database_url=url, secret_key=SECRET_KEY,
                              upload_parse_concurrency=slots))
    ctx: AppContext = app.state.ctx
    sql = SqlBackend("seed", url)

    async def main() -> None:
        try:
            await work(ctx, sql)
        finally:
            await sql.aclose()
            await ctx.db.dispose()

    asyncio.run(main())


async def new_map(ctx: AppContext, sql: SqlBackend, **fields: Any) -> Any:
    owner = await sql.add_user()
    public_id = await add_map(sql, owner, **fields)
    async with ctx.db.transaction(readonly=True) as store:
        return await store.maps.by_public_id(public_id)


async def picture_row(ctx: AppContext, map_id: int, kind: str) -> bytes | None:
    async with ctx.db.transaction(readonly=True) as store:
        return await SqlMapPictures(store.conn).get(map_id=map_id, kind=kind)


async def picture_kinds(ctx: AppContext, map_id: int) -> list[str]:
    async with ctx.db.transaction(readonly=True) as store:
        rows = await store.conn.execute(
            select(map_files.c.kind).where(map_files.c.map_id == map_id))
        return sorted(row.kind for row in rows)


def test_svg_is_drawn_once_then_read_from_its_row(database_url: str) -> None:
    async def work(ctx: AppContext, sql: SqlBackend) -> None:
        record = await new_map(ctx, sql, title="Garden & <plans>", format="freemind", outline=[
            topic("Garden", topic("Vegetables"), topic("Herbs"))])
        assert await picture_row(ctx, record.id, SVG_KIND) is None
        svg = await map_svg(ctx, record)
        assert svg is not None and svg.startswith("<svg") and svg.endswith("</svg>")
        assert "<title>Mind map: Garden &amp; &lt;plans&gt;</title>" in svg
        assert ">Vegetables</text>" in svg and 'data-topics="3"' in svg
        row = await picture_row(ctx, record.id, SVG_KIND)
        assert row is not None and row.endswith(svg.encode())
        # What a second call returns comes from the row, not from a new drawing.
        stamp = row.partition(b"\n")[0]
        async with ctx.db.transaction() as store:
            await SqlMapPictures(store.conn).put(map_id=record.id, kind=SVG_KIND, replace=True,
                                                 content=stamp + b"\n<svg>kept</svg>")
        assert await map_svg(ctx, record) == "<svg>kept</svg>"
        assert await picture_kinds(ctx, record.id) == ["map", SVG_KIND]

    run(database_url, work)


def test_a_renamed_map_gets_a_picture_with_its_new_title(database_url: str) -> None:
    async def work(ctx: AppContext, sql: SqlBackend) -> None:
        record = await new_map(ctx, sql, title="Old name", outline=[topic("Root")])
        first = await map_svg(ctx, record)
        assert first is not None and "Mind map: Old name" in first
        async with ctx.db.transaction() as store:
            assert await store.maps.update(record.id, now=record.updated_at + 5, title="New name")
            renamed = await store.maps.by_public_id(record.public_id)
        assert renamed is not None
        second = await map_svg(ctx, renamed)
        assert second is not None and "Mind map: New name" in second and "Old name" not in second
        row = await picture_row(ctx, record.id, SVG_KIND)
        assert row is not None and row.endswith(second.encode())
        # A request still holding the old record draws the old title, but never shows the
        # new record a stale picture: the stamp tells them apart.
        assert "Old name" in (await map_svg(ctx, record) or "")
        assert "New name" in (await map_svg(ctx, renamed) or "")

    run(database_url, work)


def test_maps_too_big_to_show_inline_have_no_svg(database_url: str) -> None:
    async def work(ctx: AppContext, sql: SqlBackend) -> None:
        many = await new_map(ctx, sql, title="Many", outline=[topic("Root")])
        many = replace(many, topic_count=map_pictures.MAX_INLINE_TOPICS + 1)
        assert await map_svg(ctx, many) is None
        assert await picture_row(ctx, many.id, SVG_KIND) is None  # not even drawn
        # Few topics, but long titles: the SVG passes MAX_INLINE_SVG_BYTES.
        long_titles = [topic("Root", *[topic(f"{n} " + "word " * 399) for n in range(800)])]
        heavy = await new_map(ctx, sql, title="Heavy", outline=long_titles)
        assert await map_svg(ctx, heavy) is None
        row = await picture_row(ctx, heavy.id, SVG_KIND)
        assert row is not None and row.partition(b"\n")[2] == b""  # remembered: not redrawn
        assert await map_svg(ctx, heavy) is None
        whole = await map_pictures.full_svg(ctx, heavy)
        assert len(whole.encode()) > map_pictures.MAX_INLINE_SVG_BYTES

    run(database_url, work)


def test_requests_racing_to_draw_all_succeed_and_one_row_is_kept(database_url: str) -> None:
    async def work(ctx: AppContext, sql: SqlBackend) -> None:
        sheet = generated(400, seed=7)
        record = await new_map(ctx, sql, title="Raced", format="freemind",
                               outline=[sheet.to_json()])
        svgs = await asyncio.gather(*(map_svg(ctx, record) for _ in range(6)))
        pngs = await asyncio.gather(*(map_png(ctx, record) for _ in range(6)))
        assert svgs[0] is not None and len(set(svgs)) == 1
        assert len(set(pngs)) == 1
        assert await picture_kinds(ctx, record.id) == ["map", PNG_KIND, SVG_KIND]
        # Two units of work writing the same row at once: neither fails, the first is kept.
        async def put(content: bytes) -> bool:
            async with ctx.db.transaction() as store:
                return await SqlMapPictures(store.conn).put(map_id=record.id, kind="picture.x",
                                                            content=content)
        written = await asyncio.gather(put(b"one"), put(b"two"))
        assert sorted(written) == [False, True]
        kept = await picture_row(ctx, record.id, "picture.x")
        assert kept == (b"one" if written[0] else b"two")

    run(database_url, work, slots=6)


def test_png_is_the_uploaded_thumbnail_else_one_drawn_and_kept(database_url: str) -> None:
    async def work(ctx: AppContext, sql: SqlBackend) -> None:
        plain = await new_map(ctx, sql, title="Plain", format="opml", outline=[
            topic("Trip", topic("Pack"), topic("Book"), topic("旅行"))])
        assert not plain.has_thumbnail
        png = await map_png(ctx, plain)
        with Image.open(io.BytesIO(png)) as image:
            assert image.format == "PNG"
            assert image.size == (map_pictures.THUMBNAIL_WIDTH, map_pictures.THUMBNAIL_HEIGHT)
            assert len(image.convert("RGB").getcolors(1 << 16) or ()) > 2  # something was drawn
        assert await picture_row(ctx, plain.id, PNG_KIND) == png
        assert await map_png(ctx, plain) == png
        # A map that brought its own thumbnail gets that one, byte for byte, and nothing drawn.
        owner = await sql.add_user()
        brought = make_png(32, 20)
        async with ctx.db.transaction() as store:
            await store.maps.create(
                public_id="thumbmap1a", slug="t", title="T", description="", owner_id=owner.id,
                client_pk=None, format="xmind", filename="t.xmind",
                media_type="application/vnd.xmind.workbook", content=b"PK",
                thumbnail=brought, outline=json.dumps([Topic("T").to_json()]), topic_count=1,
                now=1)
            with_thumb = await store.maps.by_public_id("thumbmap1a")
        assert with_thumb is not None
        assert await map_png(ctx, with_thumb) == brought
        assert await picture_row(ctx, with_thumb.id, PNG_KIND) is None

    run(database_url, work)


def test_deleting_a_map_deletes_its_pictures(database_url: str) -> None:
    async def work(ctx: AppContext, sql: SqlBackend) -> None:
        record = await new_map(ctx, sql, title="Short-lived", format="markdown",
                               outline=[topic("Root", topic("Leaf"))])
        await map_svg(ctx, record)
        await map_png(ctx, record)
        assert await picture_kinds(ctx, record.id) == ["map", PNG_KIND, SVG_KIND]
        async with ctx.db.transaction() as store:
            assert await store.maps.delete(record.id)
        assert await picture_kinds(ctx, record.id) == []
        # A drawing that finishes after the deletion keeps nothing, and does not fail.
        async with ctx.db.transaction() as store:
            assert not await SqlMapPictures(store.conn).put(map_id=record.id, kind=SVG_KIND,
                                                            content=b"late")
        assert await picture_kinds(ctx, record.id) == []

    run(database_url, work)

