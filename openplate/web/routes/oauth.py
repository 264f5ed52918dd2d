"""The authorisation server's HTTP face: /oauth/auth (with consent) and /oauth/token."""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict
from urllib.parse import urlsplit

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from openplate.oauth import authorize
from openplate.oauth.client_auth import claimed_client_id
from openplate.oauth.errors import FatalAuthorizationError, InvalidRequest, OAuthError
from openplate.oauth.models import AuthorizationRequest
from openplate.oauth.params import parse_params
from openplate.oauth.redirect_uris import find_match
from openplate.oauth.scopes import SCOPES, format_scope
from openplate.oauth.token_endpoint import token_request
from openplate.web import sessions
from openplate.web.context import client_ip, context_of, now
from openplate.web.errors import NO_STORE, oauth_error_response, too_many_requests
from openplate.web.pages import error_page, posted_form, redirect, render, signin_url, visitor

router = APIRouter()

TOKEN_BODY_LIMIT = 64 * 1024


def _redirect_host(uri: str) -> str:
    parts = urlsplit(uri)
    return parts.netloc or uri


@router.get("/oauth/auth", include_in_schema=False)
async def authorization_endpoint(request: Request) -> Response:
    ctx = context_of(request)
    raw_query: bytes = request.scope.get("query_string", b"")
    try:
        params = parse_params(raw_query)
    except InvalidRequest as error:
        return error_page(ctx, None, status=400, title="Invalid authorisation request",
                          message=error.description, error_code=error.error)
    async with ctx.db.transaction() as store:
        try:
            auth_request = await authorize.validate_request(params, store.clients)
        except FatalAuthorizationError as error:
            return error_page(ctx, None, status=400, title="Invalid authorisation request",
                              message=error.description, error_code=error.error)
        except authorize.ErrorRedirect as redirect_error:
            return RedirectResponse(redirect_error.location, status_code=302)
        who = await visitor(request, ctx, store, create=True)
        if who.user is None or who.session is None:
            here = "/oauth/auth?" + raw_query.decode("latin-1")
            return redirect(ctx, signin_url(here), who)
        client = await store.clients.by_client_id(auth_request.client_id)
        assert client is not None
        t = now()
        remembered = await store.consents.scope_for(user_id=who.user.id, client_pk=client.pk)
        if (
            not client.is_public
            and remembered is not None
            and set(auth_request.scope) <= set(remembered.split())
        ):
            # The user already allowed this app these scopes: no page, straight back with a code.
            # Never for a public client: any program can claim its client_id (RFC 6749 §10.2).
            location = await authorize.approve(
                auth_request, user_id=who.user.id, store=store, digester=ctx.digester, now=t,
                code_ttl=ctx.settings.code_ttl,
            )
            return redirect(ctx, location, who)
        handle = secrets.token_urlsafe(24)
        await store.auth_requests.park(
            handle=handle, session_id=who.session.id, client_pk=client.pk,
            request=json.dumps(asdict(auth_request)), now=t,
            expires_at=t + ctx.settings.auth_request_ttl,
        )
    return render(
        ctx, "consent.html", who, client_name=client.name, handle=handle,
        redirect_host=_redirect_host(auth_request.redirect_uri),
        scopes=[(scope, SCOPES[scope]) for scope in auth_request.scope],
    )


