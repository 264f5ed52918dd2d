"""The MCP tools' work, as the token's user, on the library's own services: the list query of
``GET /maps`` (routes/map_params.py, store/map_repos.py), the visibility rule of the API
(web/map_access.py), the upload pipeline of ``POST /maps`` (routes/maps_upload.py), the field
checks of ``PATCH /maps/{id}`` (routes/maps_patch.py).

Each function answers a JSON-able result or raises ``ToolRefused`` in plain words. A private
map that is not the caller's is refused exactly as a map that does not exist.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.datastructures import QueryParams

from openplate.library.model import MapRejected
from openplate.store import map_fields
from openplate.store.map_cursors import BadCursor
from openplate.store.map_fields import InvalidField
from openplate.store.map_records import MapQuery, MapRecord
from openplate.store.map_repos import MAX_PAGE
from openplate.web.context import AppContext, now
from openplate.web.map_access import visible_map
from openplate.web.map_pictures import sheets_of
from openplate.web.mcp_server.auth import Caller
from openplate.web.mcp_server.tools import MAX_ID_CHARS, TOOLS, Args, ToolRefused
from openplate.web.routes import map_params
from openplate.web.routes.api import me_json
from openplate.web.routes.map_json import detail_json, summary_json
from openplate.web.routes.maps_errors import NO_MAP
from openplate.web.routes.maps_patch import check_changes
from openplate.web.routes.maps_upload import (
    MapUpload,
    UploadRefused,
    created_json,
    parse_map,
    share_map,
    stored_outline,
    upload_limits,
)

#: The file name an outline given to create_map or update_map is stored under (before the slug).
OUTLINE_FILE = "outline.md"


def _refused_field(refused: InvalidField) -> ToolRefused:
    return ToolRefused("invalid_request", str(refused))


def _refused_upload(refused: UploadRefused) -> ToolRefused:
    description = refused.description
    if refused.field == "map":
        description = "The outline: " + description[0].lower() + description[1:]
    return ToolRefused(refused.error, description)


def check_scope(caller: Caller, tool: str) -> None:
    """The tool's scope and kind of token, or ``ToolRefused`` saying what is missing."""
    spec = TOOLS[tool]
    if spec.user and not caller.is_user:
        raise ToolRefused("insufficient_scope", f"{tool} needs a token a user granted; this one "
                          "is an application's own (client credentials).")
    if spec.scope is not None and not caller.has(spec.scope):
        raise ToolRefused("insufficient_scope", f"{tool} needs the '{spec.scope}' scope; sign in "
                          f"again and allow it.")


def public_id_of(ctx: AppContext, given: str) -> str:
    """A map id from ``id``: the id itself, or this site's URL of the map (its page, or its
    API URL)."""
    text = given.strip()
    for prefix in (ctx.url("/mindmaps/"), ctx.url("/maps/")):
        if text.startswith(prefix):
            text = text[len(prefix):].split("/", 1)[0].split("?", 1)[0]
            break
    return text


async def _visible(ctx: AppContext, caller: Caller, given: str) -> MapRecord:
    public_id = public_id_of(ctx, given)
    async with ctx.db.transaction(readonly=True) as store:
        record = await visible_map(store, public_id, caller.library_user)
    if record is None:
        raise ToolRefused("not_found", NO_MAP + f" ({given[:60]!r})")
    return record


async def _owned(ctx: AppContext, caller: Caller, store: Any, given: str) -> MapRecord:
    """The caller's own map (inside the caller's unit of work), else ``ToolRefused``."""
    public_id = public_id_of(ctx, given)
    record = await visible_map(store, public_id, caller.library_user)
    if record is None:
        raise ToolRefused("not_found", NO_MAP + f" ({given[:60]!r})")
    if record.owner_id != caller.library_user:
        raise ToolRefused("forbidden", "Only the map's owner may change or delete it.")
    return record


