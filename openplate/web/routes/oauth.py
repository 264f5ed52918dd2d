"""The authorisation endpoint's HTTP face: /oauth/auth (GET and POST), its resumption after
sign-in, and the consent decision. Every decision is the core's (``interaction.decide``); these
routes read the request, build the visitor's snapshot, and turn the decision into a response."""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from urllib.parse import quote, urlsplit

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from openplate.oauth import authorize, par
from openplate.oauth.errors import (
    FatalAuthorizationError,
    InvalidClientId,
    InvalidRequest,
    OAuthError,
)
from openplate.oauth.interaction import (
    AskConsent,
    AskSecondFactor,
    Decision,
    IssueCode,
    Refuse,
    SignIn,
    VerifyEmail,
    VisitorSnapshot,
    decide,
)
from openplate.oauth.models import AuthorizationRequest, Client
from openplate.oauth.oidc.hints import HintInvalid, verify_hint
from openplate.oauth.params import Params, parse_params
from openplate.oauth.scopes import SCOPES, format_scope
from openplate.store.unit import Store
from openplate.web import client_documents, interaction, sessions
from openplate.web.context import AppContext, client_ip, context_of, now
from openplate.web.forms import MAX_FORM_BYTES
from openplate.web.pages import (
    Visitor,
    error_page,
    posted_form,
    redirect,
    render,
    signin_url,
    visitor,
)
from openplate.web.routes.app_logo import logo_path

router = APIRouter()

INVALID = "Invalid authorisation request"
CANNOT_CONTINUE = "This authorisation request cannot continue"
#: Where a signed-in user gives a second factor that a request asks for (routes/signin_two_factor.py).
SECOND_FACTOR_PATH = "/signin/two-factor"


def _redirect_host(uri: str) -> str:
    return urlsplit(uri).netloc or uri


def _invalid_page(ctx: AppContext, error: OAuthError) -> Response:
    return error_page(ctx, None, status=400, title=INVALID, message=error.description,
                      error_code=error.error)


def _answer_unseen(ctx: AppContext, who: Visitor, client: Client, location: str, error: OAuthError,
                   snapshot: VisitorSnapshot | None) -> Response:
    """An error found before the user saw anything: back to the client at once if its redirect
    URI is trusted, else a page that names the app and lets the person decide (RFC 9700 §4.11.2)."""
    user_id = snapshot.authentication.user_id if snapshot and snapshot.authentication else None
    remembered = snapshot is not None and snapshot.remembered_scope is not None
    if authorize.may_redirect_unseen(client, user_id=user_id, remembered=remembered):
        return redirect(ctx, location, who)
    return render(ctx, "authorize_error.html", who, status=400, client_name=client.name,
                  message=error.description, error_code=error.error, location=location,
                  redirect_host=_redirect_host(location))


async def _act(ctx: AppContext, store: Store, who: Visitor, client: Client,
               request: AuthorizationRequest, decision: Decision, snapshot: VisitorSnapshot, *,
               handle: str | None) -> Response:
    """Carry out the core's decision for a request, parked under ``handle`` or not yet parked."""
    issuer, t = ctx.settings.base_url, snapshot.now
    if isinstance(decision, (IssueCode, Refuse)):
        if handle is not None:
            assert who.session is not None  # both need a sign-in or a claim by this session
            taken = await store.auth_requests.take(handle=handle, session_id=who.session.id, now=t)
            if taken is None:  # answered meanwhile (a second click, another tab)
                return error_page(ctx, who, status=400, title=CANNOT_CONTINUE,
                                  message="This request was already answered. "
                                          "Start again from the application.")
        if isinstance(decision, Refuse):
            location = authorize.refuse(request, decision.error, issuer=issuer)
            if snapshot.consent_given:  # the user saw the consent page and its host
                return redirect(ctx, location, who)
            return _answer_unseen(ctx, who, client, location, decision.error, snapshot)
        signed_in = decision.authentication
        session = who.session
        location = await authorize.approve(
            request, user_id=signed_in.user_id, auth_time=signed_in.auth_time,
            amr=signed_in.methods, store=store,
            digester=ctx.digester, now=t, code_ttl=ctx.settings.code_ttl, issuer=issuer,
            sid=session.sid if session else None,
        )
        if snapshot.consent_given:
            await _remember_consent(store, client, request, user_id=signed_in.user_id, now=t)
        return redirect(ctx, location, who)
    if handle is None:
        handle = await interaction.park(ctx, store, request, who=who, now=t)
    if isinstance(decision, SignIn):
        return redirect(ctx, signin_url(interaction.resume_path(handle)), who)
    if isinstance(decision, AskSecondFactor):
        return redirect(ctx, SECOND_FACTOR_PATH + "?next="
                        + quote(interaction.resume_path(handle), safe=""), who)
    if isinstance(decision, VerifyEmail):
        assert who.user is not None
        return render(ctx, "verify_email_needed.html", who, client_name=client.name,
                      email=who.user.email, next=interaction.resume_path(handle))
    assert isinstance(decision, AskConsent)
    owner = await store.users.by_id(client.owner_id) if client.owner_id is not None else None
    return render(
        ctx, "consent.html", who, client_name=client.name, handle=handle,
        redirect_host=_redirect_host(request.redirect_uri),
        scopes=[(scope, SCOPES[scope]) for scope in request.scope],
        app=client, developer=owner.username if owner is not None else None,
        homepage_host=_redirect_host(client.homepage_url) if client.homepage_url else None,
        logo_url=logo_path(client.client_id, client.logo_digest),
        vouched_by=(_redirect_host(client.client_id) if client.registration == "metadata"
                    else None),
    )


