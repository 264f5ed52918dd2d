"""An application's logo: served to anyone from a path of its own, and removed by its developer.

The PNG was re-encoded by accounts/app_logos.py; it is still served as an image that may do
nothing else: ``Content-Type: image/png``, ``nosniff``, and a Content-Security-Policy that
allows no script, style, frame or form should a browser ever open it as a document. Its SHA-256
is its ETag, so a page that shows it again gets ``304 Not Modified``.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from openplate.web.context import client_ip, context_of
from openplate.web.notices import Notice
from openplate.web.pages import (
    confirm_page,
    error_page,
    posted_form,
    redirect,
    signed_in_post,
    signin_url,
    tell,
    visitor,
)

router = APIRouter(include_in_schema=False)

#: Nothing but the image itself: no script, style, plugin, frame or form, sandboxed, unframable.
LOGO_CSP = "default-src 'none'; img-src 'self'; sandbox; frame-ancestors 'none'"
LOGO_HEADERS = {
    "Content-Security-Policy": LOGO_CSP,
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Resource-Policy": "same-site",
    # Anyone may see a logo; a changed one has another ETag, checked after five minutes.
    "Cache-Control": "public, max-age=300",
}
NO_LOGO = "This application has no logo."


def logo_path(client_id: str, digest: str | None) -> str | None:
    """Where a page shows the app's logo (None: it has none); the digest in the query makes a
    new logo a new address, so no cache shows the old one."""
    return f"/applications/{client_id}/logo.png?v={digest[:16]}" if digest else None


def _etag_matches(header: str | None, etag: str) -> bool:
    if header is None:
        return False
    candidates = [item.strip().removeprefix("W/") for item in header.split(",")]
    return "*" in candidates or etag in candidates


@router.get("/applications/{client_id}/logo.png")
async def logo(request: Request, client_id: str) -> Response:
    ctx = context_of(request)
    stored = None
    if 0 < len(client_id) <= 64:
        async with ctx.db.transaction(readonly=True) as store:
            stored = await store.applications.logo(client_id=client_id)
    if stored is None:
        return error_page(ctx, None, status=404, title="Not found", message=NO_LOGO)
    etag = f'"{stored.digest}"'
    headers = {**LOGO_HEADERS, "ETag": etag}
    if _etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(stored.png, media_type="image/png", headers=headers)


@router.get("/applications/{client_id}/logo/remove")
async def confirm_remove(request: Request, client_id: str) -> Response:
    ctx = context_of(request)
    path = f"/applications/{client_id}/logo/remove"
    async with ctx.db.transaction(readonly=True) as store:
        who = await visitor(request, ctx, store, create=True)
        if who.user is None:
            return redirect(ctx, signin_url(path), who)
        app = await store.applications.owned(owner_id=who.user.id, client_id=client_id)
    if app is None or app.logo_digest is None:
        return error_page(ctx, who, status=404, title="Not found",
                          message="No such application among yours, or it has no logo.")
    return confirm_page(
        ctx, who, title=f"Remove the logo of {app.name}?", action=path,
        consequences=["People asked to allow the application no longer see its logo.",
                      "You can upload a logo again on the application's page."],
        button="Remove logo", cancel=f"/applications/{client_id}",
    )


@router.post("/applications/{client_id}/logo/remove")
async def remove(request: Request, client_id: str) -> Response:
    ctx = context_of(request)
    form = await posted_form(request, ctx, title="Bad form")
    if isinstance(form, Response):
        return form
    async with ctx.db.transaction(ip=client_ip(request)) as store:
        who = await signed_in_post(request, ctx, store, form, back=f"/applications/{client_id}")
        if isinstance(who, Response):
            return who
        assert who.user is not None and who.session is not None
        app = await store.applications.owned(owner_id=who.user.id, client_id=client_id)
        if app is None:
            return error_page(ctx, who, status=404, title="Not found",
                              message="No such application among yours.")
        removed = await store.applications.remove_logo(pk=app.pk)
        await tell(ctx, store, who.session, Notice(
            "Logo removed." if removed else "This application had no logo."))
    return redirect(ctx, f"/applications/{client_id}")
