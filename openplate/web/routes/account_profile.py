"""/account: the account's overview (username, display name, e-mail) and its display name form."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from openplate.accounts.display_names import MAX_DISPLAY_NAME, check_display_name
from openplate.accounts.validation import InvalidAccountInput
from openplate.store.account_repos import UserRecord
from openplate.web.context import AppContext, client_ip, context_of, now
from openplate.web.notices import Notice
from openplate.web.pages import (
    Visitor,
    posted_form,
    redirect,
    render,
    signed_in_post,
    signin_url,
    tell,
    visitor,
)

router = APIRouter(include_in_schema=False)
TITLE = "This form could not be used"


def _page(ctx: AppContext, who: Visitor, user: UserRecord, *, status: int = 200,
          error: str | None = None, display_name: str | None = None) -> Response:
    shown = user.display_name or "" if display_name is None else display_name
    return render(ctx, "account.html", who, status=status, account=user, error=error,
                  display_name=shown[:MAX_DISPLAY_NAME * 4], max_display_name=MAX_DISPLAY_NAME)


@router.get("/account")
async def overview(request: Request) -> Response:
    ctx = context_of(request)
    async with ctx.db.transaction() as store:
        who = await visitor(request, ctx, store, create=True, notice=True)
    if who.user is None:
        return redirect(ctx, signin_url("/account"), who)
    return _page(ctx, who, who.user)


@router.post("/account")
async def change_display_name(request: Request) -> Response:
    ctx = context_of(request)
    form = await posted_form(request, ctx, title=TITLE)
    if isinstance(form, Response):
        return form
    typed = form.get("display_name") or ""
    async with ctx.db.transaction(ip=client_ip(request)) as store:
        who = await signed_in_post(request, ctx, store, form, back="/account")
        if isinstance(who, Response):
            return who
        assert who.user is not None and who.session is not None
        try:
            name = check_display_name(typed)
        except InvalidAccountInput as error:
            return _page(ctx, who, who.user, status=400, error=str(error), display_name=typed)
        if name == who.user.display_name:
            await tell(ctx, store, who.session, Notice("Nothing changed."))
            return redirect(ctx, "/account")
        await store.users.set_display_name(user_id=who.user.id, display_name=name)
        await store.events.append(kind="profile.changed", now=now(), user_id=who.user.id)
        text = ("Display name removed: your username is shown instead." if name is None
                else "Display name saved.")
        await tell(ctx, store, who.session, Notice(text))
    return redirect(ctx, "/account")
