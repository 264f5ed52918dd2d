"""/applications: a developer registers and manages their OAuth applications.

Every post that changes something answers with a redirect and a one-time notice saying what
happened; a new client secret travels in that notice (sealed) and is shown once. Rotating the
secret and deleting the application ask first, on a page of their own (no JavaScript needed).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from openplate.accounts import app_logos, applications, lifecycle
from openplate.accounts.applications import InvalidApplication
from openplate.oauth.device import DEVICE_GRANT, VERIFICATION_PATH
from openplate.oauth.models import Client
from openplate.oauth.params import Params
from openplate.store.unit import Store
from openplate.web.context import AppContext, client_ip, context_of, now
from openplate.web.forms import BadForm, FormTooLarge, UploadForm, read_upload_form
from openplate.web.notices import Notice
from openplate.web.pages import (
    Visitor,
    confirm_page,
    duration,
    error_page,
    posted_form,
    redirect,
    render,
    signed_in_post,
    signin_url,
    tell,
    visitor,
)

router = APIRouter(include_in_schema=False)

NOT_FOUND = "No such application among yours."
CREATED = "Application created. Add a redirect URI to use it."
#: The most an application form may carry: the largest logo and room for the text fields.
#: Refused before it is all read (see read_upload_form); BodyLimit allows these paths more.
APP_FORM_MAX_BYTES = app_logos.LOGO_MAX_BYTES + 64 * 1024
TOO_LARGE = (f"Logo: this file is too large. A logo is {app_logos.LIMITS_TEXT}.")


@dataclass(frozen=True, slots=True)
class FormError:
    """A message for a person and the form field it is about (None: the form as a whole)."""

    message: str
    field: str | None = None

    @classmethod
    def of(cls, error: InvalidApplication) -> FormError:
        return cls(str(error), error.field)


def _profile_values(form: UploadForm | None, app: Client | None) -> dict[str, str]:
    """What the profile fields show: as posted, else as stored (cut to what the fields hold)."""
    if form is not None:
        get = form.params.get
        return {"homepage": (get("homepage") or "")[:applications.MAX_URL_CHARS + 100],
                "description": (get("description") or "")[:applications.MAX_DESCRIPTION_CHARS + 100],
                "privacy_url": (get("privacy_url") or "")[:applications.MAX_URL_CHARS + 100]}
    return {"homepage": (app.homepage_url if app else None) or "",
            "description": (app.description if app else None) or "",
            "privacy_url": (app.privacy_url if app else None) or ""}


async def _checked_logo(ctx: AppContext, form: UploadForm) -> app_logos.CheckedLogo | None:
    """The posted logo, checked in a worker thread (a few at a time), or None if none came."""
    raw = form.files.get("logo")
    if raw is None:
        return None
    if len(raw) > app_logos.LOGO_MAX_BYTES:  # refused before Pillow sees it
        return app_logos.check_logo(raw)
    async with ctx.parse_slots:
        return await asyncio.to_thread(app_logos.check_logo, raw)


async def _upload_form(request: Request, ctx: AppContext) -> UploadForm | FormError | Response:
    """The posted form; ``FormError`` if it was too large (the page says so beside the logo
    field); the error page for a form that cannot be read at all."""
    try:
        return await read_upload_form(request, max_bytes=APP_FORM_MAX_BYTES,
                                      file_fields=("logo",))
    except FormTooLarge:
        return FormError(TOO_LARGE, "logo")
    except BadForm as error:
        return error_page(ctx, None, status=400, title="Bad form", message=str(error))


def _too_large_page(ctx: AppContext, who: Visitor) -> Response:
    return error_page(ctx, who, status=413, title="This form is too large", message=TOO_LARGE)


def _app_page(
    ctx: AppContext, who: Visitor, app: Client, *, status: int = 200,
    error: FormError | None = None, form: UploadForm | None = None,
) -> Response:
    notice = who.notice
    new_secret = notice.secret if notice and notice.client_id == app.client_id else None
    form_name = (form.params.get("name") or "")[:100] if form else app.name
    form_uris = ((form.params.get("redirect_uris") or "")[:50_000] if form
                 else "\n".join(app.redirect_uris))
    logout_uris = ((form.params.get("post_logout_redirect_uris") or "")[:50_000] if form
                   else "\n".join(app.post_logout_redirect_uris))
    backchannel = ((form.params.get("backchannel_logout_uri") or "")[:2100] if form
                   else app.backchannel_logout_uri or "")
    session_required = (form.params.get("backchannel_logout_session_required") == "1" if form
                        else app.backchannel_logout_session_required)
    return render(
        ctx, "application.html", who, status=status, app=app, new_secret=new_secret,
        error=error, form_name=form_name, form_uris=form_uris,
        profile=_profile_values(form, app), logo_limits=app_logos.LIMITS_TEXT,
        logo_max_side=app_logos.LOGO_MAX_SIDE,
        max_description=applications.MAX_DESCRIPTION_CHARS,
        shown_secret_for=app.client_id,
        id_token_algs=applications.ID_TOKEN_ALGS,
        id_token_alg=app.id_token_alg or ctx.settings.signing_alg,
        device_grant=DEVICE_GRANT, device_page=ctx.url(VERIFICATION_PATH),
        require_par_everywhere=ctx.settings.require_par,
        form_logout_uris=logout_uris, form_backchannel=backchannel,
        form_session_required=session_required,
    )


@router.get("/applications")
async def list_apps(request: Request) -> Response:
    ctx = context_of(request)
    async with ctx.db.transaction() as store:
        who = await visitor(request, ctx, store, create=True, notice=True)
        if who.user is None:
            return redirect(ctx, signin_url("/applications"), who)
        apps = await store.applications.owned_by(owner_id=who.user.id)
    return _list_page(ctx, who, apps)


def _list_page(ctx: AppContext, who: Visitor, apps: list[Client], *, status: int = 200,
               error: FormError | None = None, form: UploadForm | None = None) -> Response:
    return render(
        ctx, "applications.html", who, status=status, apps=apps, error=error,
        name=(form.params.get("name") or "")[:100] if form else "",
        public=bool(form and form.params.get("public") == "1"),
        profile=_profile_values(form, None), logo_limits=app_logos.LIMITS_TEXT,
        max_description=applications.MAX_DESCRIPTION_CHARS,
    )


async def _own_app(
    request: Request, ctx: AppContext, store: Store, form: Params, client_id: str
) -> tuple[Visitor, Client] | Response:
    """A developer's post about one of their own applications (404 for anyone else's)."""
    who = await signed_in_post(request, ctx, store, form, back="/applications")
    if isinstance(who, Response):
        return who
    assert who.user is not None
    app = await store.applications.owned(owner_id=who.user.id, client_id=client_id)
    if app is None:
        return error_page(ctx, who, status=404, title="Not found", message=NOT_FOUND)
    return who, app


async def _shown_app(
    request: Request, ctx: AppContext, store: Store, client_id: str, path: str, *,
    notice: bool = False,
) -> tuple[Visitor, Client] | Response:
    """A page about one of the signed-in developer's applications (sign in first; 404 else)."""
    who = await visitor(request, ctx, store, create=True, notice=notice)
    if who.user is None:
        return redirect(ctx, signin_url(path), who)
    app = await store.applications.owned(owner_id=who.user.id, client_id=client_id)
    if app is None:
        return error_page(ctx, who, status=404, title="Not found", message=NOT_FOUND)
    return who, app


