"""The web side of the authorisation interaction: a browser's snapshot for the core's ``decide``,
parked requests bound to the browser, and where the sign-in page sends the user back.

The decisions themselves are the core's (openplate/oauth/interaction.py); this module only reads
what they need from the session and the database, and keeps the request server-side meanwhile.

A parked request is bound to one browser: to its session, or, for a signed-out browser (which
gets no session row: a crawler following an app's link leaves none), to a keyed digest of its
form cookie until its sign-in moves the request to the new session. A request POSTed from an
app's site arrives with no cookie at all and is bound to the first browser that opens it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from urllib.parse import parse_qs, quote, urlsplit

from openplate.oauth.acr import wants_mfa
from openplate.oauth.interaction import (
    Authentication,
    CorruptParkedRequest,
    VisitorSnapshot,
    deserialise,
    serialise,
)
from openplate.oauth.models import AuthorizationRequest, Client
from openplate.oauth.redirect_uris import find_match
from openplate.store.account_repos import ParkedRequest
from openplate.store.unit import Store
from openplate.web import second_factor, sessions
from openplate.web.context import AppContext
from openplate.web.pages import Visitor

#: Where the sign-in page sends the browser back to: the parked request, by its handle.
RESUME_PATH = "/oauth/auth/resume"
HANDLE_BYTES = 24


def resume_path(handle: str) -> str:
    return f"{RESUME_PATH}?request={quote(handle, safe='')}"


def handle_in(path: str) -> str | None:
    """The handle of a resume path (as ``resume_path`` makes them), else None."""
    parts = urlsplit(path)
    if parts.path != RESUME_PATH:
        return None
    values = parse_qs(parts.query).get("request", [])
    return values[0] if len(values) == 1 and 0 < len(values[0]) <= 64 else None


def browser_digest(ctx: AppContext, who: Visitor) -> str | None:
    """The keyed digest that binds a request to a signed-out browser (its form cookie)."""
    if who.session is not None or who.form_key is None:
        return None
    return ctx.digester.digest("browser\x00" + who.form_key)


def bind_browser(ctx: AppContext, who: Visitor) -> str | None:
    """``browser_digest``, giving a signed-out browser a form cookie first if it has none (set
    with the answer; no database row)."""
    if who.session is None and who.form_key is None:
        who.form_key = sessions.new_form_key()
        who.form_token = ctx.form_tokens.token(who.form_key)
        who.renew_form_cookie = True
    return browser_digest(ctx, who)


async def snapshot(
    store: Store, client: Client, who: Visitor, *, now: int, parked: ParkedRequest | None = None,
    consent_given: bool = False, acr_values: tuple[str, ...] = (),
    require_verified_email: bool = False,
) -> VisitorSnapshot:
    """What the core needs to know about this browser to decide the request (``acr_values``:
    the request's; whether the user has a second factor is looked up only when they ask for
    it, so an ordinary authorisation costs no extra query; ``require_verified_email``: the
    server's OPENPLATE_REQUIRE_VERIFIED_EMAIL)."""
    authentication = None
    remembered = None
    has_second_factor = False
    if who.user is not None and who.session is not None and who.session.auth_time is not None:
        authentication = Authentication(
            user_id=who.user.id, auth_time=who.session.auth_time,
            methods=who.session.amr or ("pwd",),
        )
        scope = await store.consents.scope_for(user_id=who.user.id, client_pk=client.pk)
        remembered = frozenset(scope.split()) if scope is not None else None
        if wants_mfa(acr_values):
            has_second_factor = await second_factor.has_second_factor(store, who.user.id)
    return VisitorSnapshot(
        now=now, authentication=authentication,
        signed_in_for_request=parked is not None and parked.signed_in_at is not None,
        remembered_scope=remembered, consent_given=consent_given,
        has_second_factor=has_second_factor,
        email_verified=who.user.email_verified if authentication is not None and who.user else None,
        verified_email_required=require_verified_email,
    )


async def park(
    ctx: AppContext, store: Store, request: AuthorizationRequest, *, who: Visitor | None,
    now: int,
) -> str:
    """Keep the request server-side, bound to this browser (``who``; None for a request that
    came with no cookie), and return its random handle."""
    handle = secrets.token_urlsafe(HANDLE_BYTES)
    session_id = who.session.id if who is not None and who.session is not None else None
    await store.auth_requests.park(
        handle=handle, session_id=session_id, client_pk=request.client_pk,
        request=serialise(request), now=now, expires_at=now + ctx.settings.auth_request_ttl,
        browser_digest=bind_browser(ctx, who) if who is not None else None,
    )
    return handle


@dataclass(frozen=True, slots=True)
class Resumed:
    """A parked request of this browser, read back, with its client as it is now."""

    handle: str
    parked: ParkedRequest
    request: AuthorizationRequest
    client: Client


class CannotResume(Exception):
    """The parked request is gone, belongs to another browser, or its app changed; the message
    is for a person."""


def _belongs(ctx: AppContext, parked: ParkedRequest, who: Visitor) -> bool:
    if parked.session_id is not None:
        return who.session is not None and parked.session_id == who.session.id
    if parked.browser_digest is not None and who.session is None:
        return parked.browser_digest == browser_digest(ctx, who)
    return False


async def resume(ctx: AppContext, store: Store, who: Visitor, handle: str, *,
                 now: int) -> Resumed:
    """The parked request ``handle`` of this browser, with its client. A request no session
    holds yet is claimed here by this browser's session, or bound to it if it is signed out."""
    parked = await store.auth_requests.find(handle=handle, now=now)
    if parked is None:
        raise CannotResume("This request expired or was already answered. "
                           "Start again from the application.")
    if not _belongs(ctx, parked, who):
        if parked.session_id is not None:
            raise CannotResume("This request was started in another browser or before you "
                               "signed out. Start again from the application.")
        session_id = who.session.id if who.session is not None else None
        digest = None if session_id is not None else bind_browser(ctx, who)
        if not await store.auth_requests.claim(handle=handle, session_id=session_id,
                                               browser_digest=digest, now=now):
            raise CannotResume("This request was started in another browser. "
                               "Start again from the application.")
        parked = replace(parked, session_id=session_id, browser_digest=digest)
    try:
        request = deserialise(parked.request)
    except CorruptParkedRequest:
        raise CannotResume("This request can no longer be read. "
                           "Start again from the application.") from None
    client = await store.clients.by_client_id(request.client_id)
    if (client is None or client.pk != parked.client_pk
            or find_match(request.redirect_uri, client.redirect_uris) is None):
        raise CannotResume("The application changed or was deleted meanwhile.")
    if client.disabled:
        raise CannotResume("This application was disabled meanwhile: it cannot ask for access "
                           "to accounts at the moment.")
    return Resumed(handle, parked, request, client)


@dataclass(frozen=True, slots=True)
class PendingSignIn:
    """A parked request waiting for this browser to sign in: what the sign-in page may show."""

    client_name: str
    login_hint: str | None


async def pending_sign_in(ctx: AppContext, store: Store, who: Visitor, next_path: str, *,
                          now: int) -> PendingSignIn | None:
    """If ``next_path`` resumes a request of this browser that nobody has signed in for yet."""
    handle = handle_in(next_path)
    if handle is None:
        return None
    parked = await store.auth_requests.find(handle=handle, now=now)
    if parked is None or parked.signed_in_at is not None or not _belongs(ctx, parked, who):
        return None
    try:
        request = deserialise(parked.request)
    except CorruptParkedRequest:
        return None
    client = await store.clients.by_client_id(request.client_id)
    if client is None:
        return None
    return PendingSignIn(client.name, request.login_hint)