async def search_maps(ctx: AppContext, caller: Caller, args: Args) -> dict[str, Any]:
    mine = args.flag("mine")
    pairs = [(name, value) for name in ("query", "tag", "author", "format", "category", "sort",
                                        "cursor")
             if (value := args.text(name, max_chars=10_000)) is not None]
    limit = args.whole("limit", low=1, high=MAX_PAGE, default=map_params.DEFAULT_LIMIT)
    args.done()
    if mine and caller.library_user is None:
        raise ToolRefused("insufficient_scope", "mine needs a token a user granted with the "
                          "'maps' scope.")
    renamed = [("q" if name == "query" else name, value) for name, value in pairs]
    try:
        params = map_params.read(QueryParams([*renamed, ("limit", str(limit))]),
                                 with_author=not mine)
    except InvalidField as refused:  # named as the tool names it: the API's q is query
        name = "query" if refused.field == "q" else refused.field
        message = refused.message.replace("(q)", "(query)")
        raise ToolRefused("invalid_request", f"{name}: {message}") from None
    query = params.query
    if mine:
        query = MapQuery(q=query.q, owner_id=caller.library_user, tag=query.tag,
                         format=query.format, category=query.category, include_hidden=True,
                         order=query.order)
    try:
        async with ctx.db.transaction(readonly=True) as store:
            page = await store.maps.page(query, limit=params.limit, cursor=params.cursor)
    except InvalidField as refused:
        raise _refused_field(refused) from None
    except BadCursor as bad:
        raise ToolRefused("invalid_request", f"cursor: {bad}") from None
    return {"maps": [summary_json(ctx, record) for record in page.maps],
            "next_cursor": page.next_cursor}


async def outline_markdown(ctx: AppContext, record: MapRecord) -> str:
    """The map's outline as Markdown (the export's writer, in a worker thread)."""
    from openplate.library.export import export_map

    sheets = sheets_of(record)
    if not sheets:
        return ""
    async with ctx.parse_slots:
        exported = await asyncio.to_thread(export_map, sheets, "md", title=record.title)
    return exported.content.decode("utf-8")


async def get_map(ctx: AppContext, caller: Caller, args: Args) -> tuple[dict[str, Any], str]:
    """The map's details (with ``outline`` as JSON and/or ``markdown``) and a readable text."""
    given = args.text("id", max_chars=MAX_ID_CHARS, required=True)
    shape = args.choice("format", ("markdown", "json", "both"), "both")
    args.done()
    assert given is not None
    record = await _visible(ctx, caller, given)
    found = detail_json(ctx, record)
    markdown = await outline_markdown(ctx, record) if shape != "json" else None
    if shape == "markdown":
        del found["outline"]
    if markdown is not None:
        found["markdown"] = markdown
    text = markdown if markdown is not None else json.dumps(found["outline"], ensure_ascii=False)
    return found, text


def _markdown_of_json(outline: list[Any], title: str, ctx: AppContext) -> bytes:
    """A JSON outline (get_map's shape), checked with the limits of an upload, as the Markdown
    it is stored as. ``MapRejected`` if it is refused."""
    from openplate.library.export import export_map
    from openplate.library.map_json import VERSION, import_json

    document = json.dumps({"version": VERSION, "title": title, "sheets": outline},
                          ensure_ascii=False).encode("utf-8")
    read = import_json(document, upload_limits(ctx))
    return export_map(read.sheets, "md", title=read.title or read.sheets[0].title).content


def outline_args(ctx: AppContext, args: Args) -> tuple[str | None, list[Any] | None]:
    """``markdown`` and ``outline``: at most one of them."""
    markdown = args.text("markdown", max_chars=ctx.settings.max_upload_bytes)
    outline = args.outline()
    if markdown is not None and outline is not None:
        raise ToolRefused("invalid_request", "Give the outline once: as markdown or as outline, "
                          "not both.")
    return markdown, outline


async def _outline_file(ctx: AppContext, markdown: str | None, outline: list[Any] | None,
                        title: str) -> bytes | None:
    """The outline given as Markdown or JSON, as the Markdown file it is stored as; None when
    neither is given."""
    if markdown is not None:
        return markdown.encode("utf-8", "surrogatepass")
    if outline is None:
        return None
    try:
        async with ctx.parse_slots:
            return await asyncio.to_thread(_markdown_of_json, outline, title, ctx)
    except MapRejected as rejected:
        raise ToolRefused(rejected.error, "The outline: " + rejected.description) from None
    except (RecursionError, ValueError):
        raise ToolRefused("invalid_map", "The outline could not be read.") from None


