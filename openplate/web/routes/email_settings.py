"""A user's e-mail address: its verified state, changing it (effective once the new address's
link is used), sending the link again, and the mailed link itself (openplate/accounts/
email_change.py does the work). The link's page asks for a press of a button before it is used:
mail scanners that open links must not use it up."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from openplate.accounts import email_change
from openplate.accounts.validation import InvalidAccountInput, check_email
from openplate.store.account_repos import DuplicateUser
from openplate.throttling import Refused
from openplate.web import attempts
from openplate.web.context import AppContext, client_ip, context_of, now
from openplate.web.notices import Notice
from openplate.web.pages import (
    Visitor,
    error_page,
    posted_form,
    redirect,
    render,
    safe_next,
    signed_in_post,
    signin_url,
    tell,
    visitor,
)

router = APIRouter(include_in_schema=False)
TITLE = "This form could not be used"
EXPIRED = "Your form expired. Reload the page and try again."
PAGE = "/account/email"


async def _page(ctx: AppContext, who: Visitor, *, status: int = 200, field: str | None = None,
                field_error: str | None = None, error: str | None = None,
                new_email: str = "") -> Response:
    assert who.user is not None
    async with ctx.db.transaction(readonly=True) as store:
        pending = await email_change.pending_address(store, user=who.user, now=now())
    return render(ctx, "account_email.html", who, status=status, pending=pending, field=field,
                  field_error=field_error, error=error, new_email=new_email[:254])


@router.get(PAGE)
async def email_page(request: Request) -> Response:
    ctx = context_of(request)
    async with ctx.db.transaction() as store:
        who = await visitor(request, ctx, store, create=True, notice=True)
    if who.user is None:
        return redirect(ctx, signin_url(PAGE), who)
    return await _page(ctx, who)


@router.post(PAGE)
async def change_email(request: Request) -> Response:
    ctx = context_of(request)
    form = await posted_form(request, ctx, title=TITLE)
    if isinstance(form, Response):
        return form
    async with ctx.db.transaction(readonly=True) as store:
        who = await signed_in_post(request, ctx, store, form, back=PAGE)
    if isinstance(who, Response):
        return who
    assert who.user is not None and who.session is not None
    typed = (form.get("new_email") or "").strip()
    try:
        new_email = check_email(typed)
    except InvalidAccountInput as error:
        return await _page(ctx, who, status=400, field="email", field_error=str(error),
                           new_email=typed)
    if new_email.lower() == who.user.email.lower():
        return await _page(ctx, who, status=400, field="email", new_email=typed,
                           field_error="That is already your address.")
    # The current password is a password attempt like a sign-in (web/attempts.py).
    attempt = await attempts.password_attempt(ctx, request, login=who.user.username,
                                              user=who.user, purpose="email_change")
    if isinstance(attempt, Refused):
        response = await _page(ctx, who, status=429, new_email=typed,
                               error="Too many wrong passwords. Wait a few minutes, then try again.")
        response.headers["Retry-After"] = str(attempt.retry_after)
        return response
    if not await attempt.check(who.user, form.get("current_password") or ""):
        return await _page(ctx, who, status=401, field="password", new_email=typed,
                           field_error="Your current password is not right.")
    await attempt.succeeded()
    async with ctx.db.transaction(ip=client_ip(request)) as store:
        owner = await store.users.email_owner(new_email)
        if owner is None:
            await email_change.request_change(store, ctx.digester, user=who.user,
                                              new_email=new_email, base_url=ctx.settings.base_url,
                                              now=now())
            await tell(ctx, store, who.session, Notice(
                f"We sent a link to {new_email}. Your address changes when you open it."))
    if owner is not None:
        return await _page(ctx, who, status=409, field="email", new_email=typed,
                           field_error="That e-mail address is another account's.")
    ctx.mail.wake()
    return redirect(ctx, PAGE, who)


@router.post("/account/email/resend")
async def resend(request: Request) -> Response:
    ctx = context_of(request)
    form = await posted_form(request, ctx, title=TITLE)
    if isinstance(form, Response):
        return form
    back = safe_next(form.get("next") or PAGE)
    async with ctx.db.transaction(ip=client_ip(request)) as store:
        who = await signed_in_post(request, ctx, store, form, back=PAGE)
        if isinstance(who, Response):
            return who
        assert who.user is not None and who.session is not None
        user, t = who.user, now()
        address = await email_change.pending_address(store, user=user, now=t)
        if address is None and not user.email_verified:
            address = user.email
        notice = "Your e-mail address is verified already."
        if address is not None:
            taken = await ctx.counters(store).take(
                {f"verify:account:{user.id}": ctx.throttle.link_mail_per_account,
                 f"verify:ip:{client_ip(request)}": ctx.throttle.link_mail_per_ip}, now=t)
            if isinstance(taken, Refused):
                notice = "We have sent several links already. Wait an hour, then try again."
            else:
                await email_change.mail_verification(store, ctx.digester, user=user,
                                                     email=address, base_url=ctx.settings.base_url,
                                                     now=t)
                notice = f"We sent a new link to {address}. Older links no longer work."
        await tell(ctx, store, who.session, Notice(notice))
    ctx.mail.wake()
    return redirect(ctx, back, who)


@router.get("/account/email/verify/{token}")
async def verify_page(request: Request, token: str) -> Response:
    ctx = context_of(request)
    async with ctx.db.transaction(readonly=True) as store:
        who = await visitor(request, ctx, store, create=True)
    return render(ctx, "email_verify.html", who, action=email_change.VERIFY_PATH + token)


def _gone(ctx: AppContext, who: Visitor | None) -> Response:
    return render(ctx, "link_expired.html", who, status=410, title="This link no longer works",
                  message="A link to confirm an e-mail address works once, for 24 hours, and only "
                          "the newest one we sent. Ask for a new one on your e-mail settings page.",
                  again="Your e-mail settings", again_url=PAGE)


@router.post("/account/email/verify/{token}")
async def verify(request: Request, token: str) -> Response:
    ctx = context_of(request)
    form = await posted_form(request, ctx, title=TITLE)
    if isinstance(form, Response):
        return form
    async with ctx.db.transaction(readonly=True) as store:
        who = await visitor(request, ctx, store, create=True)
    if not who.csrf_ok(form.get("csrf_token")):
        return error_page(ctx, who, status=403, title=TITLE, message=EXPIRED)
    try:
        async with ctx.db.transaction(ip=client_ip(request)) as store:
            done = await email_change.verify(store, ctx.digester, token=token,
                                             base_url=ctx.settings.base_url, now=now())
            if done is not None and who.session is not None and who.user is not None \
                    and who.user.id == done.user_id:
                await tell(ctx, store, who.session, Notice(
                    f"Your e-mail address is now {done.email}, verified." if done.changed
                    else "Your e-mail address is verified."))
    except DuplicateUser:
        return error_page(ctx, who, status=409, title="This address cannot be used",
                          message="Another account has this e-mail address now. Choose another "
                                  "address on your e-mail settings page.")
    if done is None:
        return _gone(ctx, who)
    ctx.mail.wake()
    signed_in_here = who.user is not None and who.user.id == done.user_id
    return redirect(ctx, PAGE if signed_in_here else "/account/email/verified", who)


@router.get("/account/email/verified")
async def verified(request: Request) -> Response:
    ctx = context_of(request)
    async with ctx.db.transaction(readonly=True) as store:
        who = await visitor(request, ctx, store, create=False)
    return render(ctx, "email_verified.html", who)
