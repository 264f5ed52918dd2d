"""Forgotten passwords: ``/password/forgot`` mails a one-time link, ``/password/reset/{token}``
sets the new password (openplate/accounts/recovery.py does the work).

No account enumeration: whatever is typed, the form answers with the same redirect to the same
page, after the same work. The look-up, the link and the mail happen after the answer is sent
(a background task of the response), so not even the time to answer tells whether an account
matched. The token in the link's path is never logged (access_log.safe_path) and never leaves
in a Referer (every page is ``Referrer-Policy: no-referrer``).
"""

from __future__ import annotations

import logging
from urllib.parse import quote

from fastapi import APIRouter
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response

from openplate.accounts import recovery
from openplate.accounts.passwords import hash_password
from openplate.accounts.service import run_hash
from openplate.accounts.validation import InvalidAccountInput, check_password
from openplate.throttling import Refused
from openplate.web import interaction
from openplate.web.context import AppContext, client_ip, context_of, now
from openplate.web.pages import Visitor, error_page, posted_form, redirect, render, safe_next, visitor

router = APIRouter(include_in_schema=False)
log = logging.getLogger("openplate.web")
TITLE = "This form could not be used"
EXPIRED_FORM = "Your form expired. Go back, reload the page and try again."
LINK_GONE = "This link no longer works"
LINK_GONE_TEXT = ("A link to reset your password works once, for 30 minutes, and only the newest "
                  "one you asked for. Ask for a new link.")


def _continuing(target: str) -> str | None:
    """The parked authorisation request ``target`` resumes, kept with the link: a short path."""
    return target if interaction.handle_in(target) is not None and len(target) <= 200 else None


async def _app_name(ctx: AppContext, who: Visitor, target: str) -> str | None:
    async with ctx.db.transaction(readonly=True) as store:
        pending = await interaction.pending_sign_in(ctx, store, who, target, now=now())
    return pending.client_name if pending is not None else None


@router.get("/password/forgot")
async def forgot_page(request: Request) -> Response:
    ctx = context_of(request)
    target = safe_next(request.query_params.get("next"))
    async with ctx.db.transaction(readonly=True) as store:
        who = await visitor(request, ctx, store, create=True)
    return render(ctx, "password_forgot.html", who, next=target, login="", error=None,
                  field_error=None, app_name=await _app_name(ctx, who, target))


@router.post("/password/forgot")
async def forgot(request: Request) -> Response:
    ctx = context_of(request)
    form = await posted_form(request, ctx, title=TITLE)
    if isinstance(form, Response):
        return form
    target = safe_next(form.get("next"))
    login = (form.get("login") or "").strip()
    async with ctx.db.transaction(readonly=True) as store:
        who = await visitor(request, ctx, store, create=True)
    if not who.csrf_ok(form.get("csrf_token")):
        return error_page(ctx, who, status=403, title=TITLE, message=EXPIRED_FORM)

    def again(status: int, *, error: str | None = None, field_error: str | None = None) -> Response:
        return render(ctx, "password_forgot.html", who, status=status, next=target,
                      login=login[:254], error=error, field_error=field_error, app_name=None)

    if not login or len(login) > 254:
        return again(400, field_error="Enter your username or e-mail address (at most 254 "
                                      "characters).")
    ip = client_ip(request)
    # Counted on the name typed, whether or not it is an account's, and on the address.
    limits = ctx.throttle
    async with ctx.db.transaction(ip=ip) as store:
        taken = await ctx.counters(store).take({
            f"reset:ip:{ip}": limits.link_mail_per_ip,
            f"reset:account:{login.lower()}": limits.link_mail_per_account,
        }, now=now())
    if isinstance(taken, Refused):
        response = again(429, error="Too many requests for a new password. Wait an hour, "
                                    "then try again.")
        response.headers["Retry-After"] = str(taken.retry_after)
        return response
    response = redirect(ctx, "/password/forgot/sent?next=" + _quoted(target), who)
    response.background = BackgroundTask(_mail_link, ctx, login=login, ip=ip,
                                         next_path=_continuing(target))
    return response


