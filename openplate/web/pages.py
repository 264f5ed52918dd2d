"""Rendering the site's pages for a visitor, with their session, CSRF token and cookie."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from openplate.oauth.params import Params
from openplate.store.account_repos import SessionRecord, UserRecord
from openplate.store.unit import Store
from openplate.web import sessions
from openplate.web.context import AppContext, client_ip, now
from openplate.web.forms import BadForm, read_form
from openplate.web.notices import NOTICE_TTL, Notice


@dataclass
class Visitor:
    """Who is asking: their session and user if they have them, and how their forms are bound."""

    session: SessionRecord | None
    user: UserRecord | None
    #: A session cookie to set with the answer (``ensure_session`` opened one).
    new_cookie: str | None = None
    #: The form cookie of a browser without a session, and the CSRF token derived from it.
    form_key: str | None = None
    form_token: str = ""
    #: Set the form cookie with the answer (new, or renewed by a page with a form).
    renew_form_cookie: bool = False
    #: The one-time notice this page shows (taken from the session by ``visitor(notice=True)``).
    notice: Notice | None = None
    #: The address to note as the session's last sighting once the answer is sent (``finish``),
    #: when the last note is older than ``sessions.SEEN_EVERY``; None: nothing to write.
    seen_from: str | None = None

    @property
    def csrf_token(self) -> str:
        """The token this visitor's forms carry: the session's, else the form cookie's."""
        return self.session.csrf_token if self.session else self.form_token

    @property
    def signed_in(self) -> bool:
        return self.session is not None and self.session.user_id is not None

    def csrf_ok(self, submitted: str | None) -> bool:
        """Is ``submitted`` this browser's CSRF token? A signed-in session accepts only its own;
        a signed-out browser also the one bound to its form cookie."""
        if sessions.csrf_ok(self.session, submitted):
            return True
        return not self.signed_in and sessions.token_ok(self.form_token, submitted)


async def visitor(
    request: Request, ctx: AppContext, store: Store, *, create: bool, notice: bool = False
) -> Visitor:
    """Who is asking. This never opens a session: nothing a signed-out visitor or a crawler
    merely looks at leaves a row behind.

    ``create``: the page shows a form. A browser without a session then gets a CSRF token bound
    to its form cookie (made now if it has none, and set or renewed with the answer by
    ``finish``). Without ``create`` an existing form cookie is still read, so a post can be
    checked with ``Visitor.csrf_ok``, but none is set. (``create`` used to open an anonymous
    session row for this; a step that truly must keep server state for a signed-out browser now
    calls ``ensure_session``.)

    ``notice``: the page renders for a GET, so it takes the session's one-time notice (removing
    it in this unit of work) and shows it. Needs a writing unit of work when there is one.
    """
    session = await sessions.current(request, ctx, store)
    user = None
    if session is not None and session.user_id is not None:
        user = await store.users.by_id(session.user_id)
        # Disabling deletes the account's sessions; reading the flag here too (the row is read
        # anyway) holds for a session that a sign-in on another node opened in that moment.
        if user is not None and user.disabled:
            session, user = None, None
    who = Visitor(session, user)
    if sessions.seen_due(session, now()):
        who.seen_from = client_ip(request)
    if session is None:
        who.form_key = sessions.form_key(request, ctx)
        if who.form_key is None and create:
            who.form_key = sessions.new_form_key()
        if who.form_key is not None:
            who.form_token = ctx.form_tokens.token(who.form_key)
            who.renew_form_cookie = create
    if notice:
        await take_notice(ctx, store, who)
    return who


async def take_notice(ctx: AppContext, store: Store, who: Visitor) -> None:
    """Take the session's one-time notice for this page (needs a writing unit of work)."""
    session = who.session
    if session is not None and session.flash is not None:
        if await store.sessions.take_flash(session_id=session.id, seen=session.flash):
            who.notice = ctx.notice_seal.open(session.flash, session_id=session.id)


