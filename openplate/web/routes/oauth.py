"""The authorisation endpoint's HTTP face: /oauth/auth, sign-in when needed, and consent."""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from openplate.oauth import authorize
from openplate.oauth.errors import (
    ConsentRequired,
    FatalAuthorizationError,
    InvalidRequest,
    LoginRequired,
)
from openplate.oauth.models import AuthorizationRequest, Client
from openplate.oauth.params import parse_params
from openplate.oauth.redirect_uris import find_match
from openplate.oauth.scopes import SCOPES, format_scope
from openplate.store.unit import Store
from openplate.web import sessions
from openplate.web.context import AppContext, client_ip, context_of, now
from openplate.web.pages import Visitor, error_page, posted_form, redirect, render, visitor

router = APIRouter()

INVALID = "Invalid authorisation request"
# Added to the query when we send the user to sign in again (prompt=login, max_age): the time
# after which a sign-in counts, so coming back does not loop.
LOGIN_AFTER = "op_login_after"


def _redirect_host(uri: str) -> str:
    return urlsplit(uri).netloc or uri


def _needs_sign_in(who: Visitor, request: AuthorizationRequest, login_after: int | None,
                   t: int) -> bool:
    """OIDC Core §3.1.2.1 prompt=login and max_age: is the user's sign-in recent enough?"""
    if who.user is None or who.session is None:
        return True
    auth_time = who.session.auth_time or 0
    if login_after is not None and auth_time >= login_after:
        return False
    if "login" in request.prompt:
        return True
    return request.max_age is not None and auth_time + request.max_age < t


def _sign_in_location(raw_query: str, request: AuthorizationRequest, *, force: bool, t: int) -> str:
    back = "/oauth/auth?" + raw_query
    fresh_login_wanted = "login" in request.prompt or request.max_age is not None
    if fresh_login_wanted and LOGIN_AFTER not in raw_query:
        # Whoever signs in from here has signed in after t: coming back must not ask again.
        back += f"&{LOGIN_AFTER}={t}"
    query = {"next": back}
    if force:
        query["force"] = "1"
    if request.login_hint:
        query["login_hint"] = request.login_hint
    return "/signin?" + urlencode(query)


async def _remembered(store: Store, client: Client, user_id: int,
                      request: AuthorizationRequest) -> bool:
    """Consent given before covers this request (never for public clients, RFC 6749 §10.2)."""
    if client.is_public or "consent" in request.prompt:
        return False
    scope = await store.consents.scope_for(user_id=user_id, client_pk=client.pk)
    return scope is not None and set(request.scope) <= set(scope.split())


@router.get("/oauth/auth", include_in_schema=False)
async def authorization_endpoint(request: Request) -> Response:
    ctx = context_of(request)
    issuer = ctx.settings.base_url
    raw_query: bytes = request.scope.get("query_string", b"")
    try:
        params = parse_params(raw_query)
    except InvalidRequest as error:
        return error_page(ctx, None, status=400, title=INVALID, message=error.description,
                          error_code=error.error)
    async with ctx.db.transaction() as store:
        try:
            auth_request = await authorize.validate_request(params, store.clients, issuer=issuer)
        except FatalAuthorizationError as error:
            return error_page(ctx, None, status=400, title=INVALID, message=error.description,
                              error_code=error.error)
        except authorize.ErrorRedirect as redirect_error:
            return RedirectResponse(redirect_error.location, status_code=302)
        who = await visitor(request, ctx, store, create=True)
        t = now()
        raw_after = params.get(LOGIN_AFTER) or ""
        login_after = int(raw_after) if raw_after.isdigit() and len(raw_after) <= 12 else None
        if _needs_sign_in(who, auth_request, login_after, t):
            if "none" in auth_request.prompt:
                refusal = LoginRequired("The user is not signed in.")
                return redirect(ctx, authorize.refuse(auth_request, refusal, issuer=issuer), who)
            force = who.user is not None  # signed in, but not recently enough
            location = _sign_in_location(raw_query.decode("latin-1"), auth_request, force=force,
                                         t=t)
            return redirect(ctx, location, who)
        assert who.user is not None and who.session is not None
        client = await store.clients.by_client_id(auth_request.client_id)
        assert client is not None
        if await _remembered(store, client, who.user.id, auth_request):
            location = await authorize.approve(
                auth_request, user_id=who.user.id, auth_time=who.session.auth_time, store=store,
                digester=ctx.digester, now=t, code_ttl=ctx.settings.code_ttl, issuer=issuer,
            )
            return redirect(ctx, location, who)
        if "none" in auth_request.prompt:
            consent_refusal = ConsentRequired("The user has not allowed this app these scopes.")
            location = authorize.refuse(auth_request, consent_refusal, issuer=issuer)
            return redirect(ctx, location, who)
        handle = secrets.token_urlsafe(24)
        await store.auth_requests.park(
            handle=handle, session_id=who.session.id, client_pk=client.pk,
            request=json.dumps(asdict(auth_request)), now=t,
            expires_at=t + ctx.settings.auth_request_ttl,
        )
    return _consent_page(ctx, who, client, auth_request, handle)


