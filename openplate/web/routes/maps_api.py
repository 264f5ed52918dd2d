"""The library's JSON API: list and search maps, read one map, its file, change or delete it.

Reads need no token. A token that is sent must be valid and carry ``maps``; it lets the owner
see their unlisted and private maps in their own list and read their private maps. A private
map is a 404 for anyone else, exactly as a map that does not exist. Changes and deletions are
the owner's only (``maps`` scope): another user's map they can see is a 403 ``forbidden``.
"""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from openplate.accounts.validation import USERNAME
from openplate.oauth.models import AccessPrincipal
from openplate.store.map_cursors import BadCursor
from openplate.store.map_fields import InvalidField
from openplate.store.map_records import MapQuery, MapRecord
from openplate.web.context import AppContext, context_of, now
from openplate.web.errors import error_json
from openplate.web.map_access import PUBLIC_ID, may_see, visible_map
from openplate.web.map_headers import file_headers
from openplate.web.replies import Refusal, dump_json, to_response
from openplate.web.routes import map_params
from openplate.web.routes.bearer_auth import Authorization, check_bearer, optional_bearer
from openplate.web.routes.map_json import MapDetail, MapList, detail_json, summary_json
from openplate.web.routes.maps_errors import field_refusal, no_map, not_owner
from openplate.web.routes.maps_patch import PATCH_OPENAPI, read_changes

router = APIRouter(tags=["api"])

_BEARER_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "A bad parameter (the description and `field` name it), or a "
                         "malformed Authorization header."},
    401: {"description": "An access token was sent and is invalid, expired or revoked."},
    403: {"description": "The token lacks the maps scope."},
}
#: OpenAPI: the token is optional (an empty requirement beside the Authorization header's).
_TOKEN_OPTIONAL: dict[str, Any] = {"security": [{}]}
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such map, or one the caller may not see."}}


def _may_see(record: MapRecord, principal: AccessPrincipal | None) -> bool:
    return may_see(record, principal.user_id if principal is not None else None)


def _list_reply(ctx: AppContext, path: str, params: map_params.ListParams,
                maps: list[dict[str, Any]], cursor: str | None) -> Response:
    following = map_params.next_url(ctx.url(path), params, cursor) if cursor else None
    headers = {"Cache-Control": "no-cache", "Vary": "Authorization"}
    if following is not None:
        headers["Link"] = f'<{following}>; rel="next"'
    return Response(dump_json({"maps": maps, "next": following}), headers=headers,
                    media_type="application/json")


async def _list(request: Request, authorization: str | None, username: str | None) -> Response:
    ctx = context_of(request)
    try:
        params = map_params.read(request.query_params, with_author=username is None)
    except InvalidField as refused:
        return to_response(field_refusal(refused.field, str(refused)))
    query = params.query
    async with ctx.db.transaction(readonly=True) as store:
        principal = await optional_bearer(ctx, store, authorization, scope="maps")
        if username is not None:
            owner = (await store.users.by_login(username) if USERNAME.fullmatch(username)
                     else None)
            if owner is None:
                return error_json(404, "not_found", "There is no user with this username.")
            mine = principal is not None and principal.user_id == owner.id
            query = MapQuery(q=query.q, owner_id=owner.id, tag=query.tag, format=query.format,
                             category=query.category, include_hidden=mine, order=query.order)
        try:
            page = await store.maps.page(query, limit=params.limit, cursor=params.cursor)
        except InvalidField as refused:
            return to_response(field_refusal(refused.field, str(refused)))
        except BadCursor as bad:
            return to_response(field_refusal("cursor", f"cursor: {bad}"))
    return _list_reply(ctx, request.url.path, params,
                       [summary_json(ctx, record) for record in page.maps], page.next_cursor)


@router.get(
    "/maps", response_model=MapList, summary="List and search public maps",
    responses=_BEARER_ERRORS,
    openapi_extra={"parameters": map_params.openapi_parameters(with_author=True),
                   **_TOKEN_OPTIONAL},
)
async def list_maps(request: Request, authorization: Authorization) -> Response:
    return await _list(request, authorization, None)


@router.get(
    "/users/{username}/maps", response_model=MapList, summary="One user's maps",
    description="Public maps of the user; with a token of that user (scope maps), all of "
                "their maps.",
    responses={**_BEARER_ERRORS, 404: {"description": "No such user."}},
    openapi_extra={"parameters": map_params.openapi_parameters(with_author=False),
                   **_TOKEN_OPTIONAL},
)
async def list_user_maps(request: Request, username: str, authorization: Authorization) -> Response:
    return await _list(request, authorization, username)


async def _visible(ctx: AppContext, request: Request, public_id: str,
                   authorization: str | None) -> MapRecord:
    """The map, if the caller may see it; Refusal (404) otherwise."""
    async with ctx.db.transaction(readonly=True) as store:
        principal = await optional_bearer(ctx, store, authorization, scope="maps")
        record = await visible_map(store, public_id,
                                   principal.user_id if principal is not None else None)
    if record is None:
        raise Refusal(no_map())
    return record


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _matches(if_none_match: str, etag: str) -> bool:
    """RFC 9110 §13.1.2: weak comparison, any of a list, or ``*``."""
    tags = [tag.strip() for tag in if_none_match.split(",")]
    return any(tag == "*" or tag.removeprefix("W/") == etag for tag in tags)


