"""/signin/two-factor: the second step of signing in, for a user with a second factor.

Reached after the right password (the browser is half-signed-in: see web/second_factor.py), or
by a signed-in user whom an authorisation request asks for a second factor (``acr_values``;
the interaction step of that name). The right code (or a recovery code) starts the session with
``amr`` ``pwd otp mfa``; a parked authorisation request carries on from there.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from openplate.store.second_factor_repos import SecondFactorWait
from openplate.web import attempts, interaction, second_factor, sessions
from openplate.web.context import AppContext, client_ip, context_of, now
from openplate.web.pages import (
    Visitor,
    error_page,
    posted_form,
    redirect,
    render,
    safe_next,
    signin_url,
    visitor,
)

router = APIRouter(include_in_schema=False)
PATH = "/signin/two-factor"
TITLE = "This form could not be used"
EXPIRED_TITLE = "Sign in again"
EXPIRED = ("Your sign-in waited too long for the code, or was finished in another tab. "
           "Sign in again.")


def _again(ctx: AppContext, who: Visitor, *, next_path: str, status: int, error: str | None,
           step_up: bool, retry_after: int | None = None) -> Response:
    response = render(ctx, "signin_two_factor.html", who, status=status, next=next_path,
                      errors={"code": error} if error else {}, step_up=step_up,
                      passkeys=False)
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response


@router.get(PATH)
async def second_factor_page(request: Request) -> Response:
    ctx = context_of(request)
    target = safe_next(request.query_params.get("next"))
    async with ctx.db.transaction(readonly=True) as store:
        who = await visitor(request, ctx, store, create=True)
        wait = await second_factor.current_wait(ctx, request, store, now=now())
        step_up = (wait is None and who.user is not None
                   and await second_factor.enrolled(store, who.user.id))
    if wait is not None:
        return _again(ctx, who, next_path=wait.next_path, status=200, error=None, step_up=False)
    if step_up:
        return _again(ctx, who, next_path=target, status=200, error=None, step_up=True)
    return redirect(ctx, signin_url(target), who)


@router.post(PATH)
async def second_factor_post(request: Request) -> Response:
    ctx = context_of(request)
    form = await posted_form(request, ctx, title=TITLE)
    if isinstance(form, Response):
        return form
    t, ip = now(), client_ip(request)
    async with ctx.db.transaction(readonly=True) as store:
        who = await visitor(request, ctx, store, create=False)
        if not who.csrf_ok(form.get("csrf_token")):
            return error_page(ctx, who, status=403, title=TITLE,
                              message="Your form expired. Go back, reload the page and try again.")
        wait = await second_factor.current_wait(ctx, request, store, now=t)
        step_up = (wait is None and who.user is not None
                   and await second_factor.enrolled(store, who.user.id))
    if wait is not None:
        user_id, target = wait.user_id, wait.next_path
    elif step_up and who.user is not None:
        user_id, target = who.user.id, safe_next(form.get("next"))
    else:
        response = error_page(ctx, who, status=400, title=EXPIRED_TITLE, message=EXPIRED)
        second_factor.clear_wait_cookie(response, ctx)
        return response
    result = await second_factor.check_code(ctx, request, user_id=user_id,
                                            typed=form.get("code") or "", now=t)
    if not result.ok:
        if result.retry_after:
            return _again(ctx, who, next_path=target, status=429, step_up=step_up,
                          error="Too many wrong codes. Wait a few minutes, then try again.",
                          retry_after=result.retry_after)
        return _again(ctx, who, next_path=target, status=401, step_up=step_up,
                      error="That code is not right. Type the code your app shows now, "
                            "or a recovery code.")
    async with ctx.db.transaction(ip=ip) as store:
        ended: SecondFactorWait | None = None
        if wait is not None:
            ended = await second_factor.end_wait(ctx, request, store, now=t)
            if ended is None:  # finished in another tab meanwhile, or expired
                response = error_page(ctx, who, status=400, title=EXPIRED_TITLE, message=EXPIRED)
                second_factor.clear_wait_cookie(response, ctx)
                return response
        _session, token = await sessions.start(
            ctx, store, user_id=user_id, replacing=who.session, amr=second_factor.OTP_AMR,
            for_request=interaction.handle_in(target),
            browser_digest=ended.browser_digest if ended is not None else None)
        await store.events.append(kind="signin.success", now=t, user_id=user_id,
                                  detail={"second_factor": result.method or ""})
    response = redirect(ctx, target)
    sessions.set_cookie(response, ctx, token)
    second_factor.clear_wait_cookie(response, ctx)
    attempts.remember_device(response, ctx, user_id)
    return response