def _consent_page(ctx: AppContext, who: Visitor, client: Client, auth_request: AuthorizationRequest,
                  handle: str) -> Response:
    return render(
        ctx, "consent.html", who, client_name=client.name, handle=handle,
        redirect_host=_redirect_host(auth_request.redirect_uri),
        scopes=[(scope, SCOPES[scope]) for scope in auth_request.scope],
    )


def _parked(data: str) -> AuthorizationRequest:
    fields = json.loads(data)
    fields["scope"] = tuple(fields["scope"])
    fields["prompt"] = tuple(fields.get("prompt", ()))
    return AuthorizationRequest(**fields)


@router.post("/oauth/auth/decision", include_in_schema=False)
async def decision_endpoint(request: Request) -> Response:
    ctx = context_of(request)
    issuer = ctx.settings.base_url
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
            return error_page(ctx, who, status=403, title=title,
                              message="You are signed out. Start again from the application.")
        handle, choice = form.get("request") or "", form.get("decision")
        if choice not in ("allow", "deny"):
            return error_page(ctx, who, status=400, title=title, message="Choose Allow or Deny.")
        parked = await store.auth_requests.take(handle=handle, session_id=who.session.id, now=now())
        if parked is None:
            return error_page(ctx, who, status=400, title=title,
                              message="This request expired or was already answered. "
                                      "Start again from the application.")
        auth_request = _parked(parked)
        client = await store.clients.by_client_id(auth_request.client_id)
        if client is None or find_match(auth_request.redirect_uri, client.redirect_uris) is None:
            return error_page(ctx, who, status=400, title=title,
                              message="The application changed or was deleted meanwhile.")
        t = now()
        scope = format_scope(auth_request.scope)
        if choice == "deny":
            location = authorize.deny(auth_request, issuer=issuer)
            await store.events.append(kind="consent.denied", now=t, user_id=who.user.id,
                                      client_id=client.client_id, detail={"scope": scope})
        else:
            location = await authorize.approve(
                auth_request, user_id=who.user.id, auth_time=who.session.auth_time, store=store,
                digester=ctx.digester, now=t, code_ttl=ctx.settings.code_ttl, issuer=issuer,
            )
            remembered = await store.consents.scope_for(user_id=who.user.id, client_pk=client.pk)
            union = list(dict.fromkeys([*(remembered or "").split(), *auth_request.scope]))
            await store.consents.remember(
                user_id=who.user.id, client_pk=client.pk, scope=format_scope(union), now=t
            )
            await store.events.append(kind="consent.granted", now=t, user_id=who.user.id,
                                      client_id=client.client_id, detail={"scope": scope})
    return redirect(ctx, location)
