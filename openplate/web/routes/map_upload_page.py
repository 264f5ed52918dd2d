"""``/account/maps/new``: share a mind map from the site (signed-in people only).

The form posts ``multipart/form-data`` and goes through the very pipeline of ``POST /maps``
(routes/maps_upload.py: read the form, check the fields, parse the file under ``parse_slots``,
store), so both take the same files, limits and fields. A body declared larger than the API
accepts is refused before it is read; one that streams past it is cut off. On any refusal the
form comes back (400, 413, 415 or 422) with the message beside the field it is about, and
nothing is stored. On success: 303 to the new map's page, which says it was shared.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message

from openplate.library.formats import NOT_A_MAP
from openplate.library.model import describe_size
from openplate.store.map_fields import MAX_DESCRIPTION_CHARS, MAX_TAGS, MAX_TITLE_CHARS
from openplate.store.map_records import CategoryRecord
from openplate.web import sessions
from openplate.web.context import AppContext, context_of
from openplate.web.middleware import BodyTooLarge
from openplate.web.notices import Notice
from openplate.web.pages import Visitor, error_page, redirect, render, signin_url, tell, visitor
from openplate.web.routes.maps_upload import (
    TEXT_FIELDS,
    MapUpload,
    UploadRefused,
    read_map_form,
    share_map,
)

router = APIRouter(include_in_schema=False)

PATH = "/account/maps/new"
#: Room for the form's text fields beside the largest file: the same bound as ``POST /maps``.
FORM_ROOM = 1024 * 1024
#: The file picker's suggestion; any file is read by its content whatever its name.
ACCEPT = ".xmind,.mm,.mmap,.opml,.xml,.md,.markdown,.txt"
FORMATS_TEXT = ("XMind (.xmind), FreeMind or Freeplane (.mm), MindManager (.mmap), OPML (.opml) "
                "or a Markdown outline (.md)")
SHARED = {
    "public": "Your map is shared: it is listed on the site and found by search.",
    "unlisted": "Your map is shared: only people who have its link can see it.",
    "private": "Your map is saved: only you can see it.",
}
RETRY = "Nothing was shared. Correct what is marked below, then choose the file again."


def body_bound(ctx: AppContext) -> int:
    """The largest body the form may send (the API's file limit and room for the fields)."""
    return ctx.settings.max_upload_bytes + FORM_ROOM


def _sentence(text: str) -> str:
    text = text.strip()
    return text[:1].upper() + text[1:] + ("" if text.endswith((".", "?", "!")) else ".")


def field_words(field: str, message: str) -> str:
    """What a form says beside one of a map's text fields, for the rules' ``message``."""
    if field == "visibility":
        return "Choose who can see it: public, unlisted or private."
    if field == "category":
        return "There is no such category: choose one from the list."
    return _sentence(message)


def _too_large(ctx: AppContext) -> str:
    return (f"This file is too large: a map may be at most "
            f"{describe_size(ctx.settings.max_upload_bytes)}.")


def file_message(ctx: AppContext, refused: UploadRefused) -> str:
    """What the form says beside the file field."""
    if refused.status == 413:
        return _too_large(ctx)
    if refused.status == 415:
        detail = "" if refused.description == NOT_A_MAP else " " + _sentence(refused.description)
        return f"This is not a mind map the library can read.{detail} Share {FORMATS_TEXT}."
    if refused.description == "The uploaded file is empty.":
        return "This file is empty. Choose the map's file."
    if refused.error == "unsafe_map":
        return "This map cannot be shared: " + _sentence(refused.description[:1].lower()
                                                          + refused.description[1:])
    return ("This file looks damaged and could not be read: "
            + _sentence(refused.description[:1].lower() + refused.description[1:]))


def _values(upload: MapUpload | None) -> dict[str, str]:
    """The text fields to show again, as sent (cut to what the fields hold)."""
    got: dict[str, Any] = upload.fields if upload is not None else {}
    limits = {"title": MAX_TITLE_CHARS, "description": MAX_DESCRIPTION_CHARS, "tags": 2000}
    values = {name: str(got.get(name) or "")[:limits.get(name, 100)] for name in TEXT_FIELDS}
    values["visibility"] = values["visibility"] or "public"
    return values


def _form(ctx: AppContext, who: Visitor, categories: list[CategoryRecord], *, status: int = 200,
          errors: dict[str, str] | None = None, upload: MapUpload | None = None) -> Response:
    return render(
        ctx, "map_upload.html", who, status=status, values=_values(upload),
        errors=errors or {}, categories=categories, accept=ACCEPT, formats_text=FORMATS_TEXT,
        max_bytes=ctx.settings.max_upload_bytes,
        max_size=describe_size(ctx.settings.max_upload_bytes), max_tags=MAX_TAGS,
        max_title=MAX_TITLE_CHARS, max_description=MAX_DESCRIPTION_CHARS, retry=RETRY,
    )


@router.get(PATH)
async def upload_page(request: Request) -> Response:
    ctx = context_of(request)
    async with ctx.db.transaction(readonly=True) as store:
        who = await visitor(request, ctx, store, create=True)
        if who.user is None:
            return redirect(ctx, signin_url(PATH), who)
        categories = await store.categories.all()
    return _form(ctx, who, categories)


def _declared_too_large(request: Request, bound: int) -> bool:
    declared = request.headers.get("content-length", "")
    return declared.isdigit() and int(declared) > bound


def _bounded(request: Request, bound: int) -> Request:
    """The request, its body cut off with ``BodyTooLarge`` once past ``bound`` bytes (BodyLimit
    lets this path send more, so that a refusal by Content-Length is this page, not JSON)."""
    received = 0

    async def receive() -> Message:
        nonlocal received
        message = await request.receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > bound:
                raise BodyTooLarge
        return message

    return Request(request.scope, receive)


@router.post(PATH)
async def upload_post(request: Request) -> Response:
    ctx = context_of(request)
    # Who is asking, before the body is read: a stranger's upload is never read at all.
    async with ctx.db.transaction(readonly=True) as store:
        who = await visitor(request, ctx, store, create=False)
        categories = await store.categories.all()
    if who.user is None or who.session is None:
        return redirect(ctx, signin_url(PATH), who)
    too_large = {"map": _too_large(ctx), "form": RETRY}
    no_file = {"map": "Choose the file of the map to share.", "form": RETRY}
    if _declared_too_large(request, body_bound(ctx)):
        return _form(ctx, who, categories, status=413, errors=too_large)
    try:
        upload = await read_map_form(_bounded(request, body_bound(ctx)), ctx,
                                     extra=("csrf_token",), require_file=False)
    except BodyTooLarge:  # streamed past the bound (BodyLimit): the rest is never read
        return _form(ctx, who, categories, status=413, errors=too_large)
    except UploadRefused as refused:
        return error_page(ctx, who, status=400, title="This form could not be used",
                          message=_sentence(refused.description) + " Reload the page and try "
                                  "again.")
    if not sessions.csrf_ok(who.session, upload.fields.get("csrf_token")):
        return error_page(ctx, who, status=403, title="This form could not be used",
                          message="Your form expired. Reload the page and try again.")
    if not upload.data and not upload.filename:  # the file field left empty
        return _form(ctx, who, categories, status=400, upload=upload, errors=no_file)
    try:
        record = await share_map(ctx, upload, owner_id=who.user.id, client_pk=None)
    except UploadRefused as refused:
        field = refused.field if refused.field in (*TEXT_FIELDS, "map") else "form"
        message = (file_message(ctx, refused) if field == "map"
                   else field_words(field, refused.message))
        errors = {field: message}
        errors.setdefault("form", RETRY)
        return _form(ctx, who, categories, status=refused.status, errors=errors, upload=upload)
    async with ctx.db.transaction() as store:
        await tell(ctx, store, who.session, Notice(SHARED.get(record.visibility, SHARED["public"])))
    return redirect(ctx, f"/mindmaps/{record.public_id}/{record.slug}", who)
