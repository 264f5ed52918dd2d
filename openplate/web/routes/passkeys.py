"""/account/passkeys: register several passkeys, name, rename and remove them; and "Sign in with
a passkey" from the sign-in page (a discoverable credential: no username is typed).

The WebAuthn ceremonies are in web/passkeys.py; these routes bind each challenge to the browser
that asked for it and answer every change with a redirect and a one-time notice.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from openplate.store.passkey_repos import PasskeyRecord
from openplate.store.unit import Store
from openplate.web import attempts, interaction, passkeys, sessions
from openplate.web.account_changes import account_changed
from openplate.web.context import AppContext, client_ip, context_of, now
from openplate.web.notices import Notice
from openplate.web.pages import (
    Visitor,
    confirm_page,
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
from openplate.web.routes.account import DISABLED

router = APIRouter(include_in_schema=False)
PATH = "/account/passkeys"
TITLE = "This form could not be used"
NOT_YOURS = "You have no such passkey."
MAX_NAME = 64


def when(timestamp: int | None) -> str:
    if timestamp is None:
        return "never"
    return datetime.fromtimestamp(timestamp, UTC).strftime("%d %b %Y %H:%M UTC")


def check_name(raw: str | None) -> str:
    """A passkey's name: 1 to 64 characters, no control characters."""
    name = " ".join((raw or "").split())
    if not name:
        raise ValueError("Give the passkey a name, such as the device it is on.")
    if len(name) > MAX_NAME:
        raise ValueError(f"A passkey's name is at most {MAX_NAME} characters.")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in name):
        raise ValueError("A passkey's name cannot hold control characters.")
    return name


async def _page(ctx: AppContext, store: Store, who: Visitor, *, status: int = 200,
                errors: dict[str, str] | None = None, name: str = "",
                renaming: int | None = None) -> Response:
    assert who.user is not None
    keys = await store.passkeys.of_user(user_id=who.user.id)
    return render(ctx, "account_passkeys.html", who, status=status, keys=keys,
                  errors=errors or {}, name=name, when=when, renaming=renaming)


def _session_binding(ctx: AppContext, who: Visitor) -> str:
    assert who.session is not None
    return passkeys.binding(ctx, "session", str(who.session.id))


@router.get(PATH)
async def passkeys_page(request: Request) -> Response:
    ctx = context_of(request)
    async with ctx.db.transaction() as store:
        who = await visitor(request, ctx, store, create=True, notice=True)
        if who.user is None:
            return redirect(ctx, signin_url(PATH), who)
        return await _page(ctx, store, who)


@router.post(PATH + "/options")
async def registration_options(request: Request) -> Response:
    ctx = context_of(request)
    form = await posted_form(request, ctx, title=TITLE)
    if isinstance(form, Response):
        return form
    async with ctx.db.transaction(ip=client_ip(request)) as store:
        who = await visitor(request, ctx, store, create=False)
        if not sessions.csrf_ok(who.session, form.get("csrf_token")) or who.user is None:
            return JSONResponse({"error": "Your page expired. Reload it and try again."},
                                status_code=403)
        options = await passkeys.registration_options(
            ctx, store, who.user, bound_to=_session_binding(ctx, who), now=now())
    return Response(options, media_type="application/json", headers={"Cache-Control": "no-store"})


