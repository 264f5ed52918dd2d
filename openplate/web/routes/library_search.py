"""The library's list pages: search with filters (``/search``), and the maps of one tag
(``/tags/{tag}``), one category (``/categories/{slug}``) and one person (``/people/{username}``).

Every list holds public maps only and is paged by cursor (a ``next`` link; no page numbers, so
a page never shifts when maps are added). A filter the library cannot use is answered on the
search page itself, beside its field. Person pages live under ``/people/``: ``/users/`` belongs
to the JSON API (``/users/{username}/maps``, ``/users/me``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from openplate.accounts.validation import USERNAME
from openplate.library.formats import FORMATS
from openplate.store import map_fields
from openplate.store.map_fields import InvalidField
from openplate.store.map_records import CategoryRecord, MapQuery, Order
from openplate.web.context import context_of
from openplate.web.pages import error_page, render, visitor
from openplate.web.routes.library_lists import Listed, cursor_of, link, list_page, one

router = APIRouter(include_in_schema=False)

MAX_QUERY_CHARS = 200
MAX_FILTER_CHARS = 100
#: The search form's orders: the value sent, and what the select says.
#: The default is the best match first when there are words to search for, else the newest.
SORTS: tuple[tuple[str, str], ...] = (
    ("", "Best match first"), ("newest", "Newest first"), ("views", "Most viewed first"))
FILTERS = ("q", "tag", "category", "author", "format", "sort")


@dataclass
class SearchForm:
    """The search form as sent (each value cut to what a field holds), and what is wrong."""

    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)

    def pairs(self) -> list[tuple[str, str]]:
        """The filters given, in the order links repeat them."""
        return [(name, self.values[name]) for name in FILTERS if self.values[name]]


def _read(request: Request) -> SearchForm:
    values = {}
    for name in FILTERS:
        raw = one(request.query_params, name) or ""
        values[name] = raw.strip() if name != "q" else raw
    form = SearchForm(values)
    if len(values["q"]) > MAX_QUERY_CHARS:
        form.errors["q"] = f"A search is at most {MAX_QUERY_CHARS} characters."
    if not values["q"].strip():
        values["q"] = ""
    for name in ("tag", "category", "author", "format"):
        if len(values[name]) > MAX_FILTER_CHARS:
            form.errors[name] = "This is longer than any there is."
    if values["tag"] and "tag" not in form.errors:
        try:
            values["tag"] = map_fields.normalise_tag(values["tag"])
        except InvalidField as refused:
            form.errors["tag"] = _sentence(refused.message)
    if values["format"] and values["format"] not in FORMATS:
        form.errors["format"] = "Choose a format from the list."
    if values["sort"] == "relevance":  # the API's name for the default with words
        values["sort"] = ""
    if values["sort"] not in [value for value, _ in SORTS]:
        form.errors["sort"] = "Choose an order from the list."
    return form


def _sentence(message: str) -> str:
    return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")


def _order(value: str) -> Order | None:
    orders: dict[str, Order] = {"newest": "newest", "views": "views"}
    return orders.get(value)


@router.get("/search")
async def search(request: Request) -> Response:
    ctx = context_of(request)
    form = _read(request)
    values = form.values
    cursor = cursor_of(request.query_params)
    listed: Listed | None = None
    async with ctx.db.transaction(readonly=True) as store:
        who = await visitor(request, ctx, store, create=False)
        categories = await store.categories.all()
        if values["category"] and "category" not in form.errors and not any(
                c.slug == values["category"] for c in categories):
            form.errors["category"] = "There is no such category: choose one from the list."
        if values["author"] and "author" not in form.errors and (
                not USERNAME.fullmatch(values["author"])
                or await store.users.by_login(values["author"]) is None):
            form.errors["author"] = "Nobody has this username. Check its spelling."
        if not form.errors:
            query = MapQuery(q=values["q"] or None, author=values["author"] or None,
                             tag=values["tag"] or None, format=values["format"] or None,
                             category=values["category"] or None, order=_order(values["sort"]))
            listed = await list_page(store, query, path="/search", pairs=form.pairs(),
                                     cursor=cursor)
    filtered = any(values[name] for name in FILTERS if name != "sort")
    return render(
        ctx, "search.html", who, status=400 if form.errors else 200, form=values,
        errors=form.errors, listed=listed, categories=categories, formats=FORMATS, sorts=SORTS,
        filtered=filtered, without=_without(form), ranked=bool(values["q"]) and not values["sort"],
        first_url=link("/search", form.pairs()),
    )


def _without(form: SearchForm) -> list[tuple[str, str, str]]:
    """For each filter given: its name, its value, and the search without it."""
    names = {"q": "words", "tag": "tag", "category": "category", "author": "author",
             "format": "format"}
    pairs = form.pairs()
    return [(names[name], value, link("/search", [p for p in pairs if p[0] != name]))
            for name, value in pairs if name in names]


def _not_found(ctx: Any, who: Any, message: str) -> Response:
    return error_page(ctx, who, status=404, title="Not found", message=message)


@router.get("/tags/{tag}")
async def tag_page(request: Request, tag: str) -> Response:
    ctx = context_of(request)
    async with ctx.db.transaction(readonly=True) as store:
        who = await visitor(request, ctx, store, create=False)
        try:
            normal = map_fields.normalise_tag(tag[:MAX_FILTER_CHARS])
        except InvalidField:
            return _not_found(ctx, who, "There is no such tag.")
        if normal != tag:
            return RedirectResponse("/tags/" + quote(normal, safe=""), status_code=301)
        path = "/tags/" + quote(normal, safe="")
        listed = await list_page(store, MapQuery(tag=normal), path=path, pairs=[],
                                 cursor=cursor_of(request.query_params))
    return render(ctx, "map_list.html", who, kind="tag", heading=f"Maps tagged “{normal}”",
                  tag=normal, listed=listed, path=path,
                  empty="No public map has this tag.")


@router.get("/categories/{slug}")
async def category_page(request: Request, slug: str) -> Response:
    ctx = context_of(request)
    async with ctx.db.transaction(readonly=True) as store:
        who = await visitor(request, ctx, store, create=False)
        found: CategoryRecord | None = None
        if len(slug) <= map_fields.MAX_CATEGORY_SLUG_CHARS:
            found = await store.categories.by_slug(slug)
        if found is None:
            return _not_found(ctx, who, "There is no such category.")
        path = f"/categories/{found.slug}"
        listed = await list_page(store, MapQuery(category=found.slug), path=path, pairs=[],
                                 cursor=cursor_of(request.query_params))
    return render(ctx, "map_list.html", who, kind="category", heading=found.name,
                  category=found, listed=listed, path=path,
                  empty="No public map is in this category yet.")


@router.get("/people/{username}")
async def person_page(request: Request, username: str) -> Response:
    ctx = context_of(request)
    async with ctx.db.transaction(readonly=True) as store:
        who = await visitor(request, ctx, store, create=False)
        person = await store.users.by_login(username) if USERNAME.fullmatch(username) else None
        if person is None or person.disabled:
            return _not_found(ctx, who, "There is nobody with this username.")
        if person.username != username:
            return RedirectResponse(f"/people/{person.username}", status_code=301)
        path = f"/people/{person.username}"
        listed = await list_page(store, MapQuery(owner_id=person.id), path=path, pairs=[],
                                 cursor=cursor_of(request.query_params))
    name = person.display_name or person.username
    mine = who.user is not None and who.user.id == person.id
    return render(ctx, "map_list.html", who, kind="person", heading=f"Maps by {name}",
                  person=person, mine=mine, listed=listed, path=path,
                  empty="No public maps yet.")
