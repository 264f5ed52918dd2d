"""``/account/maps``: the signed-in person's maps, whatever their visibility; changing one
(``/account/maps/{id}/edit``) and deleting one (``/account/maps/{id}/delete``, after asking).

These live under ``/account/maps/`` rather than beside the map's page: a map page's address
``/mindmaps/{id}/{slug}`` takes any slug, and a map titled "Edit" has the slug ``edit``. A map
that is not the visitor's is a 404 here, exactly as a map that does not exist. Every post
checks the form's CSRF token, answers with a redirect, and the page it leads to says what was
done; a refused change shows the form again with the message beside its field and changes
nothing.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from openplate.store import map_fields
from openplate.store.map_fields import InvalidField
from openplate.store.map_records import CategoryRecord, MapQuery, MapRecord
from openplate.store.unit import Store
from openplate.web.context import context_of, now
from openplate.web.forms import BadForm, read_form, read_upload_form
from openplate.web.notices import Notice
from openplate.web.pages import (
    Visitor,
    confirm_page,
    error_page,
    redirect,
    render,
    signed_in_post,
    signin_url,
    tell,
    visitor,
)
from openplate.web.routes.library import PUBLIC_ID
from openplate.web.routes.library_lists import cursor_of, list_page
from openplate.web.routes.map_upload_page import field_words

router = APIRouter(include_in_schema=False)

PATH = "/account/maps"
NOT_YOURS = "There is no map of yours at this address."
#: An edit form's largest body (``multipart/form-data``: a description of 10,000 characters is
#: longer than an URL-encoded field may be): the description, up to 4 bytes a character, and
#: the other fields (BodyLimit allows forms 256 KiB).
EDIT_FORM_BYTES = 128 * 1024
FIELDS = ("title", "description", "tags", "visibility", "category")


def _map_url(record: MapRecord) -> str:
    return f"/mindmaps/{record.public_id}/{record.slug}"


@router.get(PATH)
async def my_maps(request: Request) -> Response:
    ctx = context_of(request)
    async with ctx.db.transaction() as store:
        who = await visitor(request, ctx, store, create=True, notice=True)
        if who.user is None:
            return redirect(ctx, signin_url(PATH), who)
        listed = await list_page(store, MapQuery(owner_id=who.user.id, include_hidden=True),
                                 path=PATH, pairs=[], cursor=cursor_of(request.query_params))
    return render(ctx, "account_maps.html", who, listed=listed)


async def _own_map(store: Store, who: Visitor, public_id: str) -> MapRecord | None:
    """The visitor's map with this id, or None (not there, or someone else's)."""
    if who.user is None or not PUBLIC_ID.fullmatch(public_id):
        return None
    record = await store.maps.by_public_id(public_id)
    return record if record is not None and record.owner_id == who.user.id else None


def _stored_values(record: MapRecord) -> dict[str, str]:
    return {"title": record.title, "description": record.description,
            "tags": ", ".join(record.tags), "visibility": record.visibility,
            "category": record.category_slug or ""}


def _edit_form(ctx: Any, who: Visitor, record: MapRecord, categories: list[CategoryRecord], *,
               values: dict[str, str], errors: dict[str, str] | None = None,
               status: int = 200) -> Response:
    return render(ctx, "map_edit.html", who, status=status, map=record, values=values,
                  errors=errors or {}, categories=categories, max_tags=map_fields.MAX_TAGS,
                  max_title=map_fields.MAX_TITLE_CHARS,
                  max_description=map_fields.MAX_DESCRIPTION_CHARS)


@router.get(PATH + "/{public_id}/edit")
async def edit_page(request: Request, public_id: str) -> Response:
    ctx = context_of(request)
    path = f"{PATH}/{public_id}/edit"
    async with ctx.db.transaction(readonly=True) as store:
        who = await visitor(request, ctx, store, create=True)
        if who.user is None:
            return redirect(ctx, signin_url(path), who)
        record = await _own_map(store, who, public_id)
        if record is None:
            return error_page(ctx, who, status=404, title="Map not found", message=NOT_YOURS)
        categories = await store.categories.all()
    return _edit_form(ctx, who, record, categories, values=_stored_values(record))


def _changes(values: dict[str, str],
             categories: list[CategoryRecord]) -> tuple[dict[str, Any], dict[str, str]]:
    """The checked value of every field, and a message for each refused one."""
    checked: dict[str, Any] = {}
    errors: dict[str, str] = {}

    def check(name: str, work: Any) -> None:
        try:
            checked[name] = work()
        except InvalidField as refused:
            errors[name] = field_words(name, refused.message)

    check("title", lambda: map_fields.check_title(values["title"]))
    check("description", lambda: map_fields.check_description(values["description"]))
    check("tags", lambda: map_fields.normalise_tags(map_fields.split_tags(values["tags"])))
    check("visibility", lambda: map_fields.check_visibility(values["visibility"]))
    slug = values["category"].strip()
    if slug and not any(c.slug == slug for c in categories):
        errors["category"] = field_words("category", "")
    else:
        checked["category"] = slug or None
    return checked, errors


@router.post(PATH + "/{public_id}/edit")
async def edit_post(request: Request, public_id: str) -> Response:
    ctx = context_of(request)
    path = f"{PATH}/{public_id}/edit"
    try:  # read before the unit of work: a slow client never holds one open
        form = (await read_upload_form(request, max_bytes=EDIT_FORM_BYTES, file_fields=())).params
    except BadForm as error:
        return error_page(ctx, None, status=400, title="This form could not be used",
                          message=str(error))
    values = {name: form.get(name) or "" for name in FIELDS}
    async with ctx.db.transaction() as store:
        who = await signed_in_post(request, ctx, store, form, back=path)
        if isinstance(who, Response):
            return who
        record = await _own_map(store, who, public_id)
        if record is None:
            return error_page(ctx, who, status=404, title="Map not found", message=NOT_YOURS)
        categories = await store.categories.all()
        changes, errors = _changes(values, categories)
        if not errors:
            try:
                await store.maps.update(record.id, now=now(), **changes)
            except InvalidField as refused:  # the category went meanwhile; nothing written
                errors[refused.field] = field_words(refused.field, refused.message)
        if errors:
            shown = {name: value[:map_fields.MAX_DESCRIPTION_CHARS + 100]
                     for name, value in values.items()}
            return _edit_form(ctx, who, record, categories, values=shown, errors=errors,
                              status=400)
        changed = await store.maps.by_public_id(public_id)
        assert changed is not None and who.session is not None
        same = _stored_values(changed) == _stored_values(record)
        text = "Nothing changed." if same else f"Saved your changes to “{changed.title}”."
        await tell(ctx, store, who.session, Notice(text))
    return redirect(ctx, _map_url(changed), who)


@router.get(PATH + "/{public_id}/delete")
async def delete_page(request: Request, public_id: str) -> Response:
    ctx = context_of(request)
    path = f"{PATH}/{public_id}/delete"
    async with ctx.db.transaction(readonly=True) as store:
        who = await visitor(request, ctx, store, create=True)
        if who.user is None:
            return redirect(ctx, signin_url(path), who)
        record = await _own_map(store, who, public_id)
    if record is None:
        return error_page(ctx, who, status=404, title="Map not found", message=NOT_YOURS)
    return confirm_page(
        ctx, who, title=f"Delete “{record.title}”?", action=path,
        consequences=[
            "The map, its file and its picture are deleted at once, for good: it cannot be "
            "brought back.",
            "Its page and its downloads stop working for everyone, even people who have the "
            "link.",
            "Copies people have already downloaded are not affected.",
        ],
        button="Delete this map", cancel=_map_url(record),
    )


@router.post(PATH + "/{public_id}/delete")
async def delete_post(request: Request, public_id: str) -> Response:
    ctx = context_of(request)
    path = f"{PATH}/{public_id}/delete"
    try:
        form = await read_form(request)
    except BadForm as error:
        return error_page(ctx, None, status=400, title="This form could not be used",
                          message=str(error))
    async with ctx.db.transaction() as store:
        who = await signed_in_post(request, ctx, store, form, back=path)
        if isinstance(who, Response):
            return who
        record = await _own_map(store, who, public_id)
        if record is None:
            return error_page(ctx, who, status=404, title="Map not found", message=NOT_YOURS)
        assert who.session is not None
        await store.maps.delete(record.id)
        await tell(ctx, store, who.session, Notice(f"Deleted “{record.title}”."))
    return redirect(ctx, PATH, who)
