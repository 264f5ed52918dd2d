"""Rendering the site's pages for a visitor, with their session, CSRF token and cookie."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from openplate.oauth.params import Params
from openplate.store.account_repos import SessionRecord, UserRecord
from openplate.store.unit import Store
from openplate.web import sessions
from openplate.web.context import AppContext
from openplate.web.forms import BadForm, read_form


@dataclass
class Visitor:
    session: SessionRecord | None
    user: UserRecord | None
    new_cookie: str | None = None

    @property
    def csrf_token(self) -> str:
        return self.session.csrf_token if self.session else ""


async def visitor(request: Request, ctx: AppContext, store: Store, *, create: bool) -> Visitor:
    """Who is asking; with ``create``, an anonymous session is opened so forms get a CSRF token."""
    session = await sessions.current(request, ctx, store)
    if session is None:
        if not create:
            return Visitor(None, None)
        session, token = await sessions.start(ctx, store, user_id=None)
        return Visitor(session, None, token)
    user = await store.users.by_id(session.user_id) if session.user_id is not None else None
    return Visitor(session, user)


def finish(response: Response, ctx: AppContext, who: Visitor | None) -> Response:
    if who is not None and who.new_cookie is not None:
        sessions.set_cookie(response, ctx, who.new_cookie)
    return response


def render(
    ctx: AppContext, template: str, who: Visitor | None, *, status: int = 200, **values: Any
) -> Response:
    page = ctx.templates.get_template(template).render(
        user=who.user if who else None,
        csrf_token=who.csrf_token if who else "",
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
