"""RFC 7591 and RFC 7592 over HTTP: /oauth/register and /oauth/register/{client_id}.

``OPENPLATE_REGISTRATION`` decides who may register: nobody ("off", the default), a client with
an initial access token from the operator ("token"), or anyone, throttled per address ("open").
A registration is then read, replaced and deleted with its registration access token.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from openplate.accounts import lifecycle, self_registration
from openplate.accounts.client_metadata import InvalidClientMetadata
from openplate.oauth.tokens import INITIAL_ACCESS_TOKEN_PREFIX, REGISTRATION_TOKEN_PREFIX, plausible
from openplate.store.registration_repos import Registered
from openplate.store.unit import Store
from openplate.throttling import Limit, Refused
from openplate.web.context import AppContext, client_ip, context_of, now
from openplate.web.errors import REALM, error_json, too_many_requests
from openplate.web.replies import json_reply, to_response

router = APIRouter()

#: A registration is a small JSON object; anything bigger is refused unread.
MAX_REGISTRATION_BYTES = 64 * 1024
OPEN_WINDOW = 3600


class _Refused(Exception):
    """An answer given instead of going on; raised inside a unit of work, it rolls it back."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def _metadata_error(description: str, error: str = "invalid_client_metadata") -> Response:
    return error_json(400, error, description)


def _token_error(description: str, *, sent: bool) -> Response:
    """RFC 6750 §3 for a missing or wrong initial or registration access token."""
    challenge = f"Bearer {REALM}" + (', error="invalid_token"' if sent else "")
    return error_json(401, "invalid_token", description, {"WWW-Authenticate": challenge})


def _bearer(request: Request) -> str | None:
    values = request.headers.getlist("authorization")
    if len(values) != 1:
        return None if not values else ""
    scheme, _, token = values[0].partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    names = [name for name, _ in pairs]
    if len(set(names)) != len(names):
        raise ValueError("a member is sent twice")
    return dict(pairs)


async def _json_body(request: Request) -> Mapping[str, object]:
    """The request's JSON object, or a 400 (not JSON, too large, a member twice, not an
    object)."""
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type != "application/json":
        raise _Refused(_metadata_error("Send the client metadata as application/json."))
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_REGISTRATION_BYTES:
            raise _Refused(error_json(413, "invalid_client_metadata",
                                         "The client metadata is too large (at most 64 KiB)."))
    try:
        doc = json.loads(bytes(body), object_pairs_hook=_no_duplicates)
    except (ValueError, RecursionError):
        raise _Refused(_metadata_error(
            "The body is not valid JSON (or names a member twice).")) from None
    if not isinstance(doc, dict):
        raise _Refused(_metadata_error("The client metadata must be a JSON object."))
    return doc


async def _open_attempt(ctx: AppContext, request: Request) -> Response | None:
    """Open registration: count one per address and hour, before anything else."""
    ip = client_ip(request)
    limit = Limit(ctx.settings.registrations_per_ip, OPEN_WINDOW)
    async with ctx.db.transaction(ip=ip) as store:
        taken = await ctx.counters(store).take({f"register:{ip}": limit}, now=now())
    if isinstance(taken, Refused):
        return too_many_requests(taken.retry_after)
    return None


def _created(ctx: AppContext, made: self_registration.NewRegistration, t: int) -> Response:
    body = self_registration.answer(
        made.client, made.metadata, base_url=ctx.settings.base_url, issued_at=t,
        client_secret=made.client_secret, registration_token=made.registration_token)
    return to_response(json_reply(body, status=201))


@router.post("/oauth/register", include_in_schema=False)
async def register(request: Request) -> Response:
    """RFC 7591 §3.1: register a client."""
    ctx = context_of(request)
    mode = ctx.settings.registration
    if mode == "off":
        return error_json(403, "access_denied",
                          "This server does not let applications register themselves. Ask its "
                          "operator, or register the app at /applications.")
    token = _bearer(request)
    if mode == "token" and not token:
        return _token_error("Registration needs an initial access token (Authorization: Bearer).",
                            sent=token is not None)
    if mode == "open":
        refused = await _open_attempt(ctx, request)
        if refused is not None:
            return refused
    t = now()
    try:
        doc = await _json_body(request)
        async with ctx.db.transaction(ip=client_ip(request)) as store:
            owner_id = await _token_owner(ctx, store, token, t) if mode == "token" else None
            try:
                made = await self_registration.register_client(
                    store, ctx.digester, doc, owner_id=owner_id, kind=mode, now=t,
                    allow_private=ctx.settings.allow_private_client_urls)
            except InvalidClientMetadata as problem:
                # Raised inside the unit of work: the token's use is given back.
                raise _Refused(_metadata_error(str(problem), problem.error)) from None
    except _Refused as refused:
        return refused.response
    return _created(ctx, made, t)