async def _remember_consent(store: Store, client: Client, request: AuthorizationRequest, *,
                            user_id: int, now: int) -> None:
    remembered = await store.consents.scope_for(user_id=user_id, client_pk=client.pk)
    union = list(dict.fromkeys([*(remembered or "").split(), *request.scope]))
    await store.consents.remember(user_id=user_id, client_pk=client.pk,
                                  scope=format_scope(union), now=now)
    if user_id != client.owner_id and not client.trusted:
        await store.applications.trust(pk=client.pk, now=now)
    await store.events.append(kind="consent.granted", now=now, user_id=user_id,
                              client_id=client.client_id,
                              detail={"scope": format_scope(request.scope)})


def _with_hint(ctx: AppContext, params: Params,
               request: AuthorizationRequest) -> AuthorizationRequest | OAuthError:
    """OIDC Core §3.1.2.1 id_token_hint: checked (our signature and issuer; expired is fine),
    and its ``sub`` kept with the request, so that the decision can compare it with the person
    signed in (interaction.STEPS, "id_token_hint"). A hint we did not issue is refused."""
    token = params.get("id_token_hint")
    if token is None:
        return request
    ring = ctx.keys.ring
    try:
        hint = verify_hint(token, keys=ring.published if ring is not None else (),
                           issuer=ctx.settings.base_url)
    except HintInvalid as error:
        return InvalidRequest(str(error))
    return replace(request, hint_subject=hint.subject)


async def _authorize(request: Request, params: Params, *, posted: bool) -> Response:
    ctx = context_of(request)
    issuer = ctx.settings.base_url
    client_id = params.get("client_id")
    if "client_id" not in params.duplicated and client_documents.is_document_client_id(client_id):
        assert client_id is not None
        try:
            await client_documents.ensure_client(ctx, client_id)
        except client_documents.CannotUseDocument as problem:
            return _invalid_page(ctx, InvalidClientId(str(problem)))
    async with ctx.db.transaction() as store:
        # RFC 9126 §4: a pushed request is used up here, in the unit of work that parks it (or
        # issues its code), so of any number of uses at once exactly one goes on.
        load_pushed = partial(par.load, store=store.pushed_requests, digester=ctx.digester,
                              now=now())
        try:
            auth_request = await authorize.validate_request(
                params, store.clients, issuer=issuer, resources=ctx.resources,
                load_pushed=load_pushed, require_pushed=ctx.settings.require_par)
        except FatalAuthorizationError as error:
            return _invalid_page(ctx, error)
        except authorize.ErrorRedirect as refusal:
            who = await visitor(request, ctx, store, create=False) if not posted else Visitor(
                None, None)
            seen = (await interaction.snapshot(store, refusal.client, who, now=now())
                    if who.user is not None else None)
            return _answer_unseen(ctx, who, refusal.client, refusal.location, refusal.error, seen)
        client = await store.clients.by_client_id(auth_request.client_id)
        assert client is not None
        hinted = _with_hint(ctx, params, auth_request)
        if isinstance(hinted, OAuthError):
            who = await visitor(request, ctx, store, create=False) if not posted else Visitor(
                None, None)
            seen = (await interaction.snapshot(store, client, who, now=now())
                    if who.user is not None else None)
            location = authorize.refuse(auth_request, hinted, issuer=issuer)
            return _answer_unseen(ctx, who, client, location, hinted, seen)
        auth_request = hinted
        t = now()
        if posted:
            # A form POSTed from the app's site carries no SameSite=Lax cookie: park the request
            # unclaimed and continue with a GET, on which the browser sends its session cookie.
            handle = await interaction.park(ctx, store, auth_request, who=None, now=t)
            return redirect(ctx, interaction.resume_path(handle))
        who = await visitor(request, ctx, store, create=False)
        seen = await interaction.snapshot(store, client, who, now=t,
                                          acr_values=auth_request.acr_values,
                                          require_verified_email=ctx.settings.require_verified_email)
        return await _act(ctx, store, who, client, auth_request, decide(auth_request, client, seen),
                          seen, handle=None)


