"""OpenID Connect RP-Initiated Logout 1.0: the end-session endpoint, /oauth/logout.

An application sends the browser here (GET, or a POSTed form: §2 "OPs MUST support the use of
the HTTP GET and POST methods"). The request is checked by the core
(openplate.oauth.oidc.end_session); a bad one gets a 400 page, never a redirect. A signed-in
person is asked first, with a CSRF-protected form ("Sign out of Openplate?", naming the app that
asks): a link alone cannot sign anyone out (logout CSRF), and if the ``id_token_hint`` names
someone else than the person signed in here, the page says so. Signing out ends the server-side
session as /signout does (its applications then hear of it by Back-Channel Logout), and the
browser goes to the registered ``post_logout_redirect_uri`` with ``state``, or to our own
"You are signed out" page.
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from openplate.oauth.errors import InvalidRequest
from openplate.oauth.oidc.claims import subject
from openplate.oauth.oidc.end_session import LogoutRequest, return_location, validate_logout
from openplate.oauth.params import Params, parse_params
from openplate.store.unit import Store
from openplate.web import sessions
from openplate.web.context import AppContext, client_ip, context_of, now
from openplate.web.forms import MAX_FORM_BYTES
from openplate.web.pages import Visitor, error_page, posted_form, redirect, render, visitor

router = APIRouter(include_in_schema=False)

PATH = "/oauth/logout"
CONFIRM = "/oauth/logout/confirm"
DONE = "/oauth/logout/done"
INVALID = "This sign-out request cannot be used"
EXPIRED = "Your form expired. Go back to the application and sign out again."


def _invalid_page(ctx: AppContext, who: Visitor | None, error: InvalidRequest) -> Response:
    return error_page(ctx, who, status=400, title=INVALID, message=error.description,
                      error_code=error.error)


async def _validated(ctx: AppContext, store: Store, params: Params) -> LogoutRequest:
    ring = ctx.keys.ring
    return await validate_logout(params, store.clients, issuer=ctx.settings.base_url,
                                 keys=ring.published if ring is not None else ())


def _after_sign_out(ctx: AppContext, request: Request, logout: LogoutRequest) -> Response:
    """Back to the application's registered URI (with state), else our own page; the session
    cookie cleared if the browser sent one (a crawler gets no Set-Cookie)."""
    response = redirect(ctx, return_location(logout) or DONE)
    if sessions.cookie_name(ctx) in request.cookies:
        sessions.clear_cookie(response, ctx)
    return response


async def _end_session(request: Request, params: Params) -> Response:
    ctx = context_of(request)
    async with ctx.db.transaction(readonly=True) as store:
        who = await visitor(request, ctx, store, create=True)
        try:
            logout = await _validated(ctx, store, params)
        except InvalidRequest as error:
            return _invalid_page(ctx, who, error)
    if who.user is None:  # nobody to sign out here: go on at once
        return _after_sign_out(ctx, request, logout)
    other_account = (logout.hint is not None
                     and logout.hint.subject != subject(who.user.id))
    app = logout.client
    return render(
        ctx, "logout_confirm.html", who, app_name=app.name if app else None,
        return_host=urlsplit(logout.post_logout_redirect_uri).netloc
        if logout.post_logout_redirect_uri else None,
        other_account=other_account, fields=logout.form_fields(params.get("id_token_hint")),
        action=CONFIRM,
    )


@router.get(PATH)
async def end_session_endpoint(request: Request) -> Response:
    try:
        params = parse_params(request.scope.get("query_string", b""))
    except InvalidRequest as error:
        return _invalid_page(context_of(request), None, error)
    return await _end_session(request, params)


@router.post(PATH)
async def end_session_endpoint_post(request: Request) -> Response:
    """The same request POSTed as a form from the application's site. That post carries no
    SameSite=Lax cookie, so it is checked, then continued with a GET (303) on which the browser
    sends its session cookie."""
    ctx = context_of(request)
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        return _invalid_page(ctx, None, InvalidRequest(
            "Send the request as an application/x-www-form-urlencoded form."))
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return _invalid_page(ctx, None, InvalidRequest("The request is too large."))
    try:
        params = parse_params(bytes(body))
        async with ctx.db.transaction(readonly=True) as store:
            logout = await _validated(ctx, store, params)
    except InvalidRequest as error:
        return _invalid_page(ctx, None, error)
    query = urlencode(logout.form_fields(params.get("id_token_hint")))
    return redirect(ctx, PATH + ("?" + query if query else ""))


@router.post(CONFIRM)
async def confirm_sign_out(request: Request) -> Response:
    ctx = context_of(request)
    form = await posted_form(request, ctx, title=INVALID)
    if isinstance(form, Response):
        return form
    async with ctx.db.transaction(ip=client_ip(request)) as store:
        who = await visitor(request, ctx, store, create=False)
        if not who.csrf_ok(form.get("csrf_token")):
            return error_page(ctx, who, status=403, title=INVALID, message=EXPIRED)
        try:
            logout = await _validated(ctx, store, Params(
                values={k: v for k, v in form.values.items() if k != "csrf_token"},
                duplicated=form.duplicated))
        except InvalidRequest as error:
            return _invalid_page(ctx, who, error)
        if who.session is not None:
            # As /signout does: the row goes, so the cookie is worthless everywhere; the
            # session's applications are owed their logout tokens in this same unit of work.
            await store.sessions.delete(session_id=who.session.id)
        if who.user is not None:
            await store.events.append(
                kind="signout", now=now(), user_id=who.user.id,
                client_id=logout.client.client_id if logout.client else None,
                detail={"via": "end_session"})
    if ctx.backchannel is not None:
        ctx.backchannel.wake()
    return _after_sign_out(ctx, request, logout)


@router.get(DONE)
async def signed_out_page(request: Request) -> Response:
    ctx = context_of(request)
    async with ctx.db.transaction(readonly=True) as store:
        who = await visitor(request, ctx, store, create=False)
    return render(ctx, "logged_out.html", who)
