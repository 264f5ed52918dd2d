"""``/account/delete``: a user deletes their own account, after seeing exactly what goes.

The page lists the applications and maps by name and how many applications the user has
allowed, and asks for the password and, when two-factor sign-in is on, a code from the
authenticator app or a recovery code (``second_factor.check_code``: counted, used up). The password
check is a password attempt, throttled as a sign-in is (web/attempts.py). The deletion is one
transaction (``lifecycle.delete_account``, which ``openplate user delete`` runs too); the
browser is then signed out and sent to the home page with a notice.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from openplate.accounts import lifecycle
from openplate.oauth.params import Params
from openplate.store.account_repos import UserRecord
from openplate.throttling import Refused
from openplate.web import attempts, second_factor, sessions
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
PATH = "/account/delete"
TITLE = "This form could not be used"
EXPIRED = "Your form expired. Reload the page and try again."
DELETED_NOTICE = ("Your account was deleted, with its applications and maps. Every application "
                  "lost access to it, and every browser was signed out.")


async def _page(ctx: AppContext, who: Visitor, user: UserRecord, *, status: int = 200,
                error: str | None = None, code_error: str | None = None) -> Response:
    async with ctx.db.transaction(readonly=True) as store:
        preview = await store.admin.deletion_preview(user_id=user.id)
        ask_code = await second_factor.enrolled(store, user.id)
    return render(ctx, "account_delete.html", who, status=status, account=user, preview=preview,
                  error=error, code_error=code_error, ask_code=ask_code)


async def _second_factor_refused(ctx: AppContext, request: Request, user: UserRecord,
                                 form: Params) -> tuple[int, str] | None:
    """Why the second factor does not hold (status and words), or None: with two-factor
    sign-in on, deleting the account also needs a current code or an unused recovery code."""
    async with ctx.db.transaction(readonly=True) as store:
        if not await second_factor.enrolled(store, user.id):
            return None
    typed = (form.get("code") or "").strip()
    if not typed:
        return 400, "Enter a code from your authenticator app, or a recovery code. Nothing was deleted."
    result = await second_factor.check_code(ctx, request, user_id=user.id, typed=typed, now=now())
    if result.retry_after is not None:
        return 429, "Too many wrong codes. Wait a few minutes, then try again. Nothing was deleted."
    if not result.ok:
        return 401, "That code is not right, or was already used. Nothing was deleted."
    return None


@router.get(PATH)
async def delete_page(request: Request) -> Response:
    ctx = context_of(request)
    async with ctx.db.transaction() as store:
        who = await visitor(request, ctx, store, create=True, notice=True)
    if who.user is None:
        return redirect(ctx, signin_url(PATH), who)
    return await _page(ctx, who, who.user)


@router.post(PATH)
async def delete_account(request: Request) -> Response:
    ctx = context_of(request)
    form = await posted_form(request, ctx, title=TITLE)
    if isinstance(form, Response):
        return form
    async with ctx.db.transaction(readonly=True) as store:
        who = await signed_in_post(request, ctx, store, form, back=PATH)
    if isinstance(who, Response):
        return who
    assert who.user is not None and who.session is not None
    user = who.user
    # The password is a password attempt like a sign-in's, on the same budgets (web/attempts.py).
    attempt = await attempts.password_attempt(ctx, request, login=user.username, user=user,
                                              purpose="account_delete")
    if isinstance(attempt, Refused):
        response = await _page(ctx, who, user, status=429,
                               error="Too many wrong passwords. Wait a few minutes, then try again.")
        response.headers["Retry-After"] = str(attempt.retry_after)
        return response
    if not await attempt.check(user, form.get("password") or ""):
        return await _page(ctx, who, user, status=401,
                           error="That password is not right. Nothing was deleted.")
    await attempt.succeeded()
    refused = await _second_factor_refused(ctx, request, user, form)
    if refused is not None:
        return await _page(ctx, who, user, status=refused[0], code_error=refused[1])
    async with ctx.db.transaction(ip=client_ip(request)) as store:
        current = await store.users.by_id(user.id)
        if current is None:  # deleted meanwhile (by the operator, or another browser)
            return redirect(ctx, "/")
        await lifecycle.delete_account(store, current, now=now(), by=lifecycle.BY_USER)
        # Its sessions went with it; a new signed-out one carries the notice to the home page.
        session, token = await sessions.start(ctx, store, user_id=None)
        await tell(ctx, store, session, Notice(DELETED_NOTICE))
    response = redirect(ctx, "/")
    sessions.set_cookie(response, ctx, token)
    return response
