"""/applications: a developer registers and manages their OAuth applications."""

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

router = APIRouter(include_in_schema=False)

NOT_FOUND = "No such application among yours."


def _app_page(
    ctx: AppContext, who: Visitor, app: Client, *, status: int = 200, new_secret: str | None = None,
    error: str | None = None, form_name: str | None = None, form_uris: str | None = None,
) -> Response:
    return render(
        ctx, "application.html", who, status=status, app=app, new_secret=new_secret, error=error,
        form_name=app.name if form_name is None else form_name,
        form_uris="\n".join(app.redirect_uris) if form_uris is None else form_uris,
        id_token_algs=applications.ID_TOKEN_ALGS,
        id_token_alg=app.id_token_alg or ctx.settings.signing_alg,
    )


@router.get("/applications")
async def list_apps(request: Request) -> Response:
    ctx = context_of(request)
    async with ctx.db.transaction() as store:
        who = await visitor(request, ctx, store, create=True)
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
        assert who.user is not None
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
    return _app_page(ctx, who, app, status=201, new_secret=secret)


@router.get("/applications/{client_id}")
async def show_app(request: Request, client_id: str) -> Response:
    ctx = context_of(request)
    async with ctx.db.transaction() as store:
        who = await visitor(request, ctx, store, create=True)
        if who.user is None:
            return redirect(ctx, signin_url(f"/applications/{client_id}"), who)
        app = await store.applications.owned(owner_id=who.user.id, client_id=client_id)
    if app is None:
        return error_page(ctx, who, status=404, title="Not found", message=NOT_FOUND)
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
        name_text, uris_text = form.get("name") or "", form.get("redirect_uris") or ""
        alg_text = form.get("id_token_alg")
        try:
            name = applications.check_name(name_text)
            uris = applications.check_redirect_uris(
                applications.split_lines(uris_text), require_one=True
            )
            alg = applications.check_id_token_alg(alg_text) if alg_text is not None else None
        except InvalidApplication as error:
            return _app_page(ctx, who, app, status=400, error=str(error),
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
    return redirect(ctx, f"/applications/{client_id}")


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
        try:
            secret = await applications.rotate_secret(store, ctx.digester, app, now=now())
        except InvalidApplication as error:
            return _app_page(ctx, who, app, status=400, error=str(error))
        await store.events.append(kind="client.secret_rotated", now=now(), user_id=app.owner_id,
                                  client_id=app.client_id)
    return _app_page(ctx, who, app, new_secret=secret)


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
        await store.applications.delete(pk=app.pk)
        await store.events.append(kind="client.deleted", now=now(), user_id=app.owner_id,
                                  client_id=app.client_id)
    return redirect(ctx, "/applications")
