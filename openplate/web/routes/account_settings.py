"""A signed-in user's own settings: authorised apps and password (the security timeline is in
account_security.py)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from openplate.accounts.passwords import hash_password
from openplate.accounts.service import run_hash
from openplate.accounts.validation import InvalidAccountInput, check_password
from openplate.mail.notify import notify_account_changed
from openplate.oauth.scopes import SCOPES
from openplate.throttling import Refused
from openplate.web import attempts, sessions
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
EXPIRED = "Your form expired. Reload the page and try again."
NOT_AUTHORISED = "You have not authorised such an application."
CHANGED_NOTICE = ("Password changed. Every application lost access to your account and must "
                    "ask you again, and your other browsers are signed out.")


@router.get("/account/apps")
async def authorised_apps(request: Request) -> Response:
    ctx = context_of(request)
    async with ctx.db.transaction() as store:
        who = await visitor(request, ctx, store, create=True, notice=True)
        if who.user is None:
            return redirect(ctx, signin_url("/account/apps"), who)
        apps = await store.consents.authorised_apps(user_id=who.user.id)
    return render(ctx, "account_apps.html", who, apps=apps, when=moment, scopes=SCOPES,
                  times_note=TIMES_NOTE)


@router.get("/account/apps/{client_id}/revoke")
async def confirm_revoke(request: Request, client_id: str) -> Response:
    ctx = context_of(request)
    path = f"/account/apps/{client_id}/revoke"
    async with ctx.db.transaction(readonly=True) as store:
        who = await visitor(request, ctx, store, create=True)
        if who.user is None:
            return redirect(ctx, signin_url(path), who)
        apps = await store.consents.authorised_apps(user_id=who.user.id)
    app = next((a for a in apps if a.client_id == client_id), None)
    if app is None:
        return error_page(ctx, who, status=404, title="Not found", message=NOT_AUTHORISED)
    return confirm_page(
        ctx, who, title=f"Revoke access for {app.name}?", action=path,
        consequences=[
            "It can no longer use your account: every token it holds for you ends at once.",
            "It must ask you again before it can have access.",
        ],
        button="Revoke access", cancel="/account/apps",
    )


@router.post("/account/apps/{client_id}/revoke")
async def revoke_app(request: Request, client_id: str) -> Response:
    ctx = context_of(request)
    form = await posted_form(request, ctx, title=TITLE)
    if isinstance(form, Response):
        return form
    async with ctx.db.transaction(ip=client_ip(request)) as store:
        who = await signed_in_post(request, ctx, store, form, back="/account/apps")
        if isinstance(who, Response):
            return who
        assert who.user is not None and who.session is not None
        client = await store.clients.by_client_id(client_id)
        revoked = client is not None and await store.consents.revoke_app(
            user_id=who.user.id, client_pk=client.pk, now=now()
        )
        if not revoked or client is None:
            return error_page(ctx, who, status=404, title="Not found", message=NOT_AUTHORISED)
        await store.events.append(kind="app.revoked", now=now(), user_id=who.user.id,
                                  client_id=client_id)
        await tell(ctx, store, who.session, Notice(f"Revoked access for {client.name}."))
    return redirect(ctx, "/account/apps")


@router.get("/account/password")
async def password_page(request: Request) -> Response:
    ctx = context_of(request)
    async with ctx.db.transaction() as store:
        who = await visitor(request, ctx, store, create=True, notice=True)
    if who.user is None:
        return redirect(ctx, signin_url("/account/password"), who)
    return render(ctx, "account_password.html", who, error=None)


@router.post("/account/password")
async def change_password(request: Request) -> Response:
    ctx = context_of(request)
    form = await posted_form(request, ctx, title=TITLE)
    if isinstance(form, Response):
        return form
    async with ctx.db.transaction(readonly=True) as store:
        who = await visitor(request, ctx, store, create=False)
    if not sessions.csrf_ok(who.session, form.get("csrf_token")):
        return error_page(ctx, who, status=403, title=TITLE, message=EXPIRED)
    if who.user is None or who.session is None:
        return redirect(ctx, signin_url("/account/password"), who)
    # The current password is a password attempt like a sign-in (web/attempts.py).
    attempt = await attempts.password_attempt(ctx, request, login=who.user.username, user=who.user,
                                              purpose="password_change")
    if isinstance(attempt, Refused):
        response = render(ctx, "account_password.html", who, status=429,
                          error="Too many wrong passwords. Wait a few minutes, then try again.")
        response.headers["Retry-After"] = str(attempt.retry_after)
        return response
    if not await attempt.check(who.user, form.get("current_password") or ""):
        return render(ctx, "account_password.html", who, status=401,
                      error="Your current password is not right.")
    await attempt.succeeded()
    try:
        new = check_password(form.get("new_password") or "")
    except InvalidAccountInput as error:
        return render(ctx, "account_password.html", who, status=400, error=str(error),
                      error_field="new_password")
    new_hash = await run_hash(hash_password, new)
    async with ctx.db.transaction(ip=client_ip(request)) as store:
        # What the page promised: every grant ends (so every token), every remembered consent is
        # forgotten (so every app must ask again), every other browser is signed out (this one
        # gets a new session).
        await store.users.set_password(user_id=who.user.id, password_hash=new_hash, now=now())
        await store.consents.forget_user(user_id=who.user.id)
        await store.sessions.delete_for_user(user_id=who.user.id)
        session, token = await sessions.start(ctx, store, user_id=who.user.id,
                                              user_agent=sessions.user_agent_of(request))
        await store.events.append(kind="password.changed", now=now(), user_id=who.user.id)
        await store.password_resets.cancel_for_user(user_id=who.user.id, now=now())
        await notify_account_changed(store, base_url=ctx.settings.base_url,
                                     username=who.user.username, email=who.user.email,
                                     what="Your password was changed", now=now())
        await tell(ctx, store, session, Notice(CHANGED_NOTICE))
    ctx.mail.wake()
    response = redirect(ctx, "/account/password")
    sessions.set_cookie(response, ctx, token)
    return response