async def ensure_session(ctx: AppContext, store: Store, who: Visitor) -> SessionRecord:
    """The visitor's session, opening a signed-out one (a row, and a cookie set by ``finish``)
    if they have none. Only for state that must live server-side between requests."""
    if who.session is None:
        who.session, who.new_cookie = await sessions.start(ctx, store, user_id=None)
    return who.session


async def tell(ctx: AppContext, store: Store, session: SessionRecord, notice: Notice) -> None:
    """Keep ``notice`` for the next page this session loads (sealed; see notices.py)."""
    await store.sessions.set_flash(
        session_id=session.id, flash=ctx.notice_seal.seal(notice, session_id=session.id),
        expires_at=now() + NOTICE_TTL,
    )


def finish(response: Response, ctx: AppContext, who: Visitor | None) -> Response:
    if who is not None and who.seen_from is not None and who.session is not None:
        # After the answer is sent, in a unit of work of its own (see sessions.note_seen).
        response.background = BackgroundTask(sessions.note_seen, ctx, who.session.id,
                                             who.seen_from)
    if who is not None and who.new_cookie is not None:
        sessions.set_cookie(response, ctx, who.new_cookie)
    if who is not None and who.renew_form_cookie and who.form_key is not None:
        sessions.set_form_cookie(response, ctx, who.form_key)
    return response


def render(
    ctx: AppContext, template: str, who: Visitor | None, *, status: int = 200, **values: Any
) -> Response:
    page = ctx.templates.get_template(template).render(
        user=who.user if who else None,
        csrf_token=who.csrf_token if who else "",
        notice=who.notice if who else None,
        **values,
    )
    return finish(HTMLResponse(page, status_code=status), ctx, who)


def error_page(
    ctx: AppContext, who: Visitor | None, *, status: int, title: str, message: str,
    error_code: str | None = None,
) -> Response:
    return render(
        ctx, "error.html", who, status=status, title=title, message=message, error_code=error_code
    )


def confirm_page(
    ctx: AppContext, who: Visitor, *, title: str, consequences: list[str], action: str,
    button: str, cancel: str,
) -> Response:
    """Ask before a destructive action: what it will do, a button that posts it, and Cancel."""
    return render(ctx, "confirm.html", who, title=title, consequences=consequences,
                  action=action, button=button, cancel=cancel)


def duration(seconds: int) -> str:
    """A time span in words: "1 hour", "90 minutes", "2 days"."""
    for unit, size in (("day", 86_400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return f"{seconds} seconds"


def redirect(ctx: AppContext, location: str, who: Visitor | None = None) -> Response:
    """A 303 See Other, so a POST is never replayed by the browser."""
    return finish(RedirectResponse(location, status_code=303), ctx, who)


def safe_next(target: str | None) -> str:
    """A same-site path to return to after sign-in; anything else becomes the home page."""
    if (
        not target
        or not target.startswith("/")
        or target.startswith(("//", "/\\"))
        or len(target) > 8192
        or any(ord(c) < 0x21 or ord(c) == 0x7F for c in target)
    ):
        return "/"
    return target


def signin_url(next_path: str) -> str:
    return "/signin?next=" + quote(next_path, safe="")


async def posted_form(request: Request, ctx: AppContext, *, title: str) -> Params | Response:
    """The posted form, or the error page saying why it could not be read."""
    try:
        return await read_form(request)
    except BadForm as error:
        return error_page(ctx, None, status=400, title=title, message=str(error))


async def signed_in_post(
    request: Request, ctx: AppContext, store: Store, form: Params, *, back: str
) -> Visitor | Response:
    """The signed-in visitor behind a form post with a valid CSRF token, or the page saying why
    not. Read the form (``posted_form``) before opening the transaction: a slow client must never
    hold a unit of work open."""
    who = await visitor(request, ctx, store, create=False)
    if not sessions.csrf_ok(who.session, form.get("csrf_token")):
        return error_page(ctx, who, status=403, title="This form could not be used",
                          message="Your form expired. Reload the page and try again.")
    if who.user is None:
        return redirect(ctx, signin_url(back), who)
    return who
