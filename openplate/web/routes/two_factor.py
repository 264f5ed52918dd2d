"""/account/two-factor: turn on two-factor sign-in (an authenticator app, RFC 6238 TOTP), see how
many recovery codes are left, make new ones, turn it off.

Enrolment is two posts: ``/setup`` makes a secret (sealed at rest) and the page shows it as a QR
code and as text; ``/confirm`` with the first valid code completes it and shows ten recovery
codes once, in the sealed one-time notice (a reload does not show them again). Turning it off
needs the password and a current code or a recovery code.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from openplate.accounts import totp
from openplate.accounts.second_factor import new_recovery_codes, normalise_recovery_code, recovery_digest
from openplate.store.second_factor_repos import TotpRecord
from openplate.store.unit import Store
from openplate.throttling import Refused
from openplate.web import attempts, second_factor
from openplate.web.account_changes import account_changed
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
PATH = "/account/two-factor"
TITLE = "This form could not be used"
ISSUER = "Openplate"
WRONG_CODE = "That code is not right. Type the 6-digit code your app shows now."
TOO_MANY = "Too many wrong codes. Wait a few minutes, then try again."


def qr_svg(uri: str) -> str:
    """The QR code of ``uri`` as inline SVG (made here, no request leaves the server)."""
    import segno

    return str(segno.make(uri, error="m").svg_inline(
        scale=5, border=4, dark="#000", light="#fff", title="QR code for your authenticator app",
        svgclass="qr"))


async def _page(ctx: AppContext, store: Store, who: Visitor, record: TotpRecord | None, *,
                status: int = 200, errors: dict[str, str] | None = None) -> Response:
    assert who.user is not None
    values: dict[str, object] = {"state": "off", "errors": errors or {}}
    if record is not None and not record.confirmed:
        secret = ctx.totp_seal.open(record.secret_sealed, user_id=who.user.id)
        if secret is not None:
            uri = totp.provisioning_uri(secret, account=who.user.username, issuer=ISSUER)
            values.update(state="enrolling", qr=qr_svg(uri), secret_text=totp.grouped(secret))
    elif record is not None:
        values.update(state="on", left=await store.second_factors.recovery_codes_left(
            user_id=who.user.id))
    return render(ctx, "account_two_factor.html", who, status=status, **values)


@router.get(PATH)
async def two_factor_page(request: Request) -> Response:
    ctx = context_of(request)
    async with ctx.db.transaction() as store:
        who = await visitor(request, ctx, store, create=True, notice=True)
        if who.user is None:
            return redirect(ctx, signin_url(PATH), who)
        record = await store.second_factors.totp(user_id=who.user.id)
        return await _page(ctx, store, who, record)


@router.post(PATH + "/setup")
async def setup(request: Request) -> Response:
    ctx = context_of(request)
    form = await posted_form(request, ctx, title=TITLE)
    if isinstance(form, Response):
        return form
    async with ctx.db.transaction(ip=client_ip(request)) as store:
        who = await signed_in_post(request, ctx, store, form, back=PATH)
        if isinstance(who, Response):
            return who
        assert who.user is not None and who.session is not None
        sealed = ctx.totp_seal.seal(totp.new_secret(), user_id=who.user.id)
        if await store.second_factors.begin_totp(user_id=who.user.id, secret_sealed=sealed,
                                                 now=now()):
            text = "Add Openplate to your authenticator app, then type the code it shows."
        else:
            text = "Two-factor sign-in is already on."
        await tell(ctx, store, who.session, Notice(text))
    return redirect(ctx, PATH)


@router.post(PATH + "/cancel")
async def cancel(request: Request) -> Response:
    ctx = context_of(request)
    form = await posted_form(request, ctx, title=TITLE)
    if isinstance(form, Response):
        return form
    async with ctx.db.transaction(ip=client_ip(request)) as store:
        who = await signed_in_post(request, ctx, store, form, back=PATH)
        if isinstance(who, Response):
            return who
        assert who.user is not None and who.session is not None
        record = await store.second_factors.totp(user_id=who.user.id)
        if record is not None and not record.confirmed:
            await store.second_factors.remove_totp(user_id=who.user.id)
        await tell(ctx, store, who.session, Notice("Set-up cancelled. Two-factor sign-in is off."))
    return redirect(ctx, PATH)


async def _new_codes(ctx: AppContext, store: Store, user_id: int, t: int) -> tuple[str, ...]:
    codes = new_recovery_codes()
    digests = [recovery_digest(ctx.digester, user_id=user_id,
                               code=normalise_recovery_code(code) or "") for code in codes]
    await store.second_factors.replace_recovery_codes(user_id=user_id, digests=digests, now=t)
    return tuple(codes)


@router.post(PATH + "/confirm")
async def confirm(request: Request) -> Response:
    ctx = context_of(request)
    form = await posted_form(request, ctx, title=TITLE)
    if isinstance(form, Response):
        return form
    t, ip = now(), client_ip(request)
    async with ctx.db.transaction(readonly=True) as store:
        who = await signed_in_post(request, ctx, store, form, back=PATH)
        if isinstance(who, Response):
            return who
        assert who.user is not None and who.session is not None
        record = await store.second_factors.totp(user_id=who.user.id)
    if record is None or record.confirmed:
        return redirect(ctx, PATH)
    user = who.user
    async with ctx.db.transaction(ip=ip) as store:
        taken = await ctx.counters(store).take(
            {f"second-factor:{user.id}": ctx.throttle.second_factor_per_account}, now=t)
    secret = ctx.totp_seal.open(record.secret_sealed, user_id=user.id)
    step = (totp.matching_step(secret, form.get("code") or "", now=t, after=None)
            if secret is not None and not isinstance(taken, Refused) else None)
    async with ctx.db.transaction(ip=ip) as store:
        if step is None or not await store.second_factors.confirm_totp(user_id=user.id, step=step,
                                                                       now=t):
            refused = isinstance(taken, Refused)
            response = await _page(ctx, store, who, record, status=429 if refused else 400,
                                   errors={"code": TOO_MANY if refused else WRONG_CODE})
            if isinstance(taken, Refused):
                response.headers["Retry-After"] = str(taken.retry_after)
            return response
        codes = await _new_codes(ctx, store, user.id, t)
        await store.events.append(kind="two_factor.enabled", now=t, user_id=user.id)
        await account_changed(ctx, store, user_id=user.id, change="two_factor.enabled", now=t)
        await tell(ctx, store, who.session, Notice(
            "Two-factor sign-in is on. Keep these recovery codes somewhere safe.", codes=codes))
        if not isinstance(taken, Refused):
            await ctx.counters(store).give_back(taken)
    ctx.mail.wake()  # the notice was queued with the change, now committed
    return redirect(ctx, PATH)


@router.post(PATH + "/recovery-codes")
async def renew_codes(request: Request) -> Response:
    ctx = context_of(request)
    form = await posted_form(request, ctx, title=TITLE)
    if isinstance(form, Response):
        return form
    t = now()
    async with ctx.db.transaction(readonly=True) as store:
        who = await signed_in_post(request, ctx, store, form, back=PATH)
        if isinstance(who, Response):
            return who
        assert who.user is not None and who.session is not None
        record = await store.second_factors.totp(user_id=who.user.id)
    if record is None or not record.confirmed:
        return redirect(ctx, PATH)
    result = await second_factor.check_code(ctx, request, user_id=who.user.id,
                                            typed=form.get("renew_code") or "", now=t,
                                            recovery=False)
    async with ctx.db.transaction(ip=client_ip(request)) as store:
        if not result.ok:
            message = TOO_MANY if result.retry_after else WRONG_CODE
            response = await _page(ctx, store, who, record,
                                   status=429 if result.retry_after else 400,
                                   errors={"renew_code": message})
            if result.retry_after:
                response.headers["Retry-After"] = str(result.retry_after)
            return response
        codes = await _new_codes(ctx, store, who.user.id, t)
        await store.events.append(kind="recovery_codes.renewed", now=t, user_id=who.user.id)
        await account_changed(ctx, store, user_id=who.user.id, change="recovery_codes.renewed",
                              now=t)
        await tell(ctx, store, who.session, Notice(
            "New recovery codes made; the old ones no longer work. Keep these somewhere safe.",
            codes=codes))
    ctx.mail.wake()  # the notice was queued with the change, now committed
    return redirect(ctx, PATH)


@router.post(PATH + "/disable")
async def disable(request: Request) -> Response:
    ctx = context_of(request)
    form = await posted_form(request, ctx, title=TITLE)
    if isinstance(form, Response):
        return form
    t, ip = now(), client_ip(request)
    async with ctx.db.transaction(readonly=True) as store:
        who = await signed_in_post(request, ctx, store, form, back=PATH)
        if isinstance(who, Response):
            return who
        assert who.user is not None and who.session is not None
        record = await store.second_factors.totp(user_id=who.user.id)
    if record is None or not record.confirmed:
        return redirect(ctx, PATH)
    user = who.user

    async def again(status: int, errors: dict[str, str], retry_after: int | None = None) -> Response:
        async with ctx.db.transaction(readonly=True) as store:
            response = await _page(ctx, store, who, record, status=status, errors=errors)
        if retry_after:
            response.headers["Retry-After"] = str(retry_after)
        return response

    attempt = await attempts.password_attempt(ctx, request, login=user.username, user=user,
                                              purpose="two_factor_off")
    if isinstance(attempt, Refused):
        return await again(429, {"password": "Too many wrong passwords. Wait a few minutes, "
                                             "then try again."}, attempt.retry_after)
    if not await attempt.check(user, form.get("password") or ""):
        return await again(401, {"password": "Your password is not right."})
    await attempt.succeeded()
    result = await second_factor.check_code(ctx, request, user_id=user.id,
                                            typed=form.get("off_code") or "", now=t)
    if not result.ok:
        message = TOO_MANY if result.retry_after else (
            "That code is not right. Type the code your app shows now, or a recovery code.")
        return await again(429 if result.retry_after else 401, {"off_code": message},
                           result.retry_after)
    async with ctx.db.transaction(ip=ip) as store:
        await store.second_factors.remove_totp(user_id=user.id)
        await store.events.append(kind="two_factor.disabled", now=t, user_id=user.id)
        await account_changed(ctx, store, user_id=user.id, change="two_factor.disabled", now=t)
        await tell(ctx, store, who.session, Notice(
            "Two-factor sign-in is off. Your recovery codes no longer work."))
    ctx.mail.wake()  # the notice was queued with the change, now committed
    return redirect(ctx, PATH)