async def _form(request: Request, ctx: AppContext) -> Params | Response:
    return await posted_form(request, ctx, title="Bad form")


@router.post("/applications/new")
async def create_app(request: Request) -> Response:
    ctx = context_of(request)
    form = await _upload_form(request, ctx)
    if isinstance(form, Response):
        return form
    async with ctx.db.transaction(readonly=True) as store:
        if isinstance(form, FormError):  # nothing changes: the form is shown again, saying why
            who = await visitor(request, ctx, store, create=True)
            if who.user is None:
                return _too_large_page(ctx, who)
        else:
            checked = await signed_in_post(request, ctx, store, form.params, back="/applications")
            if isinstance(checked, Response):
                return checked
            who = checked
        assert who.user is not None
        apps = await store.applications.owned_by(owner_id=who.user.id)
    if isinstance(form, FormError):
        return _list_page(ctx, who, apps, status=413, error=form)
    assert who.user is not None and who.session is not None
    get = form.params.get
    try:
        name = applications.check_name(get("name") or "")
        profile = applications.check_profile(
            homepage=get("homepage"), description=get("description"),
            privacy_url=get("privacy_url"), require_homepage=True)
        logo = await _checked_logo(ctx, form)
    except InvalidApplication as error:
        return _list_page(ctx, who, apps, status=400, error=FormError.of(error), form=form)
    async with ctx.db.transaction(ip=client_ip(request)) as store:
        app, secret = await applications.register(
            store, ctx.digester, owner_id=who.user.id, name=name, redirect_uris=[],
            public=get("public") == "1", now=now(), id_token_alg=ctx.settings.signing_alg,
            profile=profile, logo=logo,
        )
        await tell(ctx, store, who.session, Notice(CREATED, secret, app.client_id))
    return redirect(ctx, f"/applications/{app.client_id}")