@router.get("/oauth/auth", include_in_schema=False)
async def authorization_endpoint(request: Request) -> Response:
    try:
        params = parse_params(request.scope.get("query_string", b""))
    except InvalidRequest as error:
        return _invalid_page(context_of(request), error)
    return await _authorize(request, params, posted=False)


@router.post("/oauth/auth", include_in_schema=False)
async def authorization_endpoint_post(request: Request) -> Response:
    """OIDC Core §3.1.2.1: "Authorization Servers MUST support the use of the HTTP GET and POST
    methods defined in RFC 7231 at the Authorization Endpoint." The form is read like a query
    string (duplicates are the validator's to judge), and parameters go in the body only."""
    ctx = context_of(request)
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        return _invalid_page(ctx, InvalidRequest(
            "Send the request as an application/x-www-form-urlencoded form."))
    if request.scope.get("query_string"):
        return _invalid_page(ctx, InvalidRequest(
            "A POSTed request carries its parameters in the body, not the query string."))
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return _invalid_page(ctx, InvalidRequest("The request is too large."))
    try:
        params = parse_params(bytes(body))
    except InvalidRequest as error:
        return _invalid_page(ctx, error)
    return await _authorize(request, params, posted=True)


@router.get("/oauth/auth/resume", include_in_schema=False)
async def resume_endpoint(request: Request) -> Response:
    """Where the sign-in page sends the browser back: the parked request, decided again."""
    ctx = context_of(request)
    handle = interaction.handle_in(request.url.path + "?" + request.url.query)
    async with ctx.db.transaction() as store:
        # The page it shows (consent, verify your address) tells what the last post did.
        who = await visitor(request, ctx, store, create=False, notice=True)
        t = now()
        try:
            if handle is None:
                raise interaction.CannotResume("This link is incomplete. "
                                               "Start again from the application.")
            resumed = await interaction.resume(ctx, store, who, handle, now=t)
        except interaction.CannotResume as error:
            return error_page(ctx, who, status=400, title=CANNOT_CONTINUE, message=str(error))
        seen = await interaction.snapshot(store, resumed.client, who, now=t,
                                          parked=resumed.parked,
                                          acr_values=resumed.request.acr_values,
                                          require_verified_email=ctx.settings.require_verified_email)
        decision = decide(resumed.request, resumed.client, seen)
        return await _act(ctx, store, who, resumed.client, resumed.request, decision, seen,
                          handle=resumed.handle)


@router.post("/oauth/auth/decision", include_in_schema=False)
async def decision_endpoint(request: Request) -> Response:
    ctx = context_of(request)
    form = await posted_form(request, ctx, title=CANNOT_CONTINUE)
    if isinstance(form, Response):
        return form
    ip = client_ip(request)
    async with ctx.db.transaction(ip=ip) as store:
        who = await visitor(request, ctx, store, create=False)
        if not sessions.csrf_ok(who.session, form.get("csrf_token")) or who.session is None:
            return error_page(ctx, who, status=403, title=CANNOT_CONTINUE,
                              message="Your form expired. Start again from the application.")
        if who.user is None:
            return error_page(ctx, who, status=403, title=CANNOT_CONTINUE,
                              message="You are signed out. Start again from the application.")
        choice = form.get("decision")
        if choice not in ("allow", "deny"):
            return error_page(ctx, who, status=400, title=CANNOT_CONTINUE,
                              message="Choose Allow or Deny.")
        t = now()
        try:
            resumed = await interaction.resume(ctx, store, who, form.get("request") or "", now=t)
        except interaction.CannotResume as error:
            return error_page(ctx, who, status=400, title=CANNOT_CONTINUE, message=str(error))
        client, auth_request = resumed.client, resumed.request
        assert who.session is not None and who.user is not None
        if choice == "deny":
            if await store.auth_requests.take(handle=resumed.handle, session_id=who.session.id,
                                              now=t) is None:
                return error_page(ctx, who, status=400, title=CANNOT_CONTINUE,
                                  message="This request was already answered. "
                                          "Start again from the application.")
            await store.events.append(kind="consent.denied", now=t, user_id=who.user.id,
                                      client_id=client.client_id,
                                      detail={"scope": format_scope(auth_request.scope)})
            return redirect(ctx, authorize.deny(auth_request, issuer=ctx.settings.base_url))
        seen = await interaction.snapshot(store, client, who, now=t, parked=resumed.parked,
                                          consent_given=True, acr_values=auth_request.acr_values,
                                          require_verified_email=ctx.settings.require_verified_email)
        decision = decide(auth_request, client, seen)
        return await _act(ctx, store, who, client, auth_request, decision, seen,
                          handle=resumed.handle)
