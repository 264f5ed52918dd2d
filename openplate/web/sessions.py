"""Server-side browser sessions: an opaque cookie, a digest in the database, CSRF per session.

Signing out deletes the row, so a copied cookie is worthless afterwards; signing in replaces the
session (and its cookie) so an id planted before sign-in is never promoted (session fixation).
"""

from __future__ import annotations

import hmac
import secrets

from starlette.requests import Request
from starlette.responses import Response

from openplate.oauth.tokens import SESSION_PREFIX, plausible
from openplate.store.account_repos import SessionRecord
from openplate.store.unit import Store
from openplate.web.context import AppContext, now


def cookie_name(ctx: AppContext) -> str:
    # The __Host- prefix pins the cookie to this host, Secure and Path=/ (RFC 6265bis §4.1.3.2).
    return "__Host-openplate" if ctx.settings.secure_cookies else "openplate_session"


async def current(request: Request, ctx: AppContext, store: Store) -> SessionRecord | None:
    token = request.cookies.get(cookie_name(ctx))
    if not plausible(token, SESSION_PREFIX):
        return None
    assert token is not None
    return await store.sessions.by_digest(digest=ctx.digester.digest(token), now=now())


async def start(
    ctx: AppContext, store: Store, *, user_id: int | None, replacing: SessionRecord | None = None,
    amr: tuple[str, ...] = (),
) -> tuple[SessionRecord, str]:
    """Open a new session (deleting ``replacing``); return it and the cookie value to set.

    A sign-in (``user_id``, with ``amr`` saying how) that replaces a session takes over the
    authorisation requests parked in it, marked as signed in for: that is how prompt=login and
    max_age learn, server-side, that the user has just signed in.
    """
    token = ctx.digester.mint(SESSION_PREFIX)
    t = now()
    record = await store.sessions.create(
        digest=ctx.digester.digest(token),
        csrf_token=secrets.token_urlsafe(32),
        user_id=user_id,
        now=t,
        expires_at=t + ctx.settings.session_ttl,
        amr=amr,
    )
    if replacing is not None:
        if user_id is not None:
            await store.auth_requests.carry_over(from_session=replacing.id, to_session=record.id,
                                                 signed_in_at=t)
        await store.sessions.delete(session_id=replacing.id)
    return record, token


def set_cookie(response: Response, ctx: AppContext, token: str) -> None:
    response.set_cookie(
        cookie_name(ctx),
        token,
        max_age=ctx.settings.session_ttl,
        path="/",
        secure=ctx.settings.secure_cookies,
        httponly=True,
        samesite="lax",
    )


def clear_cookie(response: Response, ctx: AppContext) -> None:
    response.delete_cookie(
        cookie_name(ctx), path="/", secure=ctx.settings.secure_cookies, httponly=True,
        samesite="lax",
    )


def csrf_ok(session: SessionRecord | None, submitted: str | None) -> bool:
    if session is None or not submitted:
        return False
    return hmac.compare_digest(session.csrf_token.encode(), submitted.encode("utf-8", "replace"))
