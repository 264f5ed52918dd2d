"""A map's pictures for the site and the API: its SVG and its PNG thumbnail, made once and kept.

Rendering is CPU work (an SVG costs about 250 ms for 5,000 topics), so a picture is drawn on
first use, in a worker thread under ``ctx.parse_slots``, and kept as a ``map_files`` row of its
own kind, written in a short unit of work of its own; every later request reads that row.

- ``picture.svg``: ``render_svg`` of the outline, titled with the map's title. The row holds a
  stamp of the title the picture was drawn with, a newline, then the SVG (UTF-8). A row whose
  stamp is not the map's current title (the owner renamed the map) is drawn again and
  replaced, so the cache never shows an old title. An empty SVG after the stamp records that
  the picture is too big to show inline (see the limits below), so it is not drawn again.
- ``picture.png``: ``render_png`` of the outline, 640 × 400, for a map that brought no
  thumbnail of its own (an uploaded thumbnail is the ``thumbnail`` row and is served as is).
  It does not show the title, and an outline never changes, so it never goes stale.

Two requests that draw the same picture at once both succeed: the first row written is kept
(insert if absent). Deleting a map deletes its pictures with its other files.

Call these outside any unit of work: they open their own.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Sequence

from openplate.library.model import Topic
from openplate.store.map_picture_repos import SqlMapPictures
from openplate.store.map_records import MapRecord
from openplate.web.context import AppContext

#: The ``map_files`` kinds of the cached pictures, and of a thumbnail the upload brought.
SVG_KIND = "picture.svg"
PNG_KIND = "picture.png"
UPLOADED_THUMBNAIL_KIND = "thumbnail"

#: A map with more topics than this is not drawn inline: ``map_svg`` gives None at once.
MAX_INLINE_TOPICS = 3_000
#: An SVG larger than this (UTF-8 bytes) is not shown inline either (``map_svg`` gives None).
MAX_INLINE_SVG_BYTES = 1_500_000
#: The size of a drawn thumbnail, in pixels.
THUMBNAIL_WIDTH = 640
THUMBNAIL_HEIGHT = 400


def sheets_of(record: MapRecord) -> list[Topic]:
    """The map's sheets (root topics) from its stored outline; none if it cannot be read."""
    try:
        return [Topic.from_json(item) for item in json.loads(record.outline)]
    except (ValueError, TypeError):
        return []


def _stamp(title: str) -> bytes:
    return hashlib.sha256(title.encode("utf-8", "surrogatepass")).hexdigest()[:32].encode()


def _draw_svg(record: MapRecord) -> str:
    from openplate.library.picture import render_svg  # the layout code loads on first use

    return render_svg(sheets_of(record), title=record.title)


def _draw_png(record: MapRecord) -> bytes:
    from openplate.library.picture import render_png

    return render_png(sheets_of(record), width=THUMBNAIL_WIDTH, height=THUMBNAIL_HEIGHT)


def _read_svg(row: bytes | None, stamp: bytes) -> bytes | None:
    """The cached SVG bytes (empty: too big) if ``row`` was drawn with this title's stamp."""
    if row is None:
        return None
    head, _, svg = row.partition(b"\n")
    return svg if head == stamp else None


async def _cached(ctx: AppContext, map_id: int, kinds: Sequence[str]) -> list[bytes | None]:
    async with ctx.db.transaction(readonly=True) as store:
        pictures = SqlMapPictures(store.conn)
        return [await pictures.get(map_id=map_id, kind=kind) for kind in kinds]


async def _keep(ctx: AppContext, map_id: int, kind: str, content: bytes, *,
                replace: bool) -> None:
    async with ctx.db.transaction() as store:
        await SqlMapPictures(store.conn).put(map_id=map_id, kind=kind, content=content,
                                             replace=replace)


async def map_svg(ctx: AppContext, record: MapRecord) -> str | None:
    """The map's picture as an SVG document (``render_svg``, titled with the map's title), or
    None when it is too big to show inline: more than ``MAX_INLINE_TOPICS`` topics, or an SVG
    over ``MAX_INLINE_SVG_BYTES``. Drawn once, then read from the ``picture.svg`` row."""
    if record.topic_count > MAX_INLINE_TOPICS:
        return None
    stamp = _stamp(record.title)
    (row,) = await _cached(ctx, record.id, [SVG_KIND])
    found = _read_svg(row, stamp)
    if found is None:
        async with ctx.parse_slots:  # drawing is CPU work: a few at a time, off the event loop
            (row,) = await _cached(ctx, record.id, [SVG_KIND])  # drawn while we waited?
            found = _read_svg(row, stamp)
            if found is None:
                drawn = (await asyncio.to_thread(_draw_svg, record)).encode("utf-8")
                found = drawn if len(drawn) <= MAX_INLINE_SVG_BYTES else b""
                await _keep(ctx, record.id, SVG_KIND, stamp + b"\n" + found,
                            replace=row is not None)
    return found.decode("utf-8") if found else None


async def full_svg(ctx: AppContext, record: MapRecord) -> str:
    """The map's SVG whatever its size: the cached one when ``map_svg`` has it, else drawn now
    (and not kept: only the SVG export asks for a picture this big)."""
    inline = await map_svg(ctx, record)
    if inline is not None:
        return inline
    async with ctx.parse_slots:
        return await asyncio.to_thread(_draw_svg, record)


async def map_png(ctx: AppContext, record: MapRecord) -> bytes:
    """The map's PNG thumbnail: the one its upload brought, else one drawn from its outline
    (``render_png``, 640 × 400), drawn once and then read from the ``picture.png`` row."""
    kinds = [UPLOADED_THUMBNAIL_KIND, PNG_KIND] if record.has_thumbnail else [PNG_KIND]
    for found in await _cached(ctx, record.id, kinds):
        if found is not None:
            return found
    async with ctx.parse_slots:
        (found,) = await _cached(ctx, record.id, [PNG_KIND])
        if found is not None:
            return found
        drawn = await asyncio.to_thread(_draw_png, record)
        await _keep(ctx, record.id, PNG_KIND, drawn, replace=False)
    return drawn