def _detail_response(ctx: AppContext, request: Request, record: MapRecord,
                     status: int = 200) -> Response:
    body = dump_json(detail_json(ctx, record))
    etag = _etag(body)
    private = record.visibility == "private"
    headers = {"ETag": etag, "Cache-Control": "private, no-cache" if private else "no-cache",
               "Vary": "Authorization"}
    if status == 200 and _matches(request.headers.get("if-none-match", ""), etag):
        return Response(status_code=304, headers=headers)
    return Response(body, status_code=status, headers=headers, media_type="application/json")


@router.get(
    "/maps/{public_id}", response_model=MapDetail, summary="A map: its metadata and outline",
    description="Answers `ETag`; send it back in `If-None-Match` for a `304 Not Modified`.",
    responses={**_BEARER_ERRORS, **_NOT_FOUND, 304: {"description": "Not modified."}},
    openapi_extra=_TOKEN_OPTIONAL,
)
async def get_map(request: Request, public_id: str, authorization: Authorization) -> Response:
    ctx = context_of(request)
    record = await _visible(ctx, request, public_id, authorization)
    return _detail_response(ctx, request, record)


@router.get(
    "/maps/{public_id}/file", summary="The original upload, byte for byte",
    response_class=Response,
    responses={**_BEARER_ERRORS, **_NOT_FOUND, 200: {
        "description": "The file, with its media type and a download name.",
        "content": {"application/octet-stream": {"schema": {"type": "string",
                                                            "format": "binary"}}}}},
    openapi_extra=_TOKEN_OPTIONAL,
)
async def get_map_file(request: Request, public_id: str, authorization: Authorization) -> Response:
    ctx = context_of(request)
    record = await _visible(ctx, request, public_id, authorization)
    async with ctx.db.transaction(readonly=True) as store:
        content = await store.maps.file(map_id=record.id, kind="map")
    if content is None:
        raise Refusal(no_map())
    return Response(content, media_type=record.media_type, headers={
        **file_headers(record), "Vary": "Authorization",
        "Content-Disposition": f'attachment; filename="{record.filename}"'})


async def _owned(ctx: AppContext, store: Any, public_id: str,
                 authorization: str | None) -> MapRecord:
    """The map, if the token's user owns it: 404 if they may not see it, 403 if they may but
    it is not theirs (Refusal)."""
    principal = await check_bearer(ctx, store, authorization, scope="maps")
    record = await store.maps.by_public_id(public_id) if PUBLIC_ID.fullmatch(public_id) else None
    if record is None or not _may_see(record, principal):
        raise Refusal(no_map())
    if record.owner_id != principal.user_id:
        raise Refusal(not_owner())
    assert isinstance(record, MapRecord)
    return record


_WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    **_NOT_FOUND,
    400: {"description": "A bad field (the description and `field` name it), or a malformed "
                         "Authorization header."},
    401: {"description": "Missing or invalid access token."},
    403: {"description": "The token lacks the maps scope (insufficient_scope), or the map is "
                         "another user's (forbidden)."},
}


@router.patch(
    "/maps/{public_id}", response_model=MapDetail, summary="Change a map (owner, scope: maps)",
    description="A JSON object with any of title, description, tags, visibility, category "
                "(a slug, or null for none). Nothing changes unless every field is good.",
    responses={**_WRITE_ERRORS, 415: {"description": "The body is not JSON."}},
    openapi_extra=PATCH_OPENAPI,
)
async def patch_map(request: Request, public_id: str, authorization: Authorization) -> Response:
    ctx = context_of(request)
    changes = await read_changes(request)  # read before the unit of work: no wait inside it
    async with ctx.db.transaction() as store:
        record = await _owned(ctx, store, public_id, authorization)
        if isinstance(changes, Refusal):
            raise changes
        if isinstance(changes, InvalidField):
            raise Refusal(field_refusal(changes.field, str(changes)))
        try:
            await store.maps.update(record.id, now=now(), **changes)
        except InvalidField as refused:  # raised before anything was written
            raise Refusal(field_refusal(refused.field, str(refused))) from None
        changed = await store.maps.by_public_id(public_id)
    assert changed is not None
    return _detail_response(ctx, request, changed)


@router.delete(
    "/maps/{public_id}", status_code=204, response_class=Response,
    summary="Delete a map (owner, scope: maps)", responses=_WRITE_ERRORS,
)
async def delete_map(request: Request, public_id: str, authorization: Authorization) -> Response:
    ctx = context_of(request)
    async with ctx.db.transaction() as store:
        record = await _owned(ctx, store, public_id, authorization)
        await store.maps.delete(record.id)
    return Response(status_code=204, headers={"Cache-Control": "no-store"})