@router.post("/oauth/auth/decision", include_in_schema=False)
async def decision_endpoint(request: Request) -> Response:
    ctx = context_of(request)
    title = "This authorisation request cannot continue"
    form = await posted_form(request, ctx, title=title)
    if isinstance(form, Response):
        return form
    async with ctx.db.transaction(ip=client_ip(request)) as store:
        who = await visitor(request, ctx, store, create=False)
        if not sessions.csrf_ok(who.session, form.get("csrf_token")) or who.session is None:
            return error_page(ctx, who, status=403, title=title,
                              message="Your form expired. Start again from the application.")
        if who.user is None:
            return redirect(ctx, signin_url("/"), who)
        handle, choice = form.get("request") or "", form.get("decision")
        if choice not in ("allow", "deny"):
            return error_page(ctx, who, status=400, title=title, message="Choose Allow or Deny.")
        parked = await store.auth_requests.take(handle=handle, session_id=who.session.id, now=now())
        if parked is None:
            return error_page(ctx, who, status=400, title=title,
                              message="This request expired or was already answered. "
                                      "Start again from the application.")
        data = json.loads(parked)
        data["scope"] = tuple(data["scope"])
        auth_request = AuthorizationRequest(**data)
        client = await store.clients.by_client_id(auth_request.client_id)
        if client is None or find_match(auth_request.redirect_uri, client.redirect_uris) is None:
            return error_page(ctx, who, status=400, title=title,
                              message="The application changed or was deleted meanwhile.")
        t = now()
        scope = format_scope(auth_request.scope)
        if choice == "deny":
            location = authorize.deny(auth_request)
            await store.events.append(kind="consent.denied", now=t, user_id=who.user.id,
                                      client_id=client.client_id, detail={"scope": scope})
        else:
            location = await authorize.approve(
                auth_request, user_id=who.user.id, store=store, digester=ctx.digester,
                now=t, code_ttl=ctx.settings.code_ttl,
            )
            remembered = await store.consents.scope_for(user_id=who.user.id, client_pk=client.pk)
            union = list(dict.fromkeys([*(remembered or "").split(), *auth_request.scope]))
            await store.consents.remember(
                user_id=who.user.id, client_pk=client.pk, scope=format_scope(union), now=t
            )
            await store.events.append(kind="consent.granted", now=t, user_id=who.user.id,
                                      client_id=client.client_id, detail={"scope": scope})
    return redirect(ctx, location)


TOKEN_OPENAPI = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "properties": {
                        name: {"type": "string"}
                        for name in (
                            "grant_type", "code", "redirect_uri", "client_id", "client_secret",
                            "refresh_token", "scope", "code_verifier", "response_type",
                        )
                    },
                }
            }
        },
    },
    "responses": {
        "200": {"description": "Tokens issued (RFC 6749 §5.1, in the Biggerplate shape)."},
        "400": {"description": "RFC 6749 §5.2 error."},
        "401": {"description": "invalid_client."},
    },
}


@router.post(
    "/oauth/token", tags=["oauth"], summary="Exchange a code or refresh token for tokens",
    openapi_extra=TOKEN_OPENAPI, response_class=JSONResponse,
)
async def token_endpoint(request: Request) -> Response:
    ctx = context_of(request)
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        return oauth_error_response(
            InvalidRequest("The body must be application/x-www-form-urlencoded.")
        )
    if request.query_params:
        return oauth_error_response(
            InvalidRequest("Send parameters in the request body, not the query string.")
        )
    body = await request.body()
    if len(body) > TOKEN_BODY_LIMIT:
        return oauth_error_response(InvalidRequest("The request body is too large."))
    try:
        params = parse_params(body)
    except OAuthError as error:
        return oauth_error_response(error)
    ip, t = client_ip(request), now()
    authorization = request.headers.get("authorization")
    keys = {f"token:ip:{ip}": ctx.throttle.token_per_ip}
    claimed = claimed_client_id(params, authorization)
    if claimed:
        keys[f"token:client:{claimed[:100]}"] = ctx.throttle.token_per_client
    failure: OAuthError | None = None
    async with ctx.db.transaction(ip=ip) as store:
        wait = await store.counters.retry_after(keys, now=t)
        if wait is not None:
            await store.events.append(kind="token.throttled", now=t, client_id=claimed)
            return too_many_requests(wait)
        try:
            issued = await token_request(params, authorization, store, ctx.token_context())
        except OAuthError as error:
            # Protocol errors are results: what they did (a replay's revocation) is committed.
            failure = error
            if error.error in ("invalid_client", "invalid_grant"):
                await store.counters.record_failure(keys, now=t)
                await store.events.append(
                    kind="token.failure", now=t, client_id=claimed, detail={"error": error.error}
                )
    if failure is not None:
        return oauth_error_response(failure)
    return JSONResponse(issued.to_json(), headers=NO_STORE)