def _tags_text(tags: list[str] | None) -> str | None:
    """The tags as a sharing form's field, each checked first (a tag holds no comma)."""
    if tags is None:
        return None
    try:
        return ",".join(map_fields.normalise_tags(tags))
    except InvalidField as refused:
        raise _refused_field(refused) from None


async def create_map(ctx: AppContext, caller: Caller, args: Args) -> dict[str, Any]:
    fields = {
        "title": args.text("title", max_chars=map_fields.MAX_TITLE_CHARS),
        "description": args.text("description", max_chars=map_fields.MAX_DESCRIPTION_CHARS),
        "tags": _tags_text(args.tags()),
        "visibility": args.text("visibility", max_chars=20),
        "category": args.text("category", max_chars=100),
    }
    markdown, outline = outline_args(ctx, args)
    args.done()
    data = await _outline_file(ctx, markdown, outline, fields["title"] or "")
    if data is None:
        raise ToolRefused("invalid_request", "Give the outline as markdown or as outline.")
    assert caller.library_user is not None  # check_scope: a user's token with maps
    try:
        record = await share_map(ctx, MapUpload(fields, OUTLINE_FILE, data),
                                 owner_id=caller.library_user, client_pk=caller.principal.client_pk)
    except UploadRefused as refused:
        raise _refused_upload(refused) from None
    return created_json(ctx, record)


async def update_map(ctx: AppContext, caller: Caller, args: Args) -> dict[str, Any]:
    given = args.text("id", max_chars=MAX_ID_CHARS, required=True)
    assert given is not None
    changes: dict[str, Any] = {}
    for name, limit in (("title", map_fields.MAX_TITLE_CHARS),
                        ("description", map_fields.MAX_DESCRIPTION_CHARS),
                        ("visibility", 20)):
        if args.given(name):
            changes[name] = args.text(name, max_chars=limit, required=True)
    if args.given("category"):
        changes["category"] = args.text("category", max_chars=100, nullable=True)
    tags = args.tags()
    if tags is not None:
        changes["tags"] = tags
    markdown, outline = outline_args(ctx, args)
    args.done()
    if not changes and markdown is None and outline is None:
        raise ToolRefused("invalid_request", "Give at least one of title, description, tags, "
                          "visibility, category, markdown or outline.")
    try:
        checked = check_changes(changes)
    except InvalidField as refused:
        raise _refused_field(refused) from None
    async with ctx.db.transaction(readonly=True) as store:  # refused before any parsing
        record = await _owned(ctx, caller, store, given)
    data = await _outline_file(ctx, markdown, outline, checked.get("title", record.title))
    try:
        parsed = await parse_map(ctx, OUTLINE_FILE, data) if data is not None else None
    except UploadRefused as refused:
        raise _refused_upload(refused) from None
    try:
        async with ctx.db.transaction() as store:
            record = await _owned(ctx, caller, store, given)
            if checked:
                await store.maps.update(record.id, now=now(), **checked)
            if parsed is not None:
                changed = await store.maps.by_public_id(record.public_id)
                assert changed is not None
                await store.maps.replace_file(
                    record.id, now=now(), format=parsed.format,
                    filename=f"{changed.slug}{parsed.extension}", media_type=parsed.media_type,
                    content=data or b"", thumbnail=parsed.thumbnail_png,
                    outline=stored_outline(parsed), topic_count=parsed.topic_count)
            final = await store.maps.by_public_id(record.public_id)
    except InvalidField as refused:  # raised before anything was written
        raise _refused_field(refused) from None
    assert final is not None
    return summary_json(ctx, final)


async def delete_map(ctx: AppContext, caller: Caller, args: Args) -> dict[str, Any]:
    given = args.text("id", max_chars=MAX_ID_CHARS, required=True)
    args.done()
    assert given is not None
    async with ctx.db.transaction() as store:
        record = await _owned(ctx, caller, store, given)
        await store.maps.delete(record.id)
    return {"deleted": record.public_id, "title": record.title}


async def whoami(ctx: AppContext, caller: Caller, args: Args) -> dict[str, Any]:
    args.done()
    user = caller.principal.user
    if user is None:
        raise ToolRefused("not_found", "The account no longer exists.")
    return me_json(user)
