"""Sharing a mind map: ``POST /maps`` (scope ``maps``), as the original clients and the XMind
plug-in do, with optional tags, visibility and category; and the pipeline it shares with the
site's upload form (routes/map_upload_page.py): read the form, check its fields, parse the file
in a worker thread under ``parse_slots``, store the map.

The pipeline refuses with ``UploadRefused`` (nothing stored): the API answers it in its JSON
error shape, the site's form beside the field it names."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from openplate.library import MapRejected, ParsedMap, UploadLimits
from openplate.library.slugs import new_public_id, slugify
from openplate.store import map_fields
from openplate.store.map_fields import (
    MAX_DESCRIPTION_CHARS,
    MAX_TITLE_CHARS,
    InvalidField,
    clean_text,
)
from openplate.store.map_records import MapRecord
from openplate.web.context import AppContext, context_of, now
from openplate.web.errors import error_json
from openplate.web.middleware import BodyTooLarge
from openplate.web.replies import to_response
from openplate.web.routes.bearer_auth import Authorization, check_bearer
from openplate.web.routes.map_json import MapCreated, category_json, map_urls
from openplate.web.routes.maps_errors import field_refusal

router = APIRouter(tags=["api"])

MAPS_OPENAPI = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["map"],
                    "properties": {
                        "title": {"type": "string", "maxLength": MAX_TITLE_CHARS},
                        "description": {"type": "string", "maxLength": MAX_DESCRIPTION_CHARS},
                        "map": {"type": "string", "format": "binary",
                                "description": "An .xmind workbook or a FreeMind/Freeplane .mm file."},
                        "tags": {"type": "string", "description":
                                 "Comma-separated, at most 10 (see docs/library-search.md)."},
                        "visibility": {"type": "string", "enum": list(map_fields.VISIBILITIES),
                                       "default": "public"},
                        "category": {"type": "string", "description": "A category's slug."},
                    },
                }
            }
        },
    },
    "responses": {
        "400": {"description": "Missing or malformed fields (the description names the field)."},
        "401": {"description": "Missing or invalid access token."},
        "403": {"description": "The token lacks the maps scope."},
        "413": {"description": "The file is too large."},
        "415": {"description": "Not a mind map."},
        "422": {"description": "A damaged or unsafe mind map."},
    },
}

#: The text fields a sharing form may carry, besides the file part ``map``.
TEXT_FIELDS = ("title", "description", "tags", "visibility", "category")


class UploadRefused(Exception):
    """An upload refused before anything was stored.

    ``status``, ``error`` and ``description`` are what the API answers; ``field`` is the form
    field it is about (``map`` for the file, None for the form as a whole), and ``named`` says
    whether the API's answer names it (its ``field`` member). ``message`` is the description
    without the field's name in front, for a page that shows it beside the field."""

    def __init__(self, status: int, error: str, description: str, *, field: str | None,
                 named: bool = False, message: str | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description
        self.field = field
        self.named = named
        self.message = message or description

    @classmethod
    def of_field(cls, refused: InvalidField) -> UploadRefused:
        return cls(400, "invalid_request", str(refused), field=refused.field, named=True,
                   message=refused.message)

    @classmethod
    def of_file(cls, rejected: MapRejected) -> UploadRefused:
        return cls(rejected.status, rejected.error, rejected.description, field="map")


@dataclass(frozen=True, slots=True)
class MapUpload:
    """What a sharing form sent: its text fields (absent ones are None; ``extra`` ones too) and
    the file part ``map``: its name as sent and at most ``max_bytes + 1`` of its bytes."""

    fields: dict[str, str | None]
    filename: str | None
    data: bytes


def _text_fields(form: FormData, names: tuple[str, ...]) -> dict[str, str | None]:
    """The form's text fields, each at most once; UploadRefused (400) otherwise."""
    values: dict[str, str | None] = {}
    for name in (*names, "map"):
        if len(form.getlist(name)) > 1:
            raise UploadRefused(400, "invalid_request", f"'{name}' was sent more than once.",
                                field=name, named=True)
    for name in names:
        value = form.get(name)
        if value is not None and not isinstance(value, str):
            raise UploadRefused(400, "invalid_request", f"'{name}' must be a text field.",
                                field=name, named=True)
        values[name] = value
    return values


def upload_limits(ctx: AppContext) -> UploadLimits:
    return UploadLimits(max_bytes=ctx.settings.max_upload_bytes,
                        max_xml_bytes=ctx.settings.max_map_document_bytes)


async def read_map_form(request: Request, ctx: AppContext, *, extra: tuple[str, ...] = (),
                        require_file: bool = True) -> MapUpload:
    """The sharing form of ``request`` (``multipart/form-data``): the text fields of
    ``TEXT_FIELDS`` and ``extra``, and the file. ``UploadRefused`` for a form that is not
    multipart (415), cannot be read, has a field twice or lacks the file part (400; without
    ``require_file``, no file part gives no name and no bytes); ``BodyTooLarge`` (from the
    body limit) passes through."""
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type != "multipart/form-data":
        raise UploadRefused(415, "unsupported_map_format", "Send the map as multipart/form-data.",
                            field=None)
    try:
        form = await request.form(max_files=1, max_fields=8 + len(extra),
                                  max_part_size=64 * 1024)
    except BodyTooLarge:
        raise
    except Exception:  # noqa: BLE001 - any parse failure of the multipart body is the client's
        raise UploadRefused(400, "invalid_request", "The multipart body could not be read.",
                            field=None) from None
    try:
        fields = _text_fields(form, (*TEXT_FIELDS, *extra))
        upload = form.get("map")
        if not isinstance(upload, UploadFile):
            if require_file or upload:  # (an empty text part counts as no file)
                raise UploadRefused(400, "invalid_request", "The file part 'map' is required.",
                                    field="map")
            return MapUpload(fields, None, b"")
        data = await upload.read(ctx.settings.max_upload_bytes + 1)
        return MapUpload(fields, upload.filename, data)
    finally:
        await form.close()


def _choices(fields: dict[str, str | None]) -> tuple[tuple[str, ...], str, str | None]:
    """Tags, visibility and category slug, checked (``InvalidField``); blank means not given."""
    tags = map_fields.normalise_tags(map_fields.split_tags(fields.get("tags") or ""))
    visibility = map_fields.check_visibility((fields.get("visibility") or "").strip() or "public")
    category = (fields.get("category") or "").strip() or None
    if category is not None:
        map_fields.check_category_slug(category)
    return tags, visibility, category


async def parse_map(ctx: AppContext, filename: str | None, data: bytes) -> ParsedMap:
    """Parse and check a map's file in a worker thread, a few at a time (``parse_slots``):
    the map, or ``UploadRefused`` (field ``map``)."""
    from openplate.library.upload import parse_upload  # the parsers load on the first upload

    try:
        async with ctx.parse_slots:  # parsing is CPU- and memory-heavy: a few at a time
            return await asyncio.to_thread(parse_upload, filename, data, upload_limits(ctx))
    except MapRejected as rejected:
        raise UploadRefused.of_file(rejected) from None


def stored_outline(parsed: ParsedMap) -> str:
    """The outline as the ``maps`` row keeps it: a JSON list of sheets."""
    return json.dumps([sheet.to_json() for sheet in parsed.sheets])


async def share_map(ctx: AppContext, upload: MapUpload, *, owner_id: int,
                    client_pk: int | None) -> MapRecord:
    """Check the fields, parse the file (a worker thread, a few at a time) and store the map
    in one unit of work: the new map, or ``UploadRefused`` with nothing stored. A blank title
    takes the first sheet's root topic's."""
    fields = upload.fields
    try:
        tags, visibility, category = _choices(fields)
    except InvalidField as refused:
        raise UploadRefused.of_field(refused) from None
    if category is not None:  # before the parse: an unknown category costs no parsing
        async with ctx.db.transaction(readonly=True) as store:
            if await store.categories.by_slug(category) is None:
                raise UploadRefused.of_field(InvalidField(
                    "category", f"there is no category {category!r}"))
    parsed = await parse_map(ctx, upload.filename, upload.data)
    title = clean_text(fields.get("title") or "", MAX_TITLE_CHARS, multiline=False)
    if not title:
        title = parsed.sheets[0].title[:MAX_TITLE_CHARS]
    description = clean_text(fields.get("description") or "", MAX_DESCRIPTION_CHARS,
                             multiline=True)
    public_id, slug = new_public_id(), slugify(title)
    try:
        async with ctx.db.transaction() as store:
            map_id = await store.maps.create(
                public_id=public_id, slug=slug, title=title, description=description,
                owner_id=owner_id, client_pk=client_pk, format=parsed.format,
                filename=f"{slug}{parsed.extension}", media_type=parsed.media_type,
                content=upload.data, thumbnail=parsed.thumbnail_png,
                outline=stored_outline(parsed),
                topic_count=parsed.topic_count, now=now(), tags=tags, visibility=visibility,
                category=category,
            )
            record = await store.maps.by_public_id(public_id)
    except InvalidField as refused:  # the category went meanwhile: nothing was stored
        raise UploadRefused.of_field(refused) from None
    assert record is not None and record.id == map_id
    return record


def refused_json(refused: UploadRefused) -> Response:
    """The API's answer to a refused upload: its error shape, naming the field when it is one
    of the form's text fields."""
    if refused.named and refused.field is not None:
        return to_response(field_refusal(refused.field, refused.description,
                                         status=refused.status))
    return error_json(refused.status, refused.error, refused.description)


@router.post(
    "/maps", status_code=201, response_model=MapCreated, summary="Share a mind map (scope: maps)",
    openapi_extra=MAPS_OPENAPI,
)
async def upload_map(request: Request, authorization: Authorization) -> Response:
    ctx = context_of(request)
    async with ctx.db.transaction(readonly=True) as store:
        principal = await check_bearer(ctx, store, authorization, scope="maps")
    try:
        upload = await read_map_form(request, ctx)
        record = await share_map(ctx, upload, owner_id=principal.user_id,
                                 client_pk=principal.client_pk)
    except UploadRefused as refused:
        return refused_json(refused)
    body = created_json(ctx, record)
    return JSONResponse(body, status_code=201, headers={"Location": body["url"]})


def created_json(ctx: AppContext, record: MapRecord) -> dict[str, Any]:
    """``MapCreated``: what sharing a map answers (``POST /maps``, the MCP tool create_map)."""
    body = {
        "id": record.public_id, "title": record.title, "description": record.description,
        "format": record.format,
        **map_urls(ctx, record.public_id, record.slug, record.has_thumbnail),
        "visibility": record.visibility, "tags": list(record.tags),
        "category": category_json(record.category_slug, record.category_name),
    }
    return MapCreated.model_validate(body).model_dump()