def _quoted(target: str) -> str:
    return quote(target, safe="")


async def _mail_link(ctx: AppContext, *, login: str, ip: str, next_path: str | None) -> None:
    """After the answer: look the account up and, if there is one, queue its link."""
    try:
        async with ctx.db.transaction(ip=ip) as store:
            queued = await recovery.mail_reset_link(
                store, ctx.digester, login=login, base_url=ctx.settings.base_url,
                next_path=next_path, now=now())
    except Exception:  # noqa: BLE001 - the visitor has their answer; they may ask again
        log.warning("could not queue a password-reset link", exc_info=True)
        return
    if queued:
        ctx.mail.wake()


@router.get("/password/forgot/sent")
async def forgot_sent(request: Request) -> Response:
    ctx = context_of(request)
    target = safe_next(request.query_params.get("next"))
    async with ctx.db.transaction(readonly=True) as store:
        who = await visitor(request, ctx, store, create=False)
    return render(ctx, "password_forgot_sent.html", who, next=target,
                  minutes=recovery.RESET_TTL // 60)


def _gone(ctx: AppContext, who: Visitor) -> Response:
    return render(ctx, "link_expired.html", who, status=410, title=LINK_GONE,
                  message=LINK_GONE_TEXT, again="Ask for a new link", again_url="/password/forgot")


@router.get("/password/reset/{token}")
async def reset_page(request: Request, token: str) -> Response:
    ctx = context_of(request)
    async with ctx.db.transaction(readonly=True) as store:
        who = await visitor(request, ctx, store, create=True)
        link = await recovery.reset_link(store, ctx.digester, token=token, now=now())
        user = await store.users.by_id(link.user_id) if link is not None else None
    if user is None:
        return _gone(ctx, who)
    return render(ctx, "password_reset.html", who, action=recovery.RESET_PATH + token,
                  username=user.username, field_error=None)


@router.post("/password/reset/{token}")
async def reset(request: Request, token: str) -> Response:
    ctx = context_of(request)
    form = await posted_form(request, ctx, title=TITLE)
    if isinstance(form, Response):
        return form
    async with ctx.db.transaction(readonly=True) as store:
        who = await visitor(request, ctx, store, create=True)
        link = await recovery.reset_link(store, ctx.digester, token=token, now=now())
        user = await store.users.by_id(link.user_id) if link is not None else None
    if not who.csrf_ok(form.get("csrf_token")):
        return error_page(ctx, who, status=403, title=TITLE, message=EXPIRED_FORM)
    if user is None:
        return _gone(ctx, who)
    try:
        password = check_password(form.get("new_password") or "")
    except InvalidAccountInput as error:
        return render(ctx, "password_reset.html", who, status=400,
                      action=recovery.RESET_PATH + token, username=user.username,
                      field_error=str(error))
    ctx.metrics.password_hashes.labels("password_reset").inc()
    password_hash = await run_hash(hash_password, password)
    async with ctx.db.transaction(ip=client_ip(request)) as store:
        done = await recovery.reset_password(store, ctx.digester, token=token,
                                             password_hash=password_hash,
                                             base_url=ctx.settings.base_url, now=now())
    if done is None:  # used meanwhile (a second submission), or expired
        return _gone(ctx, who)
    ctx.mail.wake()
    target = done.next_path or "/"
    return redirect(ctx, "/password/reset-done?next=" + _quoted(target), who)


@router.get("/password/reset-done")
async def reset_done(request: Request) -> Response:
    ctx = context_of(request)
    target = safe_next(request.query_params.get("next"))
    async with ctx.db.transaction(readonly=True) as store:
        who = await visitor(request, ctx, store, create=False)
    return render(ctx, "password_reset_done.html", who, next=target)
