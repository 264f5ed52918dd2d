"""The web side of the authorisation interaction: a browser's snapshot for the core's ``decide``,
parked requests bound to the browser session, and where the sign-in page sends the user back.

The decisions themselves are the core's (openplate/oauth/interaction.py); this module only reads
what they need from the session and the database, and keeps the request server-side meanwhile.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from urllib.parse import parse_qs, quote, urlsplit

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
from openplate.web import sessions
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


async def snapshot(
    store: Store, client: Client, who: Visitor, *, now: int, parked: ParkedRequest | None = None,
    consent_given: bool = False,
) -> VisitorSnapshot:
    """What the core needs to know about this browser to decide the request."""
    authentication = None
    remembered = None
    if who.user is not None and who.session is not None and who.session.auth_time is not None:
        authentication = Authentication(
            user_id=who.user.id, auth_time=who.session.auth_time,
            methods=who.session.amr or ("pwd",),
        )
        scope = await store.consents.scope_for(user_id=who.user.id, client_pk=client.pk)
        remembered = frozenset(scope.split()) if scope is not None else None
    return VisitorSnapshot(
        now=now, authentication=authentication,
        signed_in_for_request=parked is not None and parked.signed_in_at is not None,
        remembered_scope=remembered, consent_given=consent_given,
    )


async def ensure_session(ctx: AppContext, store: Store, who: Visitor) -> Visitor:
    """The visitor with a session row to bind a parked request to (a new anonymous one if none)."""
    if who.session is not None:
        return who
    session, token = await sessions.start(ctx, store, user_id=None)
    return Visitor(session, who.user, token)


async def park(
    ctx: AppContext, store: Store, request: AuthorizationRequest, *, session_id: int | None,
    now: int,
) -> str:
    """Keep the request server-side; return its handle (random, bound to ``session_id``)."""
    handle = secrets.token_urlsafe(HANDLE_BYTES)
    await store.auth_requests.park(
        handle=handle, session_id=session_id, client_pk=request.client_pk,
        request=serialise(request), now=now, expires_at=now + ctx.settings.auth_request_ttl,
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


async def resume(ctx: AppContext, store: Store, who: Visitor, handle: str, *,
                 now: int) -> tuple[Resumed, Visitor]:
    """The parked request ``handle`` of this browser's session, with its client; and the visitor,
    with a new session if an unclaimed request (one POSTed cross-site) needed one to bind to."""
    parked = await store.auth_requests.find(handle=handle, now=now)
    if parked is None or (who.session is None and parked.session_id is not None):
        raise CannotResume("This request expired or was already answered. "
                           "Start again from the application.")
    if parked.session_id is None:
        who = await ensure_session(ctx, store, who)
        assert who.session is not None
        if not await store.auth_requests.claim(handle=handle, session_id=who.session.id, now=now):
            raise CannotResume("This request was already opened in another browser. "
                               "Start again from the application.")
    elif who.session is None or parked.session_id != who.session.id:
        raise CannotResume("This request was started in another browser or before you signed "
                           "out. Start again from the application.")
    try:
        request = deserialise(parked.request)
    except CorruptParkedRequest:
        await store.auth_requests.take(handle=handle, session_id=who.session.id, now=now)
        raise CannotResume("This request can no longer be read. "
                           "Start again from the application.") from None
    client = await store.clients.by_client_id(request.client_id)
    if (client is None or client.pk != parked.client_pk
            or find_match(request.redirect_uri, client.redirect_uris) is None):
        raise CannotResume("The application changed or was deleted meanwhile.")
    return Resumed(handle, parked, request, client), who


@dataclass(frozen=True, slots=True)
class PendingSignIn:
    """A parked request waiting for this browser to sign in: what the sign-in page may show."""

    client_name: str
    login_hint: str | None


async def pending_sign_in(store: Store, who: Visitor, next_path: str, *,
                          now: int) -> PendingSignIn | None:
    """If ``next_path`` resumes a request of this session that nobody has signed in for yet."""
    handle = handle_in(next_path)
    if handle is None or who.session is None:
        return None
    parked = await store.auth_requests.find(handle=handle, now=now)
    if parked is None or parked.session_id != who.session.id or parked.signed_in_at is not None:
        return None
    try:
        request = deserialise(parked.request)
    except CorruptParkedRequest:
        return None
    client = await store.clients.by_client_id(request.client_id)
    if client is None:
        return None
    return PendingSignIn(client.name, request.login_hint)