@router.get("/applications/{client_id}")
async def show_app(request: Request, client_id: str) -> Response:
    ctx = context_of(request)
    async with ctx.db.transaction() as store:
        shown = await _shown_app(request, ctx, store, client_id, f"/applications/{client_id}",
                                 notice=True)
    if isinstance(shown, Response):
        return shown
    who, app = shown
    return _app_page(ctx, who, app)


@router.post("/applications/{client_id}")
async def update_app(request: Request, client_id: str) -> Response:
    ctx = context_of(request)
    form = await _upload_form(request, ctx)
    if isinstance(form, Response):
        return form
    async with ctx.db.transaction(readonly=True) as store:
        if isinstance(form, FormError):  # nothing changes: the form is shown again, saying why
            who = await visitor(request, ctx, store, create=True)
            mine = (await store.applications.owned(owner_id=who.user.id, client_id=client_id)
                    if who.user is not None else None)
            if mine is None:
                return _too_large_page(ctx, who)
            return _app_page(ctx, who, mine, status=413, error=form)
        shown = await _own_app(request, ctx, store, form.params, client_id)
    if isinstance(shown, Response):
        return shown
    who, app = shown
    assert who.session is not None
    get = form.params.get
    alg_text = get("id_token_alg")
    try:
        name = applications.check_name(get("name") or "")
        uris = applications.check_redirect_uris(
            applications.split_lines(get("redirect_uris") or ""), require_one=True)
        alg = applications.check_id_token_alg(alg_text) if alg_text is not None else None
        logout_uris = applications.check_post_logout_redirect_uris(
            applications.split_lines(get("post_logout_redirect_uris") or ""))
        backchannel = applications.check_backchannel_logout_uri(
            get("backchannel_logout_uri"), allow_private=ctx.settings.allow_private_client_urls)
        # An app registered before homepages were asked for may keep saving without one.
        profile = applications.check_profile(
            homepage=get("homepage"), description=get("description"),
            privacy_url=get("privacy_url"), require_homepage=app.homepage_url is not None)
        logo = await _checked_logo(ctx, form)
    except InvalidApplication as error:
        return _app_page(ctx, who, app, status=400, error=FormError.of(error), form=form)
    require_pkce = app.is_public or get("require_pkce") == "1"
    require_par = get("require_pushed_authorization_requests") == "1"
    grants = [g for g in app.grant_types if g not in ("client_credentials", DEVICE_GRANT)]
    if get("client_credentials") == "1" and not app.is_public:
        grants.append("client_credentials")
    if get("device_code") == "1":  # RFC 8628, opted into per application
        grants.append(DEVICE_GRANT)
    async with ctx.db.transaction(ip=client_ip(request)) as store:
        # Still the developer's (it may have been deleted meanwhile).
        assert app.owner_id is not None  # it was found as the developer's own
        if await store.applications.owned(owner_id=app.owner_id, client_id=client_id) is None:
            return error_page(ctx, who, status=404, title="Not found", message=NOT_FOUND)
        await store.applications.update(
            pk=app.pk, name=name, redirect_uris=uris, require_pkce=require_pkce,
            grant_types=applications.check_grant_types(grants, public=app.is_public),
            id_token_alg=alg, require_pushed_authorization_requests=require_par,
            dpop_bound_access_tokens=get("dpop_bound_access_tokens") == "1",
        )
        await store.applications.set_profile(pk=app.pk, profile=profile)
        await store.applications.set_logout(
            pk=app.pk, post_logout_redirect_uris=logout_uris, backchannel_logout_uri=backchannel,
            backchannel_logout_session_required=get("backchannel_logout_session_required") == "1")
        if logo is not None:
            await store.applications.set_logo(pk=app.pk, png=logo.png, digest=logo.digest,
                                              now=now())
        await tell(ctx, store, who.session, Notice("Saved." if logo is None
                                                   else "Saved, with the new logo."))
    return redirect(ctx, f"/applications/{client_id}")


