"""The public library: the home page, each map's page and its files.

The home page says what the library is and shows a search box, the newest and the most viewed
public maps (each list continues on the search page, from where it stopped) and the categories.
A map's page shows its picture (zoom, pan and folding with /static/mapview.js), its outline
(the whole map without JavaScript, and for screen readers), its facts, downloads in every
format, and to its owner the links to change or delete it. Views are counted once per viewer
and day (web/map_views.py).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from openplate.library.formats import FORMATS
from openplate.store.map_records import MapQuery, MapRecord
from openplate.web.context import context_of
from openplate.web.map_headers import file_headers, robots_headers
from openplate.web.map_pictures import map_png, map_svg
from openplate.web.map_views import count_view
from openplate.web.outline_html import outline_html
from openplate.web.pages import Visitor, error_page, render, take_notice, visitor
from openplate.web.routes.library_lists import HOME_SIZE, list_page

router = APIRouter(include_in_schema=False)

PUBLIC_ID = re.compile(r"[0-9a-z]{6,16}")
#: The downloads a map page offers besides the original file: each export format
#: (``/mindmaps/{id}/export/{fmt}``, routes/maps_export.py) and what its link says.
EXPORTS: tuple[tuple[str, str], ...] = (
    ("opml", "OPML outline (.opml)"), ("md", "Markdown outline (.md)"),
    ("mm", "FreeMind / Freeplane (.mm)"), ("json", "JSON outline (.json)"),
    ("svg", "Picture as SVG (.svg)"), ("png", "Picture as PNG (.png)"))


def _may_see(record: MapRecord, who: Visitor) -> bool:
    """A private map is its owner's alone: anyone else gets the 404 of a map that is not there.
    Unlisted maps are open to whoever has the link."""
    return record.visibility != "private" or (who.user is not None and who.user.id == record.owner_id)


@router.get("/")
async def home(request: Request) -> Response:
    ctx = context_of(request)
    async with ctx.db.transaction(readonly=True) as store:
        who = await visitor(request, ctx, store, create=False)
        newest = await list_page(store, MapQuery(), path="/search", pairs=[], cursor=None,
                                 limit=HOME_SIZE)
        viewed = await list_page(store, MapQuery(order="views"), path="/search",
                                 pairs=[("sort", "views")], cursor=None, limit=HOME_SIZE)
        categories = await store.categories.counted()
    if who.session is not None and who.session.flash is not None:
        # A notice (the account was deleted): only then does the home page write.
        async with ctx.db.transaction() as store:
            await take_notice(ctx, store, who)
    return render(ctx, "home.html", who, newest=newest, viewed=viewed, categories=categories)


async def _map_page(request: Request, public_id: str, slug: str | None) -> Response:
    ctx = context_of(request)
    async with ctx.db.transaction(readonly=True) as store:
        who = await visitor(request, ctx, store, create=False)
        record = await store.maps.by_public_id(public_id) if PUBLIC_ID.fullmatch(public_id) else None
    if record is None or not _may_see(record, who):
        return error_page(ctx, who, status=404, title="Map not found",
                          message="There is no map at this address.")
    if slug != record.slug:
        return RedirectResponse(f"/mindmaps/{record.public_id}/{record.slug}", status_code=301)
    if who.session is not None and who.session.flash is not None:
        # A notice ("Your map is shared", "Saved"): only then does the page write for it.
        async with ctx.db.transaction() as store:
            await take_notice(ctx, store, who)
    views = record.view_count + (1 if await count_view(ctx, request, who, record) else 0)
    svg = await map_svg(ctx, record)
    created = datetime.fromtimestamp(record.created_at, UTC)
    updated = datetime.fromtimestamp(record.updated_at, UTC)
    source = FORMATS.get(record.format)
    page = render(
        ctx, "map.html", who, map=record, outline=outline_html(json.loads(record.outline)),
        svg=svg, views=views, created=created.strftime("%d %B %Y").lstrip("0"),
        created_iso=created.strftime("%Y-%m-%d"),
        updated=(updated.strftime("%d %B %Y").lstrip("0")
                 if record.updated_at > record.created_at + 60 else None),
        format_label=source.label if source is not None else record.format,
        exports=EXPORTS,
        owner=who.user is not None and who.user.id == record.owner_id,
    )
    page.headers.update(robots_headers(record))
    return page


@router.get("/mindmaps/{public_id}")
async def map_page_short(request: Request, public_id: str) -> Response:
    return await _map_page(request, public_id, None)


@router.get("/mindmaps/{public_id}/{slug}")
async def map_page(request: Request, public_id: str, slug: str) -> Response:
    return await _map_page(request, public_id, slug)


@router.get("/mindmaps/{public_id}/files/{name}")
async def map_file(request: Request, public_id: str, name: str) -> Response:
    """``map``: the original upload. ``thumbnail.png``: every map's thumbnail, the one its
    upload brought or one drawn from its outline (web/map_pictures.py)."""
    ctx = context_of(request)
    if name not in ("map", "thumbnail.png") or not PUBLIC_ID.fullmatch(public_id):
        return error_page(ctx, None, status=404, title="Not found", message="No such file.")
    async with ctx.db.transaction(readonly=True) as store:
        who = await visitor(request, ctx, store, create=False)
        record = await store.maps.by_public_id(public_id)
        content = (await store.maps.file(map_id=record.id, kind="map")
                   if record is not None and name == "map" else None)
    if record is None or not _may_see(record, who) or (name == "map" and content is None):
        return error_page(ctx, None, status=404, title="Not found", message="No such file.")
    cache = file_headers(record)
    if name == "thumbnail.png":
        return Response(await map_png(ctx, record), media_type="image/png", headers=cache)
    disposition = f'attachment; filename="{record.filename}"'
    return Response(
        content, media_type=record.media_type,
        headers={**cache, "Content-Disposition": disposition},
    )
