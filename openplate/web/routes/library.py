"""The public library: the home page of latest maps, each map's page and its files."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from openplate.library import Topic
from openplate.store.map_records import MapRecord
from openplate.web.context import context_of
from openplate.web.map_pictures import map_png
from openplate.web.pages import Visitor, error_page, render, take_notice, visitor

router = APIRouter(include_in_schema=False)

PUBLIC_ID = re.compile(r"[0-9a-z]{6,16}")
PUBLIC_CACHE = {"Cache-Control": "public, max-age=300"}
PRIVATE_CACHE = {"Cache-Control": "private, no-cache"}


def _may_see(record: MapRecord, who: Visitor) -> bool:
    """A private map is its owner's alone: anyone else gets the 404 of a map that is not there.
    Unlisted maps are open to whoever has the link."""
    return record.visibility != "private" or (who.user is not None and who.user.id == record.owner_id)


@router.get("/")
async def home(request: Request) -> Response:
    ctx = context_of(request)
    async with ctx.db.transaction(readonly=True) as store:
        who = await visitor(request, ctx, store, create=False)
        latest = await store.maps.latest(limit=24)
    if who.session is not None and who.session.flash is not None:
        # A notice (the account was deleted): only then does the home page write.
        async with ctx.db.transaction() as store:
            await take_notice(ctx, store, who)
    return render(ctx, "home.html", who, maps=latest)


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
    sheets = [Topic.from_json(item) for item in json.loads(record.outline)]
    created = datetime.fromtimestamp(record.created_at, UTC).strftime("%d %B %Y")
    return render(ctx, "map.html", who, map=record, sheets=sheets, created=created)


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
    cache = PUBLIC_CACHE if record.visibility != "private" else PRIVATE_CACHE
    if name == "thumbnail.png":
        return Response(await map_png(ctx, record), media_type="image/png", headers=cache)
    disposition = f'attachment; filename="{record.filename}"'
    return Response(
        content, media_type=record.media_type,
        headers={**cache, "Content-Disposition": disposition},
    )
