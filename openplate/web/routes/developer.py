"""/applications: a developer registers and manages their OAuth applications.

Every post that changes something answers with a redirect and a one-time notice saying what
happened; a new client secret travels in that notice (sealed) and is shown once. Rotating the
secret and deleting the application ask first, on a page of their own (no JavaScript needed).
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from openplate.accounts import applications
from openplate.accounts.applications import InvalidApplication
from openplate.oauth.models import Client
from openplate.oauth.params import Params
from openplate.store.unit import Store
from openplate.web.context import AppContext, client_ip, context_of, now
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


def _app_page(
    ctx: AppContext, who: Visitor, app: Client, *, status: int = 200,
    error: str | None = None, form_name: str | None = None, form_uris: str | None = None,
    error_field: str | None = None,
) -> Response:
    notice = who.notice
    new_secret = notice.secret if notice and notice.client_id == app.client_id else None
    return render(
        ctx, "application.html", who, status=status, app=app, new_secret=new_secret, error=error,
        error_field=error_field,
        form_name=app.name if form_name is None else form_name,
        form_uris="\n".join(app.redirect_uris) if form_uris is None else form_uris,
        shown_secret_for=app.client_id,
        id_token_algs=applications.ID_TOKEN_ALGS,
        id_token_alg=app.id_token_alg or ctx.settings.signing_alg,
    )


@router.get("/applications")
async def list_apps(request: Request) -> Response:
    ctx = context_of(request)
    async with ctx.db.transaction() as store:
        who = await visitor(request, ctx, store, create=True, notice=True)
        if who.user is None:
            return redirect(ctx, signin_url("/applications"), who)
        apps = await store.applications.owned_by(owner_id=who.user.id)
    return render(ctx, "applications.html", who, apps=apps, error=None, name="")


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
    form = await _form(request, ctx)
    if isinstance(form, Response):
        return form
    async with ctx.db.transaction() as store:
        who = await signed_in_post(request, ctx, store, form, back="/applications")
        if isinstance(who, Response):
            return who
        assert who.user is not None and who.session is not None
        try:
            app, secret = await applications.register(
                store, ctx.digester, owner_id=who.user.id, name=form.get("name") or "",
                redirect_uris=[], public=form.get("public") == "1", now=now(),
                id_token_alg=ctx.settings.signing_alg,
            )
        except InvalidApplication as error:
            apps = await store.applications.owned_by(owner_id=who.user.id)
            return render(ctx, "applications.html", who, status=400, apps=apps,
                          error=str(error), name=(form.get("name") or "")[:100])
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
    form = await _form(request, ctx)
    if isinstance(form, Response):
        return form
    async with ctx.db.transaction() as store:
        owned = await _own_app(request, ctx, store, form, client_id)
        if isinstance(owned, Response):
            return owned
        who, app = owned
        assert who.session is not None
        name_text, uris_text = form.get("name") or "", form.get("redirect_uris") or ""
        alg_text = form.get("id_token_alg")
        field = "name"
        try:
            name = applications.check_name(name_text)
            field = "redirect_uris"
            uris = applications.check_redirect_uris(
                applications.split_lines(uris_text), require_one=True
            )
            field = "id_token_alg"
            alg = applications.check_id_token_alg(alg_text) if alg_text is not None else None
        except InvalidApplication as error:
            return _app_page(ctx, who, app, status=400, error=str(error), error_field=field,
                             form_name=name_text[:100], form_uris=uris_text[:50_000])
        require_pkce = app.is_public or form.get("require_pkce") == "1"
        grants = [g for g in app.grant_types if g != "client_credentials"]
        if form.get("client_credentials") == "1" and not app.is_public:
            grants.append("client_credentials")
        await store.applications.update(
            pk=app.pk, name=name, redirect_uris=uris, require_pkce=require_pkce,
            grant_types=applications.check_grant_types(grants, public=app.is_public),
            id_token_alg=alg,
        )
        await tell(ctx, store, who.session, Notice("Saved."))
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
            return _app_page(ctx, who, app, status=400, error=str(error))
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
        assert who.session is not None
        await store.applications.delete(pk=app.pk)
        # Its name stays in the log: the owner's security timeline can still say which app.
        await store.events.append(kind="client.deleted", now=now(), user_id=app.owner_id,
                                  client_id=app.client_id, detail={"name": app.name})
        await tell(ctx, store, who.session, Notice(f"Deleted {app.name}."))
    return redirect(ctx, "/applications")