@router.post(PATH)
async def add_passkey(request: Request) -> Response:
    ctx = context_of(request)
    form = await posted_form(request, ctx, title=TITLE)
    if isinstance(form, Response):
        return form
    t = now()
    async with ctx.db.transaction(ip=client_ip(request)) as store:
        who = await signed_in_post(request, ctx, store, form, back=PATH)
        if isinstance(who, Response):
            return who
        assert who.user is not None and who.session is not None
        try:
            name = check_name(form.get("name"))
        except ValueError as error:
            return await _page(ctx, store, who, status=400, errors={"name": str(error)},
                               name=(form.get("name") or "")[:MAX_NAME])
        # The challenge is taken in this unit of work, which commits whatever happens next.
        try:
            await passkeys.register(ctx, store, who.user, bound_to=_session_binding(ctx, who),
                                    credential=form.get("credential") or "", name=name, now=t)
        except passkeys.CeremonyFailed as error:
            await store.events.append(kind="passkey.failure", now=t, user_id=who.user.id)
            return await _page(ctx, store, who, status=400, errors={"passkey": str(error)},
                               name=name)
        await store.events.append(kind="passkey.added", now=t, user_id=who.user.id,
                                  detail={"name": name})
        await account_changed(ctx, store, user_id=who.user.id, change="passkey.added", now=t)
        await tell(ctx, store, who.session, Notice(f"Passkey “{name}” added. You can sign in "
                                                   "with it instead of your password."))
    ctx.mail.wake()  # the notice was queued with the change, now committed
    return redirect(ctx, PATH)


async def _own(store: Store, who: Visitor, passkey_id: int) -> PasskeyRecord | None:
    assert who.user is not None
    return next((k for k in await store.passkeys.of_user(user_id=who.user.id)
                 if k.id == passkey_id), None)


@router.post(PATH + "/{passkey_id:int}/rename")
async def rename_passkey(request: Request, passkey_id: int) -> Response:
    ctx = context_of(request)
    form = await posted_form(request, ctx, title=TITLE)
    if isinstance(form, Response):
        return form
    t = now()
    async with ctx.db.transaction(ip=client_ip(request)) as store:
        who = await signed_in_post(request, ctx, store, form, back=PATH)
        if isinstance(who, Response):
            return who
        assert who.user is not None and who.session is not None
        if await _own(store, who, passkey_id) is None:
            return error_page(ctx, who, status=404, title="Not found", message=NOT_YOURS)
        try:
            name = check_name(form.get("name"))
        except ValueError as error:
            return await _page(ctx, store, who, status=400, renaming=passkey_id,
                               errors={f"name-{passkey_id}": str(error)})
        await store.passkeys.rename(user_id=who.user.id, passkey_id=passkey_id, name=name)
        await store.events.append(kind="passkey.renamed", now=t, user_id=who.user.id,
                                  detail={"name": name})
        await account_changed(ctx, store, user_id=who.user.id, change="passkey.renamed", now=t)
        await tell(ctx, store, who.session, Notice(f"Passkey renamed to “{name}”."))
    ctx.mail.wake()  # the notice was queued with the change, now committed
    return redirect(ctx, PATH)


@router.get(PATH + "/{passkey_id:int}/remove")
async def confirm_remove(request: Request, passkey_id: int) -> Response:
    ctx = context_of(request)
    path = f"{PATH}/{passkey_id}/remove"
    async with ctx.db.transaction(readonly=True) as store:
        who = await visitor(request, ctx, store, create=True)
        if who.user is None:
            return redirect(ctx, signin_url(path), who)
        key = await _own(store, who, passkey_id)
    if key is None:
        return error_page(ctx, who, status=404, title="Not found", message=NOT_YOURS)
    return confirm_page(
        ctx, who, title=f"Remove the passkey “{key.name}”?", action=path,
        consequences=["You can no longer sign in with it; your password and any other "
                       "passkeys keep working.",
                       "The device may still list it: remove it there too."],
        button="Remove passkey", cancel=PATH)


