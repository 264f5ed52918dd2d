"""MCP 2025-11-25 Server Features §Resources: every map the caller may see is a resource named
by its API URL (``<base>/maps/{id}``, a resource template); listing resources shows the
caller's own maps (a user's token with ``maps``), a page at a time."""

from __future__ import annotations

import json

import mcp_types as types
from mcp.shared.exceptions import MCPError

from openplate.store.map_cursors import BadCursor
from openplate.store.map_records import MapQuery, MapSummary
from openplate.web.context import AppContext
from openplate.web.map_access import PUBLIC_ID, visible_map
from openplate.web.mcp_server.auth import Caller
from openplate.web.mcp_server.library import outline_markdown
from openplate.web.routes.map_json import detail_json

#: MCP 2025-11-25 §Resources, Error Handling: "Resource not found: -32002".
RESOURCE_NOT_FOUND = -32002
PAGE = 50


def map_uri(ctx: AppContext, public_id: str) -> str:
    return ctx.url(f"/maps/{public_id}")


def template(ctx: AppContext) -> types.ResourceTemplate:
    return types.ResourceTemplate(
        name="map", title="A mind map", uri_template=ctx.url("/maps/{id}"),
        description="A mind map of the library: its outline as Markdown, and its details and "
                    "outline as JSON (as GET /maps/{id}). Private maps are their owner's alone.")


def _resource(ctx: AppContext, record: MapSummary) -> types.Resource:
    return types.Resource(uri=map_uri(ctx, record.public_id), name=record.public_id,
                          title=record.title, mime_type="text/markdown",
                          description=f"{record.visibility} map, {record.topic_count} topics")


async def list_own(ctx: AppContext, caller: Caller, cursor: str | None) -> types.ListResourcesResult:
    """The caller's own maps, newest first; none for a caller without a library."""
    owner = caller.library_user
    if owner is None:
        return types.ListResourcesResult(resources=[])
    query = MapQuery(owner_id=owner, include_hidden=True)
    try:
        async with ctx.db.transaction(readonly=True) as store:
            page = await store.maps.page(query, limit=PAGE, cursor=cursor)
    except BadCursor:
        raise MCPError(code=types.INVALID_PARAMS, message="The cursor is not one this list gave.",
                       data=None) from None
    return types.ListResourcesResult(resources=[_resource(ctx, item) for item in page.maps],
                                     next_cursor=page.next_cursor)


async def read(ctx: AppContext, caller: Caller, uri: str) -> types.ReadResourceResult:
    """The map at ``uri`` as Markdown and as JSON; -32002 for one the caller may not see."""
    prefix = ctx.url("/maps/")
    public_id = uri[len(prefix):] if uri.startswith(prefix) else ""
    record = None
    if PUBLIC_ID.fullmatch(public_id):
        async with ctx.db.transaction(readonly=True) as store:
            record = await visible_map(store, public_id, caller.library_user)
    if record is None:
        raise MCPError(code=RESOURCE_NOT_FOUND, message="Resource not found",
                       data={"uri": uri[:300]})
    markdown = await outline_markdown(ctx, record)
    document = json.dumps(detail_json(ctx, record), ensure_ascii=False)
    return types.ReadResourceResult(contents=[
        types.TextResourceContents(uri=uri, mime_type="text/markdown", text=markdown),
        types.TextResourceContents(uri=uri, mime_type="application/json", text=document),
    ])
