"""RFC 8628 §3.3: the user's side of the device authorization grant, /device.

A signed-in user types the code their device shows (a signed-out one signs in first and comes
back with the code still in the form), sees a page that names the application, its developer
and what it asks for, and allows or denies. ``verification_uri_complete`` only fills the code
in: the user still presses Continue and then Allow (§5.4, remote phishing: a link someone sent
must never approve a device by itself). Typed codes are throttled per user and per address,
counted before the lookup (§5.1, brute force). ``/device/qr`` draws ``verification_uri_complete``
as a QR code for a device to show.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from openplate.oauth import device
from openplate.oauth.device import UserCodeRefused, normalize_user_code, show_user_code
from openplate.oauth.models import Client, DeviceRecord
from openplate.oauth.scopes import SCOPES
from openplate.store.unit import Store
from openplate.throttling import Limit, Refused
from openplate.web.context import AppContext, client_ip, context_of, now
from openplate.web.pages import (
    Visitor,
    error_page,
    posted_form,
    redirect,
    render,
    signed_in_post,
    signin_url,
    visitor,
)
from openplate.web.routes.app_logo import logo_path

router = APIRouter(include_in_schema=False)

PAGE = device.VERIFICATION_PATH
CANNOT = "This device cannot be connected"
TOO_MANY = "Too many wrong codes. Wait a few minutes, then try again."
QR_HEADERS = {"cache-control": "public, max-age=600", "x-content-type-options": "nosniff",
              "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'"}


def _shown(text: str | None) -> str:
    """A code for the form: ``XXXX-XXXX`` if it can be one, else what was typed (bounded)."""
    code = normalize_user_code(text)
    return show_user_code(code) if code is not None else (text or "")[:20]


def _entry_page(ctx: AppContext, who: Visitor, *, code: str, status: int = 200,
                error: str | None = None) -> Response:
    return render(ctx, "device.html", who, status=status, user_code=code, error=error,
                  page_url=ctx.url(PAGE))


def _request_id(text: str | None) -> int | None:
    return int(text) if text is not None and text.isdigit() and len(text) < 19 else None


@router.get(PAGE)
async def device_page(request: Request) -> Response:
    ctx = context_of(request)
    code = normalize_user_code(request.query_params.get("user_code"))
    back = PAGE + (f"?user_code={show_user_code(code)}" if code is not None else "")
    async with ctx.db.transaction(readonly=True) as store:
        who = await visitor(request, ctx, store, create=True)
    if who.user is None:  # sign in first; the code (only ever pre-filled) comes back with them
        return redirect(ctx, signin_url(back), who)
    return _entry_page(ctx, who, code=show_user_code(code) if code is not None else "")


def _guess_keys(ctx: AppContext, request: Request, user_id: int) -> dict[str, Limit]:
    return {f"device:user:{user_id}": ctx.throttle.device_code_per_user,
            f"device:ip:{client_ip(request)}": ctx.throttle.device_code_per_ip}


@router.post(PAGE)
async def enter_code(request: Request) -> Response:
    ctx = context_of(request)
    form = await posted_form(request, ctx, title=CANNOT)
    if isinstance(form, Response):
        return form
    typed = form.get("user_code") or ""
    ip, t = client_ip(request), now()
    async with ctx.db.transaction(readonly=True) as store:
        who = await signed_in_post(request, ctx, store, form, back=PAGE)
    if isinstance(who, Response):
        return who
    assert who.user is not None
    if normalize_user_code(typed) is None:  # not a code at all: no lookup, nothing counted
        return _entry_page(ctx, who, code=typed[:20], status=400, error=device.WRONG_CODE)
    # Counted before the lookup, atomically, so a parallel burst gets at most the budget's
    # worth of answers; given back when the code was right (web/attempts.py does the same).
    keys = _guess_keys(ctx, request, who.user.id)
    async with ctx.db.transaction(ip=ip) as store:
        taken = await ctx.counters(store).take(keys, now=t)
        if isinstance(taken, Refused):
            await store.events.append(kind="device.throttled", now=t, user_id=who.user.id)
    if isinstance(taken, Refused):
        response = _entry_page(ctx, who, code=_shown(typed), status=429, error=TOO_MANY)
        response.headers["Retry-After"] = str(taken.retry_after)
        return response
    async with ctx.db.transaction(ip=ip) as store:
        try:
            record = await device.enter_user_code(store, ctx.digester, typed, user_id=who.user.id,
                                                  now=t)
        except UserCodeRefused as refused:
            error: str | None = str(refused)
            await store.events.append(kind="device.code_failure", now=t, user_id=who.user.id)
        else:
            error = None
            await ctx.counters(store).give_back(taken)
    if error is not None:
        return _entry_page(ctx, who, code=_shown(typed), status=400, error=error)
    return redirect(ctx, f"{PAGE}/confirm?request={record.id}", who)


async def _app_and_developer(store: Store, record: DeviceRecord) -> tuple[Client, str | None]:
    client = await store.clients.by_client_id(record.client_id)
    if client is None:
        raise UserCodeRefused(device.WRONG_CODE)
    owner = await store.users.by_id(client.owner_id) if client.owner_id is not None else None
    return client, owner.username if owner is not None else None


@router.get(PAGE + "/confirm")
async def confirm_page(request: Request) -> Response:
    ctx = context_of(request)
    device_id = _request_id(request.query_params.get("request"))
    async with ctx.db.transaction(readonly=True) as store:
        who = await visitor(request, ctx, store, create=False)
        if who.user is None:
            return redirect(ctx, signin_url(PAGE), who)
        try:
            if device_id is None:
                raise UserCodeRefused("Type the code your device shows first.")
            record = await device.claimed(store, device_id, user_id=who.user.id, now=now())
            client, developer = await _app_and_developer(store, record)
        except UserCodeRefused as refused:
            return _entry_page(ctx, who, code="", status=400, error=str(refused))
    if client.disabled:
        return error_page(ctx, who, status=400, title=CANNOT,
                          message="This application is disabled by the people who run this site.")
    if ctx.settings.require_verified_email and who.user.email_verified_at is None:
        return render(ctx, "verify_email_needed.html", who, client_name=client.name,
                      email=who.user.email, next=f"{PAGE}/confirm?request={record.id}")
    return render(
        ctx, "device_confirm.html", who, client_name=client.name, app=client,
        developer=developer, request_id=record.id,
        scopes=[(scope, SCOPES[scope]) for scope in record.scope.split() if scope in SCOPES],
        logo_url=logo_path(client.client_id, client.logo_digest),
        homepage_host=_host(client.homepage_url),
        vouched_by=_host(client.client_id) if client.registration == "metadata" else None,
    )


def _host(url: str | None) -> str | None:
    return (urlsplit(url).netloc or url) if url else None


@router.post(PAGE + "/decision")
async def decision(request: Request) -> Response:
    ctx = context_of(request)
    form = await posted_form(request, ctx, title=CANNOT)
    if isinstance(form, Response):
        return form
    ip, t = client_ip(request), now()
    async with ctx.db.transaction(ip=ip) as store:
        who = await signed_in_post(request, ctx, store, form, back=PAGE)
        if isinstance(who, Response):
            return who
        assert who.user is not None and who.session is not None
        choice = form.get("decision")
        device_id = _request_id(form.get("request"))
        if choice not in ("allow", "deny") or device_id is None:
            return error_page(ctx, who, status=400, title=CANNOT, message="Choose Allow or Deny.")
        try:
            record = await device.claimed(store, device_id, user_id=who.user.id, now=t)
            client, _developer = await _app_and_developer(store, record)
            await device.decide(
                store, record, user_id=who.user.id, allow=choice == "allow", now=t,
                auth_time=who.session.auth_time, amr=" ".join(who.session.amr) or None)
        except UserCodeRefused as refused:
            return _entry_page(ctx, who, code="", status=400, error=str(refused))
        await store.events.append(
            kind="device.allowed" if choice == "allow" else "device.denied", now=t,
            user_id=who.user.id, client_id=client.client_id, detail={"scope": record.scope})
    return redirect(ctx, f"{PAGE}/done?request={record.id}", who)


@router.get(PAGE + "/done")
async def done_page(request: Request) -> Response:
    ctx = context_of(request)
    device_id = _request_id(request.query_params.get("request"))
    async with ctx.db.transaction(readonly=True) as store:
        who = await visitor(request, ctx, store, create=False)
        if who.user is None:
            return redirect(ctx, signin_url(PAGE), who)
        record = await store.device_codes.by_id(device_id=device_id) if device_id else None
        # Only the user who decided learns what was decided.
        if record is None or record.user_id != who.user.id or record.status == "pending":
            return _entry_page(ctx, who, code="", status=404,
                               error="Nothing was decided here. Type the code your device shows.")
        client = await store.clients.by_client_id(record.client_id)
    return render(ctx, "device_done.html", who, allowed=record.status == "allowed",
                  client_name=client.name if client is not None else "The application")


@router.get(PAGE + "/qr")
async def qr_code(request: Request) -> Response:
    """The QR code of ``verification_uri_complete`` for ``user_code``, as SVG, for a device to
    show beside the code. It encodes the URL only (nothing is looked up), like printing it."""
    ctx = context_of(request)
    code = normalize_user_code(request.query_params.get("user_code"))
    if code is None or len(request.query_params.getlist("user_code")) != 1:
        return error_page(ctx, None, status=400, title="No QR code",
                          message="user_code: give the 8-letter code, like BCDF-GHJK, once.")
    return Response(qr_svg(device.verification_uri(ctx.settings.base_url, code)),
                    media_type="image/svg+xml", headers=QR_HEADERS)


def qr_svg(uri: str) -> bytes:
    """``uri`` as a QR code: a whole SVG document (with its namespace, so an ``<img>`` shows
    it), drawn here with segno; no request leaves the server."""
    import io

    import segno

    out = io.BytesIO()
    segno.make(uri, error="m").save(out, kind="svg", xmldecl=False, scale=6, border=4,
                                    dark="#000", light="#fff", title=f"Open {uri}",
                                    svgclass="qr")
    return out.getvalue()

