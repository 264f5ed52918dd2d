"""Sign-up, sign-in and sign-out pages."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from openplate.accounts import email_change
from openplate.accounts.service import check_account, hash_account
from openplate.accounts.validation import InvalidAccountInput
from openplate.store.account_repos import DuplicateUser
from openplate.throttling import Refused
from openplate.web import attempts, interaction, second_factor, sessions
from openplate.web.context import client_ip, context_of, now
from openplate.web.pages import error_page, posted_form, redirect, render, safe_next, visitor

router = APIRouter(include_in_schema=False)

BAD_FORM_TITLE = "This form could not be used"
EXPIRED = "Your form expired. Go back, reload the page and try again."
_TAKEN = {"username": "That username is already taken.",
          "email": "That e-mail address is already taken."}
DISABLED = "This account is disabled. Contact the people who run this site."
#: RFC 8176 amr value of a sign-in with a password.
PASSWORD = ("pwd",)


@router.get("/signin")
async def signin_page(request: Request) -> Response:
    ctx = context_of(request)
    target = safe_next(request.query_params.get("next"))
    async with ctx.db.transaction(readonly=True) as store:
        who = await visitor(request, ctx, store, create=True)
        # An authorisation request of this browser that waits for a sign-in (the first, or a
        # fresh one for prompt=login / max_age): the server says so, not the URL.
        pending = await interaction.pending_sign_in(ctx, store, who, target, now=now())
    if who.user is not None and pending is None:
        return redirect(ctx, target, who)
    hint = (pending.login_hint or "") if pending is not None else ""
    return render(ctx, "signin.html", who, next=target, login=hint[:254], error=None,
                  app_name=pending.client_name if pending is not None else None)


@router.post("/signin")
async def signin(request: Request) -> Response:
    ctx = context_of(request)
    form = await posted_form(request, ctx, title=BAD_FORM_TITLE)
    if isinstance(form, Response):
        return form
    target = safe_next(form.get("next"))
    login, password = (form.get("login") or "").strip(), form.get("password") or ""
    ip, t = client_ip(request), now()
    async with ctx.db.transaction(readonly=True) as store:
        who = await visitor(request, ctx, store, create=False)
        if not who.csrf_ok(form.get("csrf_token")):
            return error_page(ctx, who, status=403, title=BAD_FORM_TITLE, message=EXPIRED)
        user = await store.users.by_login(login) if 0 < len(login) <= 254 else None
    # Counted before the password is checked (see web/attempts.py), whether or not the account exists.
    attempt = await attempts.password_attempt(ctx, request, login=login, user=user)
    if isinstance(attempt, Refused):
        async with ctx.db.transaction(ip=ip) as store:
            await store.events.append(kind="signin.throttled", now=t)
        response = render(
            ctx, "signin.html", who, status=429, next=target, login=login[:254],
            error="Too many failed sign-ins. Wait a few minutes, then try again.",
        )
        response.headers["Retry-After"] = str(attempt.retry_after)
        return response
    if not await attempt.check(user, password) or user is None:
        ctx.metrics.signin_failures.inc()
        async with ctx.db.transaction(ip=ip) as store:
            await store.events.append(kind="signin.failure", now=t,
                                      user_id=user.id if user else None)
        return render(
            ctx, "signin.html", who, status=401, next=target, login=login[:254],
            error="Wrong username, e-mail or password.",
        )
    await attempt.succeeded()
    if user.disabled:
        # Said only to someone who knew the password: a guess learns nothing more.
        async with ctx.db.transaction(ip=ip) as store:
            await store.events.append(kind="signin.failure", now=t, user_id=user.id,
                                      detail={"reason": "disabled"})
        return render(ctx, "signin.html", who, status=403, next=target, login=login[:254],
                      error=DISABLED)
    async with ctx.db.transaction(ip=ip) as store:
        if await second_factor.enrolled(store, user.id):
            # Half-signed-in: no session yet; the second factor is asked for next, and the
            # state that remembers the password was right is server-side, bound to a cookie.
            wait = await second_factor.start_wait(
                ctx, store, user_id=user.id, next_path=target, now=t,
                browser_digest=interaction.browser_digest(ctx, who))
        else:
            wait = None
    if wait is not None:
        response = redirect(ctx, "/signin/two-factor", who)
        second_factor.set_wait_cookie(response, ctx, wait)
        return response
    async with ctx.db.transaction(ip=ip) as store:
        _session, token = await sessions.start(ctx, store, user_id=user.id, replacing=who.session,
                                               amr=PASSWORD, for_request=interaction.handle_in(target),
                                               browser_digest=interaction.browser_digest(ctx, who),
                                               user_agent=sessions.user_agent_of(request))
        await store.events.append(kind="signin.success", now=t, user_id=user.id)
    response = redirect(ctx, target)
    sessions.set_cookie(response, ctx, token)
    attempts.remember_device(response, ctx, user.id)
    return response


@router.get("/signup")
async def signup_page(request: Request) -> Response:
    ctx = context_of(request)
    target = safe_next(request.query_params.get("next"))
    async with ctx.db.transaction(readonly=True) as store:
        who = await visitor(request, ctx, store, create=True)
        # Reached from the sign-in page of an authorisation request: say which app it continues
        # to (the server decides, from the request parked for this browser; the URL only names it).
        pending = await interaction.pending_sign_in(ctx, store, who, target, now=now())
    return render(ctx, "signup.html", who, next=target, username="", email="", error=None,
                  app_name=pending.client_name if pending is not None else None)


@router.post("/signup")
async def signup(request: Request) -> Response:
    ctx = context_of(request)
    form = await posted_form(request, ctx, title=BAD_FORM_TITLE)
    if isinstance(form, Response):
        return form
    target = safe_next(form.get("next"))
    username, email = (form.get("username") or "").strip(), (form.get("email") or "").strip()
    async with ctx.db.transaction(readonly=True) as store:
        who = await visitor(request, ctx, store, create=False)
        pending = await interaction.pending_sign_in(ctx, store, who, target, now=now())
    if not who.csrf_ok(form.get("csrf_token")):
        return error_page(ctx, who, status=403, title=BAD_FORM_TITLE, message=EXPIRED)

    def again(status: int, message: str, field: str | None = None) -> Response:
        return render(
            ctx, "signup.html", who, status=status, next=target, username=username[:40],
            email=email[:254], error=message, error_field=field,
            app_name=pending.client_name if pending is not None else None,
        )

    try:
        checked = check_account(
            username=username, email=email, password=form.get("password") or ""
        )
    except InvalidAccountInput as error:
        return again(400, str(error), error.field)
    # Throttled per address, and a taken name is answered, before the password is hashed.
    refused = await attempts.signup_attempt(ctx, request)
    if refused is not None:
        response = again(429, "Too many sign-ups from your network. Wait a while, then try again.")
        response.headers["Retry-After"] = str(refused.retry_after)
        return response
    async with ctx.db.transaction(readonly=True) as store:
        taken = await store.users.taken(username=checked.username, email=checked.email)
    if taken is not None:
        return again(409, _TAKEN[taken], taken)
    ctx.metrics.password_hashes.labels("signup").inc()
    account = await hash_account(checked)
    try:
        async with ctx.db.transaction(ip=client_ip(request)) as store:
            user = await store.users.create(
                username=account.username, email=account.email,
                password_hash=account.password_hash, now=now(),
            )
            _session, token = await sessions.start(
                ctx, store, user_id=user.id, replacing=who.session, amr=PASSWORD,
                for_request=interaction.handle_in(target),
                browser_digest=interaction.browser_digest(ctx, who),
                user_agent=sessions.user_agent_of(request),
            )
            await store.events.append(kind="signup", now=now(), user_id=user.id)
            await email_change.mail_verification(store, ctx.digester, user=user, email=user.email,
                                                 base_url=ctx.settings.base_url, now=now())
    except DuplicateUser as error:  # taken by a sign-up that raced this one
        return again(409, _TAKEN[error.field], error.field)
    ctx.mail.wake()
    response = redirect(ctx, target)
    sessions.set_cookie(response, ctx, token)
    attempts.remember_device(response, ctx, user.id)
    return response


@router.post("/signout")
async def signout(request: Request) -> Response:
    ctx = context_of(request)
    form = await posted_form(request, ctx, title=BAD_FORM_TITLE)
    if isinstance(form, Response):
        return form
    async with ctx.db.transaction(ip=client_ip(request)) as store:
        who = await visitor(request, ctx, store, create=False)
        if not who.csrf_ok(form.get("csrf_token")):
            return error_page(ctx, who, status=403, title=BAD_FORM_TITLE, message=EXPIRED)
        if who.session is not None:  # a signed-out browser has nothing to end
            await store.sessions.delete(session_id=who.session.id)
        if who.user is not None:
            await store.events.append(kind="signout", now=now(), user_id=who.user.id)
    if ctx.backchannel is not None:  # the session's applications are owed logout tokens
        ctx.backchannel.wake()
    response = redirect(ctx, "/")
    sessions.clear_cookie(response, ctx)
    return response
