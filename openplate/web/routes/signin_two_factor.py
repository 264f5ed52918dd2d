"""/signin/two-factor: the second step of signing in, for a user with a second factor.

Reached after the right password (the browser is half-signed-in: see web/second_factor.py), or
by a signed-in user whom an authorisation request asks for a second factor (``acr_values``;
the interaction step of that name). A right code (or a recovery code) starts the session with
``amr`` ``pwd otp mfa``; a passkey with ``pwd hwk mfa`` (or ``swk`` for a synced one). A parked
authorisation request carries on from there.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from openplate.oauth.params import Params
from openplate.store.unit import Store
from openplate.web import attempts, interaction, passkeys, second_factor, sessions
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
from openplate.web.routes.account import DISABLED

router = APIRouter(include_in_schema=False)
PATH = "/signin/two-factor"
TITLE = "This form could not be used"
EXPIRED_TITLE = "Sign in again"
EXPIRED = ("Your sign-in waited too long for the second step, or was finished in another tab. "
           "Sign in again.")


@dataclass(frozen=True, slots=True)
class Pending:
    """Whose second factor this browser is to give, where it goes next, and how it is bound."""

    user_id: int
    next_path: str
    #: True for a signed-in user asked again (acr_values); False after the password.
    step_up: bool
    #: What a passkey challenge for this browser is bound to.
    bound_to: str
    has_code: bool
    has_passkeys: bool
    #: The application a parked authorisation request of this browser is for, if any.
    app_name: str | None = None


async def _pending(ctx: AppContext, request: Request, store: Store, who: Visitor,
                   next_path: str, *, now: int) -> Pending | None:
    wait = await second_factor.current_wait(ctx, request, store, now=now)
    digest = second_factor.wait_digest(ctx, request)
    if wait is not None and digest is not None:
        user_id, target, step_up = wait.user_id, wait.next_path, False
        bound_to = passkeys.binding(ctx, "wait", digest)
    elif (who.user is not None and who.session is not None
          and await second_factor.has_second_factor(store, who.user.id)):
        user_id, target, step_up = who.user.id, next_path, True
        bound_to = passkeys.binding(ctx, "session", str(who.session.id))
    else:
        return None
    has_code = await second_factor.enrolled(store, user_id)
    has_passkeys = await store.passkeys.count(user_id=user_id) > 0
    parked = await interaction.pending_sign_in(ctx, store, who, target, now=now)
    return Pending(user_id, target, step_up, bound_to, has_code, has_passkeys,
                   parked.client_name if parked is not None else None)


def _page(ctx: AppContext, who: Visitor, pending: Pending, *, status: int = 200,
          errors: dict[str, str] | None = None, retry_after: int | None = None) -> Response:
    response = render(ctx, "signin_two_factor.html", who, status=status, next=pending.next_path,
                      errors=errors or {}, step_up=pending.step_up, has_code=pending.has_code,
                      passkeys=pending.has_passkeys, app_name=pending.app_name)
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response


def _expired(ctx: AppContext, who: Visitor) -> Response:
    response = error_page(ctx, who, status=400, title=EXPIRED_TITLE, message=EXPIRED)
    second_factor.clear_wait_cookie(response, ctx)
    return response


async def _read(request: Request, ctx: AppContext) -> tuple[Params, Visitor, Pending | None] | Response:
    form = await posted_form(request, ctx, title=TITLE)
    if isinstance(form, Response):
        return form
    async with ctx.db.transaction(readonly=True) as store:
        who = await visitor(request, ctx, store, create=False)
        if not who.csrf_ok(form.get("csrf_token")):
            return error_page(ctx, who, status=403, title=TITLE,
                              message="Your form expired. Go back, reload the page and try again.")
        pending = await _pending(ctx, request, store, who, safe_next(form.get("next")), now=now())
    return form, who, pending


async def _finish(ctx: AppContext, request: Request, who: Visitor, pending: Pending, *,
                  amr: tuple[str, ...], detail: dict[str, object]) -> Response:
    """The second factor was given: start the session (ending the half-signed-in state once)."""
    t = now()
    async with ctx.db.transaction(ip=client_ip(request)) as store:
        browser_digest = None
        if not pending.step_up:
            ended = await second_factor.end_wait(ctx, request, store, now=t)
            if ended is None:  # finished in another tab meanwhile, or expired
                return _expired(ctx, who)
            browser_digest = ended.browser_digest
        user = await store.users.by_id(pending.user_id)
        if user is None or user.disabled:  # disabled while the second factor was asked for
            await store.events.append(kind="signin.failure", now=t, user_id=pending.user_id,
                                      detail={"reason": "disabled"})
            disabled = True
        else:
            disabled = False
            _session, token = await sessions.start(
                ctx, store, user_id=pending.user_id, replacing=who.session, amr=amr,
                for_request=interaction.handle_in(pending.next_path), browser_digest=browser_digest,
                user_agent=sessions.user_agent_of(request))
            await store.events.append(kind="signin.success", now=t, user_id=pending.user_id,
                                      detail=detail)
    if disabled:
        response = error_page(ctx, who, status=403, title="Account disabled", message=DISABLED)
        second_factor.clear_wait_cookie(response, ctx)
        return response
    response = redirect(ctx, pending.next_path)
    sessions.set_cookie(response, ctx, token)
    second_factor.clear_wait_cookie(response, ctx)
    attempts.remember_device(response, ctx, pending.user_id)
    return response


@router.get(PATH)
async def second_factor_page(request: Request) -> Response:
    ctx = context_of(request)
    target = safe_next(request.query_params.get("next"))
    async with ctx.db.transaction(readonly=True) as store:
        who = await visitor(request, ctx, store, create=True)
        pending = await _pending(ctx, request, store, who, target, now=now())
    if pending is None:
        return redirect(ctx, signin_url(target), who)
    return _page(ctx, who, pending)


@router.post(PATH)
async def second_factor_code(request: Request) -> Response:
    ctx = context_of(request)
    read = await _read(request, ctx)
    if isinstance(read, Response):
        return read
    form, who, pending = read
    if pending is None:
        return _expired(ctx, who)
    result = await second_factor.check_code(ctx, request, user_id=pending.user_id,
                                            typed=form.get("code") or "", now=now())
    if not result.ok:
        if result.retry_after:
            return _page(ctx, who, pending, status=429, retry_after=result.retry_after,
                         errors={"code": "Too many wrong codes. Wait a few minutes, then try "
                                         "again."})
        return _page(ctx, who, pending, status=401,
                     errors={"code": "That code is not right. Type the code your app shows "
                                     "now, or a recovery code."})
    return await _finish(ctx, request, who, pending, amr=second_factor.OTP_AMR,
                         detail={"second_factor": result.method or ""})


@router.post(PATH + "/passkey/options")
async def second_factor_passkey_options(request: Request) -> Response:
    ctx = context_of(request)
    read = await _read(request, ctx)
    if isinstance(read, Response):
        return read
    _form, who, pending = read
    if pending is None or not pending.has_passkeys:
        return JSONResponse({"error": EXPIRED}, status_code=400)
    async with ctx.db.transaction(ip=client_ip(request)) as store:
        options = await passkeys.authentication_options(
            ctx, store, purpose=passkeys.SECOND_FACTOR, bound_to=pending.bound_to,
            user_id=pending.user_id, now=now())
    return Response(options, media_type="application/json",
                    headers={"Cache-Control": "no-store"})


@router.post(PATH + "/passkey")
async def second_factor_passkey(request: Request) -> Response:
    ctx = context_of(request)
    read = await _read(request, ctx)
    if isinstance(read, Response):
        return read
    form, who, pending = read
    if pending is None:
        return _expired(ctx, who)
    t = now()
    # The challenge is taken (and a failure logged) in a unit of work that commits either way.
    async with ctx.db.transaction(ip=client_ip(request)) as store:
        try:
            proven = await passkeys.authenticate(
                ctx, store, purpose=passkeys.SECOND_FACTOR, bound_to=pending.bound_to,
                credential=form.get("credential") or "", now=t)
            if proven.user_id != pending.user_id:
                raise passkeys.CeremonyFailed("This passkey belongs to another account.")
            failure = None
        except passkeys.CeremonyFailed as error:
            failure = str(error)
            await store.events.append(kind="passkey.failure", now=t, user_id=pending.user_id)
    if failure is not None:
        return _page(ctx, who, pending, status=401, errors={"passkey": failure})
    return await _finish(ctx, request, who, pending, amr=proven.methods,
                         detail={"second_factor": "passkey"})
