"""``POST /maps``: share a mind map (scope ``maps``), as the original clients and the XMind
plug-in do, with optional tags, visibility and category."""

from __future__ import annotations

import asyncio
import json

from fastapi import APIRouter
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from openplate.library import MapRejected, UploadLimits
from openplate.library.slugs import new_public_id, slugify
from openplate.store import map_fields
from openplate.store.map_fields import (
    MAX_DESCRIPTION_CHARS,
    MAX_TITLE_CHARS,
    InvalidField,
    clean_text,
)
from openplate.web.context import context_of, now
from openplate.web.errors import error_json
from openplate.web.middleware import BodyTooLarge
from openplate.web.replies import Refusal, to_response
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

_TEXT_FIELDS = ("title", "description", "tags", "visibility", "category")


def _text_fields(form: FormData) -> dict[str, str | None]:
    """The form's text fields, each at most once; Refusal (400) otherwise."""
    values: dict[str, str | None] = {}
    for name in (*_TEXT_FIELDS, "map"):
        if len(form.getlist(name)) > 1:
            raise Refusal(field_refusal(name, f"'{name}' was sent more than once."))
    for name in _TEXT_FIELDS:
        value = form.get(name)
        if value is not None and not isinstance(value, str):
            raise Refusal(field_refusal(name, f"'{name}' must be a text field."))
        values[name] = value
    return values


def _choices(fields: dict[str, str | None]) -> tuple[tuple[str, ...], str, str | None]:
    """Tags, visibility and category slug, checked (``InvalidField``); blank means not given."""
    tags = map_fields.normalise_tags(map_fields.split_tags(fields["tags"] or ""))
    visibility = map_fields.check_visibility((fields["visibility"] or "").strip() or "public")
    category = (fields["category"] or "").strip() or None
    if category is not None:
        map_fields.check_category_slug(category)
    return tags, visibility, category


@router.post(
    "/maps", status_code=201, response_model=MapCreated, summary="Share a mind map (scope: maps)",
    openapi_extra=MAPS_OPENAPI,
)
async def upload_map(request: Request, authorization: Authorization) -> Response:
    ctx = context_of(request)
    async with ctx.db.transaction(readonly=True) as store:
        principal = await check_bearer(ctx, store, authorization, scope="maps")
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type != "multipart/form-data":
        return error_json(415, "unsupported_map_format", "Send the map as multipart/form-data.")
    try:
        form = await request.form(max_files=1, max_fields=8, max_part_size=64 * 1024)
    except BodyTooLarge:
        raise
    except Exception:  # noqa: BLE001 - any parse failure of the multipart body is the client's
        return error_json(400, "invalid_request", "The multipart body could not be read.")
    try:
        fields = _text_fields(form)
        upload = form.get("map")
        if not isinstance(upload, UploadFile):
            return error_json(400, "invalid_request", "The file part 'map' is required.")
        try:
            tags, visibility, category = _choices(fields)
        except InvalidField as refused:
            raise Refusal(field_refusal(refused.field, str(refused))) from None
        limits = UploadLimits(
            max_bytes=ctx.settings.max_upload_bytes,
            max_xml_bytes=ctx.settings.max_map_document_bytes,
        )
        data = await upload.read(limits.max_bytes + 1)
        filename = upload.filename
    finally:
        await form.close()
    if category is not None:  # before the parse: an unknown category costs no parsing
        async with ctx.db.transaction(readonly=True) as store:
            if await store.categories.by_slug(category) is None:
                raise Refusal(field_refusal("category", f"category: there is no category "
                                                        f"{category!r}"))
    from openplate.library.upload import parse_upload  # the parsers load on the first upload

    try:
        async with ctx.parse_slots:  # parsing is CPU- and memory-heavy: a few at a time
            parsed = await asyncio.to_thread(parse_upload, filename, data, limits)
    except MapRejected as rejected:
        return error_json(rejected.status, rejected.error, rejected.description)
    title = clean_text(fields["title"] or "", MAX_TITLE_CHARS, multiline=False)
    if not title:
        title = parsed.sheets[0].title[:MAX_TITLE_CHARS]
    description = clean_text(fields["description"] or "", MAX_DESCRIPTION_CHARS, multiline=True)
    public_id, slug = new_public_id(), slugify(title)
    download_name = f"{slug}{parsed.extension}"
    try:
        async with ctx.db.transaction() as store:
            map_id = await store.maps.create(
                public_id=public_id, slug=slug, title=title, description=description,
                owner_id=principal.user_id, client_pk=principal.client_pk, format=parsed.format,
                filename=download_name, media_type=parsed.media_type, content=data,
                thumbnail=parsed.thumbnail_png,
                outline=json.dumps([sheet.to_json() for sheet in parsed.sheets]),
                topic_count=parsed.topic_count, now=now(), tags=tags, visibility=visibility,
                category=category,
            )
            record = await store.maps.by_public_id(public_id)
    except InvalidField as refused:  # the category went meanwhile: nothing was stored
        return _refused(refused)
    assert record is not None and record.id == map_id
    body = {
        "id": public_id, "title": title, "description": description, "format": parsed.format,
        **map_urls(ctx, public_id, slug, parsed.thumbnail_png is not None),
        "visibility": record.visibility, "tags": list(record.tags),
        "category": category_json(record.category_slug, record.category_name),
    }
    return JSONResponse(MapCreated.model_validate(body).model_dump(), status_code=201,
                        headers={"Location": body["url"]})


def _refused(refused: InvalidField) -> Response:
    return to_response(field_refusal(refused.field, str(refused)))