@router.get("/applications/{client_id}/rotate-secret")
async def confirm_rotate(request: Request, client_id: str) -> Response:
    ctx = context_of(request)
    path = f"/applications/{client_id}/rotate-secret"
    async with ctx.db.transaction(readonly=True) as store:
        shown = await _shown_app(request, ctx, store, client_id, path)
    if isinstance(shown, Response):
        return shown
    who, app = shown
    if app.is_public:
        return error_page(ctx, who, status=400, title="Nothing to rotate",
                          message="A public client has no secret to rotate.")
    return confirm_page(
        ctx, who, title=f"Rotate the secret of {app.name}?", action=path,
        consequences=[
            "A new secret is made and shown to you once.",
            "The current secret stops working at once: until the application uses the new "
            "one, it cannot get tokens.",
            "Its refresh tokens stop working, so its users must sign in through it again.",
            "Access tokens it already holds work until they expire (within "
            f"{duration(ctx.settings.access_token_ttl)}).",
        ],
        button="Rotate secret", cancel=f"/applications/{client_id}",
    )


@router.post("/applications/{client_id}/rotate-secret")
async def rotate(request: Request, client_id: str) -> Response:
    ctx = context_of(request)
    form = await _form(request, ctx)
    if isinstance(form, Response):
        return form
    async with ctx.db.transaction(ip=client_ip(request)) as store:
        owned = await _own_app(request, ctx, store, form, client_id)
        if isinstance(owned, Response):
            return owned
        who, app = owned
        assert who.session is not None
        try:
            secret = await applications.rotate_secret(store, ctx.digester, app, now=now())
        except InvalidApplication as error:
            return _app_page(ctx, who, app, status=400, error=FormError.of(error))
        await store.events.append(kind="client.secret_rotated", now=now(), user_id=app.owner_id,
                                  client_id=app.client_id)
        await tell(ctx, store, who.session, Notice(
            "New secret made. The old one no longer works.", secret, app.client_id))
    return redirect(ctx, f"/applications/{client_id}")


@router.get("/applications/{client_id}/delete")
async def confirm_delete(request: Request, client_id: str) -> Response:
    ctx = context_of(request)
    path = f"/applications/{client_id}/delete"
    async with ctx.db.transaction(readonly=True) as store:
        shown = await _shown_app(request, ctx, store, client_id, path)
    if isinstance(shown, Response):
        return shown
    who, app = shown
    return confirm_page(
        ctx, who, title=f"Delete {app.name}?", action=path,
        consequences=[
            "Its client ID and secret stop working at once.",
            "Every token it holds ends, and every user's permission for it is forgotten.",
            "Maps uploaded through it stay with the people who uploaded them.",
            "This cannot be undone.",
        ],
        button="Delete application", cancel=f"/applications/{client_id}",
    )


@router.post("/applications/{client_id}/delete")
async def delete_app(request: Request, client_id: str) -> Response:
    ctx = context_of(request)
    form = await _form(request, ctx)
    if isinstance(form, Response):
        return form
    async with ctx.db.transaction(ip=client_ip(request)) as store:
        owned = await _own_app(request, ctx, store, form, client_id)
        if isinstance(owned, Response):
            return owned
        who, app = owned
        assert who.session is not None and app.owner_id is not None
        await lifecycle.delete_app(store, app.pk, app.client_id, app.owner_id, now=now(),
                                   by=lifecycle.BY_USER, name=app.name)
        await tell(ctx, store, who.session, Notice(f"Deleted {app.name}."))
    return redirect(ctx, "/applications")
