"""A map's exports: ``GET /maps/{id}/export?format=`` (API) and ``/mindmaps/{id}/export/{fmt}``
(the site), in OPML, Markdown, FreeMind, JSON, SVG or PNG.

Both routes answer through ``export_response``: the same bytes, media type, download name
(``<slug>.<ext>``) and ``ETag``. They differ only in who may see the map: the API reads an
optional bearer token as ``GET /maps/{id}/file`` does (maps_api.py), the site the visitor's
session; a private map is its owner's alone and a 404 for anyone else.

The outline formats are written by ``export_map`` in a worker thread under ``ctx.parse_slots``
(CPU work), every time: they cost tens of milliseconds for 5,000 topics. The SVG and the PNG are
the map's pictures (web/map_pictures.py), drawn once and kept. The ``ETag`` comes from what
decides the bytes (the map, its title and last change, the format, the code's version), so a
``304`` is answered without exporting anything.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from openplate import __version__
from openplate.library.export import EXPORT_FORMATS, export_map
from openplate.library.model import Topic
from openplate.store.map_records import MapRecord
from openplate.web.context import AppContext, context_of
from openplate.web.map_headers import file_headers
from openplate.web.map_pictures import map_png, sheets_of, svg_bytes
from openplate.web.pages import error_page, visitor
from openplate.web.replies import Refusal
from openplate.web.routes.bearer_auth import Authorization
from openplate.web.routes.library import _may_see
from openplate.web.routes.maps_api import _visible  # the API's visibility rule, token and all
from openplate.web.routes.maps_errors import field_refusal

router = APIRouter(tags=["api"])

PUBLIC_ID = re.compile(r"[0-9a-z]{6,16}")


@dataclass(frozen=True)
class ExportKind:
    """One ``format`` an export takes: what it is, its file extension and media type."""

    label: str
    extension: str
    media_type: str


#: Every export format, by the name ``?format=`` and the site's URL take.
EXPORTS: dict[str, ExportKind] = {
    **{name: ExportKind(kind.label, kind.extension, kind.media_type)
       for name, kind in EXPORT_FORMATS.items()},
    "svg": ExportKind("SVG picture", ".svg", "image/svg+xml"),
    "png": ExportKind("PNG thumbnail", ".png", "image/png"),
}
ALLOWED = ", ".join(EXPORTS)


def export_etag(record: MapRecord, fmt: str) -> str:
    """A strong validator for the export: the same for the same bytes as long as the map's
    title, its last change and this code's version stay (the outline never changes)."""
    basis = "\0".join((__version__, record.public_id, str(record.updated_at), record.title, fmt,
                       str(record.has_thumbnail)))
    return '"' + hashlib.sha256(basis.encode("utf-8", "surrogatepass")).hexdigest()[:32] + '"'


def _matches(if_none_match: str, etag: str) -> bool:
    """RFC 9110 §13.1.2: weak comparison, any of a list, or ``*``."""
    tags = [tag.strip() for tag in if_none_match.split(",")]
    return any(tag == "*" or tag.removeprefix("W/") == etag for tag in tags)


def _outline_export(record: MapRecord, fmt: str) -> bytes:
    sheets = sheets_of(record) or [Topic(record.title)]
    return export_map(sheets, fmt, title=record.title).content


async def export_bytes(ctx: AppContext, record: MapRecord, fmt: str) -> bytes:
    """The export of ``record`` as ``fmt`` (a key of ``EXPORTS``)."""
    if fmt == "svg":
        return await svg_bytes(ctx, record)
    if fmt == "png":
        return await map_png(ctx, record)
    async with ctx.parse_slots:
        return await asyncio.to_thread(_outline_export, record, fmt)


async def export_response(ctx: AppContext, request: Request, record: MapRecord, fmt: str, *,
                          vary: str) -> Response:
    """The answer to an export request for a map the caller may see: the file as a download,
    or ``304`` when ``If-None-Match`` holds its ``ETag``. ``fmt`` is a key of ``EXPORTS``."""
    kind = EXPORTS[fmt]
    etag = export_etag(record, fmt)
    headers = {"ETag": etag, **file_headers(record), "Vary": vary}
    if _matches(request.headers.get("if-none-match", ""), etag):
        return Response(status_code=304, headers=headers)
    content = await export_bytes(ctx, record, fmt)
    headers["Content-Disposition"] = f'attachment; filename="{record.slug}{kind.extension}"'
    headers["X-Content-Type-Options"] = "nosniff"
    return Response(content, media_type=kind.media_type, headers=headers)


def _format_of(request: Request) -> str:
    """``?format=``, given once and one of ``EXPORTS``; Refusal (400) otherwise."""
    values = request.query_params.getlist("format")
    if len(values) > 1:
        raise Refusal(field_refusal("format", "format: 'format' was sent more than once"))
    if not values or values[0] not in EXPORTS:
        given = "is missing" if not values else "is not one the library exports"
        raise Refusal(field_refusal("format", f"format: the format {given}; "
                                              f"it must be one of {ALLOWED}"))
    return values[0]


_EXPORT_OPENAPI: dict[str, Any] = {
    "parameters": [{
        "name": "format", "in": "query", "required": True,
        "description": "opml (OPML 2.0), md (Markdown outline), mm (FreeMind), json (the "
                       "outline as JSON), svg (the map's picture), png (its thumbnail).",
        "schema": {"type": "string", "enum": list(EXPORTS)}}],
    "security": [{}],
}
_EXPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "The export as a download (`Content-Disposition: attachment`), with "
                         "an `ETag`.",
          "content": {kind.media_type: {"schema": {"type": "string", "format": "binary"}}
                      for kind in EXPORTS.values()}},
    304: {"description": "Not modified: `If-None-Match` held the export's `ETag`."},
    400: {"description": "`format` is missing, repeated or unknown (`field` is `format`), or a "
                         "malformed Authorization header."},
    401: {"description": "An access token was sent and is invalid, expired or revoked."},
    403: {"description": "The token lacks the maps scope."},
    404: {"description": "No such map, or one the caller may not see."},
}


@router.get(
    "/maps/{public_id}/export", summary="A map exported as OPML, Markdown, FreeMind, JSON, SVG "
                                        "or PNG",
    description="Public and unlisted maps need no token; a private map needs its owner's token "
                "(scope maps). Send the `ETag` back in `If-None-Match` for a `304`.",
    response_class=Response, responses=_EXPORT_RESPONSES, openapi_extra=_EXPORT_OPENAPI,
)
async def export_map_api(request: Request, public_id: str,
                         authorization: Authorization) -> Response:
    ctx = context_of(request)
    fmt = _format_of(request)
    record = await _visible(ctx, request, public_id, authorization)
    return await export_response(ctx, request, record, fmt, vary="Authorization")


@router.get("/mindmaps/{public_id}/export/{fmt}", include_in_schema=False)
async def export_map_page(request: Request, public_id: str, fmt: str) -> Response:
    """The site's download buttons: the same export, for whoever the session says is asking."""
    ctx = context_of(request)
    if fmt not in EXPORTS or not PUBLIC_ID.fullmatch(public_id):
        return error_page(ctx, None, status=404, title="Not found", message="No such file.")
    async with ctx.db.transaction(readonly=True) as store:
        who = await visitor(request, ctx, store, create=False)
        record = await store.maps.by_public_id(public_id)
    if record is None or not _may_see(record, who):
        return error_page(ctx, None, status=404, title="Not found", message="No such file.")
    return await export_response(ctx, request, record, fmt, vary="Cookie")
