"""Server-side browser sessions: an opaque cookie, a digest in the database, CSRF per session;
and CSRF for browsers that have no session, without a database row.

Signing out deletes the row, so a copied cookie is worthless afterwards; signing in replaces the
session (and its cookie) so an id planted before sign-in is never promoted (session fixation).

Only signing in or up (or a step that truly keeps server state) opens a session, so a crawler
leaves no row behind. A signed-out browser that is shown a form (sign-in, sign-up) gets a *form
cookie* instead: 256 random bits, HttpOnly, SameSite=Lax, ``__Host-`` over HTTPS, for
``FORM_COOKIE_TTL`` seconds. The form carries an HMAC of that value under a key derived from the
instance key, and a post is accepted only when the two match (a signed double-submit token). A
cross-site post does not carry the Lax cookie, and another site can neither read the cookie nor
compute the HMAC of a value it planted.
"""

from __future__ import annotations

import base64
import hmac
import logging
import re
import secrets

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from starlette.requests import Request
from starlette.responses import Response

from openplate.oauth.tokens import SESSION_PREFIX, HmacSha256, plausible
from openplate.store.account_repos import SessionRecord
from openplate.store.unit import Store
from openplate.web.context import AppContext, now

log = logging.getLogger("openplate.web")


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
    amr: tuple[str, ...] = (), for_request: str | None = None, browser_digest: str | None = None,
    user_agent: str | None = None,
) -> tuple[SessionRecord, str]:
    """Open a new session (deleting ``replacing``); return it and the cookie value to set.

    A sign-in (``user_id``, with ``amr`` saying how) takes over the authorisation requests parked
    in the session it replaces, and the one it was made for (``for_request``, the handle the
    sign-in page was sent back to, if this signed-out browser holds it: ``browser_digest``),
    marked as signed in for: that is how prompt=login and max_age learn, server-side, that the
    user has just signed in.
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
        user_agent=user_agent,
        ip=store.ip,
    )
    if user_id is not None:
        await store.auth_requests.sign_in_for(
            handle=for_request, from_session=replacing.id if replacing else None,
            browser_digest=browser_digest, to_session=record.id, signed_in_at=t)
    if replacing is not None:
        await store.sessions.delete(session_id=replacing.id)
    return record, token


def user_agent_of(request: Request) -> str | None:
    """The browser's User-Agent header (the repository cuts it to a safe length)."""
    return request.headers.get("user-agent")


#: A session's ``last_seen_at`` is written at most once in this many seconds (and never by the
#: hot endpoints, which do not read browser sessions): a page view does not cost a write.
SEEN_EVERY = 300


def seen_due(session: SessionRecord | None, at: int) -> bool:
    """Is it time to note that this signed-in session was seen again?"""
    return (session is not None and session.user_id is not None
            and (session.last_seen_at is None or session.last_seen_at <= at - SEEN_EVERY))


async def note_seen(ctx: AppContext, session_id: int, ip: str | None) -> None:
    """Write ``last_seen_at`` (and the address) in a unit of work of its own, after the answer
    has been sent (a background task of the response; see pages.finish). A failure only costs
    the note."""
    try:
        async with ctx.db.transaction() as store:
            await store.sessions.seen(session_id=session_id, now=now(), every=SEEN_EVERY, ip=ip)
    except Exception as error:  # noqa: BLE001 - the page has been served; the next view tries
        # again. No traceback: an unreachable database is already reported where it matters.
        log.warning("could not note a session as seen: %s", type(error).__name__)


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
    """Is ``submitted`` the session's CSRF token? (Forms of signed-in pages.)"""
    return session is not None and token_ok(session.csrf_token, submitted)


# --- CSRF without a session: the form cookie ---------------------------------------------------

#: How long a signed-out browser's form cookie lasts; each page with a form renews it.
FORM_COOKIE_TTL = 12 * 3600
_FORM_KEY = re.compile(r"[A-Za-z0-9_\-]{43}")


def form_cookie_name(ctx: AppContext) -> str:
    return "__Host-openplate-form" if ctx.settings.secure_cookies else "openplate_form"


def form_key(request: Request, ctx: AppContext) -> str | None:
    """The browser's form cookie, if it has a well-formed one."""
    value = request.cookies.get(form_cookie_name(ctx))
    return value if value is not None and _FORM_KEY.fullmatch(value) else None


def new_form_key() -> str:
    return secrets.token_urlsafe(32)


class FormTokens:
    """The CSRF token a form carries for a form cookie: HMAC-SHA-256 under a key derived from the
    instance key (never the instance key itself, so these are no digest of anything else)."""

    def __init__(self, instance_key: bytes) -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                   info=b"openplate form tokens v1").derive(instance_key)
        self._mac = HmacSha256(key)

    def token(self, key: str) -> str:
        return base64.urlsafe_b64encode(self._mac.digest(key.encode("ascii"))).decode().rstrip("=")


def set_form_cookie(response: Response, ctx: AppContext, key: str) -> None:
    response.set_cookie(
        form_cookie_name(ctx),
        key,
        max_age=FORM_COOKIE_TTL,
        path="/",
        secure=ctx.settings.secure_cookies,
        httponly=True,
        samesite="lax",
    )


def token_ok(expected: str, submitted: str | None) -> bool:
    """Constant-time comparison of a form's CSRF token with the one expected."""
    if not expected or not submitted:
        return False
    return hmac.compare_digest(expected.encode(), submitted.encode("utf-8", "replace"))
