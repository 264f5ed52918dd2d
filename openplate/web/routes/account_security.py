"""/account/security: the account's security timeline in plain words, newest first, paged."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from openplate.accounts.timeline import lines
from openplate.web.context import context_of
from openplate.web.pages import redirect, render, signin_url, visitor
from openplate.web.times import TIMES_NOTE, moment

router = APIRouter(include_in_schema=False)
PATH = "/account/security"
#: Events a page shows (a run of failed sign-ins shows as one line, so a page may show fewer).
PAGE_SIZE = 50


def _cursor(value: str | None) -> int | None:
    """The ``before`` query parameter: an event id; anything else starts at the newest."""
    if value is None or not value.isdigit() or len(value) > 19:
        return None
    return int(value)


@router.get(PATH)
async def security_timeline(request: Request) -> Response:
    ctx = context_of(request)
    before = _cursor(request.query_params.get("before"))
    async with ctx.db.transaction() as store:
        who = await visitor(request, ctx, store, create=True, notice=True)
        if who.user is None:
            return redirect(ctx, signin_url(PATH), who)
        # One more than a page: whether an older page exists.
        events = await store.events.recent(user_id=who.user.id, limit=PAGE_SIZE + 1,
                                           before=before)
        shown = events[:PAGE_SIZE]
        names = await store.applications.names_of(e.client_id for e in shown if e.client_id)
    older = f"{PATH}?before={shown[-1].id}" if len(events) > PAGE_SIZE else None
    return render(ctx, "account_security.html", who, lines=lines(shown, names), older=older,
                  paged=before is not None, moment=moment, times_note=TIMES_NOTE)
