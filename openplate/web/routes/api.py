"""The JSON API that access tokens open: /users/me and /maps (RFC 6750 bearer tokens)."""

from __future__ import annotations

import asyncio
import json
import unicodedata
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, ConfigDict, Field
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from openplate.library import MapRejected, UploadLimits
from openplate.library.slugs import new_public_id, slugify
from openplate.oauth import bearer
from openplate.oauth.errors import OAuthError
from openplate.oauth.models import AccessPrincipal
from openplate.store.unit import Store
from openplate.web.context import AppContext, context_of, now
from openplate.web.errors import bearer_error_reply, error_json, error_reply
from openplate.web.hot import HotRequest
from openplate.web.middleware import BodyTooLarge
from openplate.web.replies import Refusal, Reply, json_reply

router = APIRouter(tags=["api"])

authorization_header = APIKeyHeader(
    name="Authorization",
    auto_error=False,
    description="`Bearer <access token>` (RFC 6750), or the bare token as the original clients sent.",
)

CACHE_NO_STORE = ((b"cache-control", b"no-store"),)
MAX_TITLE_CHARS = 200
MAX_DESCRIPTION_CHARS = 10_000


class BearerRejected(Refusal):
    """The API call's token was missing, bad or too narrow; answered per RFC 6750 §3."""

    def __init__(self, error: OAuthError, *, token_sent: bool) -> None:
        super().__init__(bearer_error_reply(error, token_sent=token_sent))


Authorization = Annotated[str | None, Depends(authorization_header)]


async def check_bearer(
    ctx: AppContext, store: Store, authorization: str | None, *, scope: str,
    user_only: bool = False,
) -> AccessPrincipal:
    """The token's principal, inside the caller's transaction; BearerRejected otherwise.
    ``user_only`` refuses a client's own (client-credentials) token."""
    try:
        return await bearer.authenticate(
            authorization, store.tokens, ctx.digester, now=now(), scope=scope, user_only=user_only
        )
    except OAuthError as error:
        sent = bool(authorization and authorization.strip())
        raise BearerRejected(error, token_sent=sent) from None


class Me(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    Id: int = Field(description="The account's numeric id.")
    UserName: str = Field(description="The account's username (the field the original clients read).")
    Email: str
    MemberSince: str = Field(description="When the account was created (ISO 8601, UTC).")


def member_since(created_at: int) -> str:
    return datetime.fromtimestamp(created_at, UTC).isoformat()


async def users_me_reply(ctx: AppContext, request: HotRequest) -> Reply:
    """The body of ``Me``, built directly (a hot endpoint, declared in hot_endpoints.py)."""
    authorization = request.header(b"authorization")
    async with ctx.db.transaction(readonly=True) as store:
        principal = await check_bearer(ctx, store, authorization, scope="account", user_only=True)
    user = principal.user
    if user is None:
        return error_reply(404, "not_found", "The account no longer exists.")
    return json_reply({"Id": user.id, "UserName": user.username, "Email": user.email,
                       "MemberSince": member_since(user.created_at)}, headers=CACHE_NO_STORE)


class MapCreated(BaseModel):
    id: str
    url: str = Field(description="Absolute URL of the map's public page.")
    title: str
    description: str
    format: str
    download_url: str
    thumbnail_url: str | None


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
                    },
                }
            }
        },
    },
    "responses": {
        "400": {"description": "Missing or malformed fields."},
        "401": {"description": "Missing or invalid access token."},
        "403": {"description": "The token lacks the maps scope."},
        "413": {"description": "The file is too large."},
        "415": {"description": "Not a mind map."},
        "422": {"description": "A damaged or unsafe mind map."},
    },
}


def _clean_text(value: str, limit: int, *, multiline: bool) -> str:
    keep = "\n\t" if multiline else ""
    text = "".join(
        c for c in value if c in keep or unicodedata.category(c) not in ("Cc", "Cf", "Cs")
    )
    return text.strip()[:limit]


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
        for name in ("title", "description", "map"):
            if len(form.getlist(name)) > 1:
                return error_json(400, "invalid_request", f"'{name}' was sent more than once.")
        title_raw, description_raw, upload = form.get("title"), form.get("description"), form.get("map")
        if not isinstance(upload, UploadFile):
            return error_json(400, "invalid_request", "The file part 'map' is required.")
        if title_raw is not None and not isinstance(title_raw, str):
            return error_json(400, "invalid_request", "'title' must be a text field.")
        if description_raw is not None and not isinstance(description_raw, str):
            return error_json(400, "invalid_request", "'description' must be a text field.")
        limits = UploadLimits(
            max_bytes=ctx.settings.max_upload_bytes,
            max_xml_bytes=ctx.settings.max_map_document_bytes,
        )
        data = await upload.read(limits.max_bytes + 1)
        filename = upload.filename
    finally:
        await form.close()
    from openplate.library.upload import parse_upload  # the parsers load on the first upload

    try:
        async with ctx.parse_slots:  # parsing is CPU- and memory-heavy: a few at a time
            parsed = await asyncio.to_thread(parse_upload, filename, data, limits)
    except MapRejected as rejected:
        return error_json(rejected.status, rejected.error, rejected.description)
    title = _clean_text(title_raw or "", MAX_TITLE_CHARS, multiline=False)
    if not title:
        title = parsed.sheets[0].title[:MAX_TITLE_CHARS]
    description = _clean_text(description_raw or "", MAX_DESCRIPTION_CHARS, multiline=True)
    public_id, slug = new_public_id(), slugify(title)
    download_name = f"{slug}{parsed.extension}"
    async with ctx.db.transaction() as store:
        await store.maps.create(
            public_id=public_id, slug=slug, title=title, description=description,
            owner_id=principal.user_id, client_pk=principal.client_pk, format=parsed.format,
            filename=download_name, media_type=parsed.media_type, content=data,
            thumbnail=parsed.thumbnail_png,
            outline=json.dumps([sheet.to_json() for sheet in parsed.sheets]),
            topic_count=parsed.topic_count, now=now(),
        )
    page = ctx.url(f"/mindmaps/{public_id}/{slug}")
    body = MapCreated(
        id=public_id, url=page, title=title, description=description, format=parsed.format,
        download_url=ctx.url(f"/mindmaps/{public_id}/files/map"),
        thumbnail_url=(
            ctx.url(f"/mindmaps/{public_id}/files/thumbnail.png") if parsed.thumbnail_png else None
        ),
    )
    return JSONResponse(body.model_dump(), status_code=201, headers={"Location": page})
