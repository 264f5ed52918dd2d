"""/account/sessions: every browser signed in to the account; sign out one, or all others.

Sessions live in the database, so ending one there ends it on every node at once: its cookie
finds no row on the next request, wherever it lands.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from openplate.accounts.devices import describe
from openplate.store.account_repos import SessionRecord
from openplate.web.context import client_ip, context_of, now
from openplate.web.notices import Notice
from openplate.web.pages import (
    confirm_page,
    error_page,
    posted_form,
    redirect,
    render,
    signed_in_post,
    signin_url,
    tell,
    visitor,
)
from openplate.web.times import TIMES_NOTE, moment

router = APIRouter(include_in_schema=False)
TITLE = "This form could not be used"
PATH = "/account/sessions"
OTHERS = "/account/sessions/sign-out-others"
GONE = "That browser is not signed in to your account (any more)."


@dataclass(frozen=True, slots=True)
class Browser:
    """A signed-in session as the page shows it."""

    id: int
    device: str
    ip: str | None
    created_at: int
    last_seen_at: int | None
    current: bool


def _browser(session: SessionRecord, current_id: int) -> Browser:
    return Browser(session.id, describe(session.user_agent).label, session.ip,
                   session.created_at, session.last_seen_at, session.id == current_id)


@router.get(PATH)
async def sessions_page(request: Request) -> Response:
    ctx = context_of(request)
    async with ctx.db.transaction() as store:
        who = await visitor(request, ctx, store, create=True, notice=True)
        if who.user is None or who.session is None:
            return redirect(ctx, signin_url(PATH), who)
        found = await store.sessions.for_user(user_id=who.user.id, now=now())
    browsers = [_browser(s, who.session.id) for s in found]
    browsers.sort(key=lambda b: not b.current)  # this browser first
    return render(ctx, "account_sessions.html", who, browsers=browsers, moment=moment,
                  times_note=TIMES_NOTE, others=sum(1 for b in browsers if not b.current))


@router.post(PATH + "/{session_id}/sign-out")
async def sign_out_one(request: Request, session_id: str) -> Response:
    ctx = context_of(request)
    form = await posted_form(request, ctx, title=TITLE)
    if isinstance(form, Response):
        return form
    async with ctx.db.transaction(ip=client_ip(request)) as store:
        who = await signed_in_post(request, ctx, store, form, back=PATH)
        if isinstance(who, Response):
            return who
        assert who.user is not None and who.session is not None
        if not session_id.isdigit() or len(session_id) > 19 or int(session_id) == who.session.id:
            # This browser signs out with the header's button, which also clears its cookie.
            return error_page(ctx, who, status=404, title="Not found", message=GONE)
        target = next((s for s in await store.sessions.for_user(user_id=who.user.id, now=now())
                       if s.id == int(session_id)), None)
        if target is None or not await store.sessions.delete_of_user(
                user_id=who.user.id, session_id=target.id):
            return error_page(ctx, who, status=404, title="Not found", message=GONE)
        device = describe(target.user_agent).label
        await store.events.append(kind="session.ended", now=now(), user_id=who.user.id,
                                  detail={"device": device})
        await tell(ctx, store, who.session, Notice(f"Signed out {device}."))
    if ctx.backchannel is not None:  # that session's applications are owed logout tokens
        ctx.backchannel.wake()
    return redirect(ctx, PATH)


@router.get(OTHERS)
async def confirm_sign_out_others(request: Request) -> Response:
    ctx = context_of(request)
    async with ctx.db.transaction(readonly=True) as store:
        who = await visitor(request, ctx, store, create=True)
        if who.user is None or who.session is None:
            return redirect(ctx, signin_url(OTHERS), who)
        found = await store.sessions.for_user(user_id=who.user.id, now=now())
    others = sum(1 for s in found if s.id != who.session.id)
    return confirm_page(
        ctx, who, title="Sign out all your other browsers?", action=OTHERS,
        consequences=[
            f"Every other browser signed in to your account ({others} now) is signed out at "
            "once, and must sign in again.",
            "You stay signed in here.",
            "Applications you allowed keep their access: take it away on the page "
            "\u201cApplications you allowed\u201d.",
        ],
        button="Sign out other browsers", cancel=PATH,
    )


@router.post(OTHERS)
async def sign_out_others(request: Request) -> Response:
    ctx = context_of(request)
    form = await posted_form(request, ctx, title=TITLE)
    if isinstance(form, Response):
        return form
    async with ctx.db.transaction(ip=client_ip(request)) as store:
        who = await signed_in_post(request, ctx, store, form, back=PATH)
        if isinstance(who, Response):
            return who
        assert who.user is not None and who.session is not None
        ended = await store.sessions.delete_others(user_id=who.user.id, keep=who.session.id,
                                                    now=now())
        await store.events.append(kind="session.others_ended", now=now(), user_id=who.user.id,
                                  detail={"count": ended})
        text = ("No other browser was signed in." if ended == 0 else
                f"Signed out {ended} other browser{'' if ended == 1 else 's'}.")
        await tell(ctx, store, who.session, Notice(text))
    if ctx.backchannel is not None:
        ctx.backchannel.wake()
    return redirect(ctx, PATH)