async def _token_owner(ctx: AppContext, store: Store, token: str | None, t: int) -> int | None:
    """Use the initial access token once (atomically); the account new apps join."""
    use = (await store.registrations.use_token(digest=ctx.digester.digest(token), now=t)
           if token and plausible(token, INITIAL_ACCESS_TOKEN_PREFIX) else None)
    if use is None:
        raise _Refused(_token_error("The initial access token is unknown, expired or used up.",
                                    sent=True))
    return use.owner_id


async def _registered(ctx: AppContext, store: Store, request: Request,
                      client_id: str) -> Registered | Response:
    """RFC 7592 §2: the registration, if the request carries its registration access token;
    the same 401 for an unknown app and a wrong token, so neither can be told apart."""
    token = _bearer(request)
    if not token:
        return _token_error("Send the registration access token (Authorization: Bearer).",
                            sent=token is not None)
    registered = (await store.registrations.registered(client_id=client_id)
                  if len(client_id) <= 1000 else None)
    if (registered is None or not plausible(token, REGISTRATION_TOKEN_PREFIX)
            or not self_registration.token_matches(ctx.digester, registered, token)):
        return _token_error("The registration access token is not valid for this app.",
                            sent=True)
    return registered


def _described(ctx: AppContext, registered: Registered) -> Response:
    body = self_registration.answer(
        registered.client, self_registration.stored_metadata(registered),
        base_url=ctx.settings.base_url, issued_at=registered.created_at)
    return to_response(json_reply(body))


@router.get("/oauth/register/{client_id}", include_in_schema=False)
async def read_registration(request: Request, client_id: str) -> Response:
    """RFC 7592 §2.1: the registration as it stands (the client secret is never shown again)."""
    ctx = context_of(request)
    async with ctx.db.transaction(readonly=True) as store:
        found = await _registered(ctx, store, request, client_id)
    return found if isinstance(found, Response) else _described(ctx, found)


@router.put("/oauth/register/{client_id}", include_in_schema=False)
async def replace_registration(request: Request, client_id: str) -> Response:
    """RFC 7592 §2.2: replace the registration's metadata."""
    ctx = context_of(request)
    try:
        doc = await _json_body(request)
    except _Refused as bad:
        return bad.response
    try:
        async with ctx.db.transaction(ip=client_ip(request)) as store:
            found = await _registered(ctx, store, request, client_id)
            if isinstance(found, Response):
                return found
            try:
                metadata = await self_registration.replace_registration(
                    store, ctx.digester, found, doc, now=now(),
                    allow_private=ctx.settings.allow_private_client_urls)
            except InvalidClientMetadata as problem:
                raise _Refused(_metadata_error(str(problem), problem.error)) from None
            fresh = await store.registrations.registered(client_id=client_id)
    except _Refused as refused:
        return refused.response
    assert fresh is not None
    body = self_registration.answer(fresh.client, metadata, base_url=ctx.settings.base_url,
                                    issued_at=fresh.created_at)
    return to_response(json_reply(body))


@router.delete("/oauth/register/{client_id}", include_in_schema=False)
async def delete_registration(request: Request, client_id: str) -> Response:
    """RFC 7592 §2.3: the app is deleted, and every grant and token of it with it."""
    ctx = context_of(request)
    async with ctx.db.transaction(ip=client_ip(request)) as store:
        found = await _registered(ctx, store, request, client_id)
        if isinstance(found, Response):
            return found
        client = found.client
        await lifecycle.delete_app(store, client.pk, client.client_id, client.owner_id,
                                   now=now(), by=lifecycle.BY_REGISTRATION, name=client.name)
    return Response(status_code=204, headers={"cache-control": "no-store"})