@router.post(PATH + "/{passkey_id:int}/remove")
async def remove_passkey(request: Request, passkey_id: int) -> Response:
    ctx = context_of(request)
    form = await posted_form(request, ctx, title=TITLE)
    if isinstance(form, Response):
        return form
    t = now()
    async with ctx.db.transaction(ip=client_ip(request)) as store:
        who = await signed_in_post(request, ctx, store, form, back=PATH)
        if isinstance(who, Response):
            return who
        assert who.user is not None and who.session is not None
        key = await _own(store, who, passkey_id)
        if key is None or not await store.passkeys.remove(user_id=who.user.id,
                                                          passkey_id=passkey_id):
            return error_page(ctx, who, status=404, title="Not found", message=NOT_YOURS)
        await store.events.append(kind="passkey.removed", now=t, user_id=who.user.id,
                                  detail={"name": key.name})
        await account_changed(ctx, store, user_id=who.user.id, change="passkey.removed", now=t)
        await tell(ctx, store, who.session, Notice(f"Passkey “{key.name}” removed."))
    ctx.mail.wake()  # the notice was queued with the change, now committed
    return redirect(ctx, PATH)


# --- sign in with a passkey ----------------------------------------------------------------------

def _browser_binding(ctx: AppContext, who: Visitor) -> str | None:
    """A signed-out browser's challenges are bound to its form cookie (set by the sign-in page)."""
    if who.session is not None:
        return passkeys.binding(ctx, "session", str(who.session.id))
    if who.form_key is not None:
        return passkeys.binding(ctx, "form", who.form_key)
    return None


@router.post("/signin/passkey/options")
async def signin_options(request: Request) -> Response:
    ctx = context_of(request)
    form = await posted_form(request, ctx, title=TITLE)
    if isinstance(form, Response):
        return form
    async with ctx.db.transaction(ip=client_ip(request)) as store:
        who = await visitor(request, ctx, store, create=False)
        bound_to = _browser_binding(ctx, who)
        if not who.csrf_ok(form.get("csrf_token")) or bound_to is None:
            return JSONResponse({"error": "Your page expired. Reload it and try again."},
                                status_code=403)
        options = await passkeys.authentication_options(
            ctx, store, purpose=passkeys.SIGN_IN, bound_to=bound_to, user_id=None, now=now())
    return Response(options, media_type="application/json", headers={"Cache-Control": "no-store"})


@router.post("/signin/passkey")
async def signin_with_passkey(request: Request) -> Response:
    ctx = context_of(request)
    form = await posted_form(request, ctx, title=TITLE)
    if isinstance(form, Response):
        return form
    target = safe_next(form.get("next"))
    t = now()
    async with ctx.db.transaction(ip=client_ip(request)) as store:
        who = await visitor(request, ctx, store, create=False)
        bound_to = _browser_binding(ctx, who)
        if not who.csrf_ok(form.get("csrf_token")) or bound_to is None:
            return error_page(ctx, who, status=403, title=TITLE,
                              message="Your form expired. Go back, reload the page and try again.")
        failure: str | None = None
        try:
            proven = await passkeys.authenticate(
                ctx, store, purpose=passkeys.SIGN_IN, bound_to=bound_to,
                credential=form.get("credential") or "", now=t)
        except passkeys.CeremonyFailed as error:
            await store.events.append(kind="passkey.failure", now=t)
            failure = str(error)
        else:
            user = await store.users.by_id(proven.user_id)
            if user is None or user.disabled:
                # The passkey proved who it is; said only to them, as after a right password.
                await store.events.append(kind="signin.failure", now=t, user_id=proven.user_id,
                                          detail={"reason": "disabled"})
                failure = DISABLED
        if failure is None:
            _session, token = await sessions.start(
                ctx, store, user_id=proven.user_id, replacing=who.session, amr=proven.methods,
                for_request=interaction.handle_in(target),
                browser_digest=interaction.browser_digest(ctx, who),
                user_agent=sessions.user_agent_of(request))
            await store.events.append(kind="signin.success", now=t, user_id=proven.user_id,
                                      detail={"passkey": proven.passkey.name})
    if failure is not None:
        who.renew_form_cookie = who.form_key is not None
        return render(ctx, "signin.html", who, status=401, next=target, login="",
                      error=None, passkey_error=failure, app_name=None)
    response = redirect(ctx, target)
    sessions.set_cookie(response, ctx, token)
    attempts.remember_device(response, ctx, proven.user_id)
    return response
