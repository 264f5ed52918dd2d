"""MCP 2025-11-25 Basic §Transports, Streamable HTTP: the SDK's low-level ``Server`` with the
library's tools and resources, served statelessly with JSON answers.

Stateless: nothing a request needs lives in this process between requests (no session id is
issued; each POST is answered by a transport of its own), so any node of a multi-node
deployment answers any request of a client. The session manager's task group runs for the
app's lifespan (``McpService.running``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import mcp_types as types
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.shared.exceptions import MCPError

from openplate import __version__
from openplate.web.context import AppContext
from openplate.web.mcp_server import library, resources
from openplate.web.mcp_server.auth import CALLER_KEY, Caller, McpEndpoint
from openplate.web.mcp_server.tools import TOOLS, Args, ToolRefused

log = logging.getLogger("openplate.mcp")

INSTRUCTIONS = (
    "Openplate's mind-map library. search_maps finds maps (mine: your own), get_map reads one "
    "as Markdown and JSON; create_map, update_map and delete_map change your library (the maps "
    "scope); whoami tells whose token this is (the account scope). Map pages are at the url "
    "each map has."
)

Handler = Callable[[AppContext, Caller, Args], Awaitable[Any]]
HANDLERS: dict[str, Handler] = {
    "search_maps": library.search_maps, "get_map": library.get_map,
    "create_map": library.create_map, "update_map": library.update_map,
    "delete_map": library.delete_map, "whoami": library.whoami,
}


def caller_of(request_ctx: ServerRequestContext[Any, Any]) -> Caller:
    """The caller McpEndpoint checked for this request."""
    request = request_ctx.request
    caller = getattr(request, "scope", {}).get(CALLER_KEY)
    if not isinstance(caller, Caller):  # only McpEndpoint reaches the handlers
        raise MCPError(code=types.INVALID_REQUEST, message="Not authenticated", data=None)
    return caller


def _summary(name: str, result: Any) -> str:
    """A readable text beside a tool's structured result."""
    if name == "search_maps":
        lines = [f"- {m['title']} (id {m['id']}, by {m['author']}, {m['visibility']}): {m['url']}"
                 for m in result["maps"]]
        more = (f"\nMore: call search_maps again with cursor {result['next_cursor']!r}."
                if result["next_cursor"] else "")
        return ("\n".join(lines) or "No maps found.") + more
    if name in ("create_map", "update_map"):
        verb = "Created" if name == "create_map" else "Changed"
        return f"{verb} {result['title']!r} (id {result['id']}): {result['url']}"
    if name == "delete_map":
        return f"Deleted {result['title']!r} (id {result['deleted']})."
    return json.dumps(result, ensure_ascii=False)


def _tool_error(refused: ToolRefused) -> types.CallToolResult:
    return types.CallToolResult(
        content=[types.TextContent(text=refused.message)], is_error=True,
        structured_content={"error": refused.error, "error_description": refused.message})


class McpService:
    """The MCP server of one app: the SDK server, its session manager and the /mcp endpoint."""

    def __init__(self, ctx: AppContext, *, max_body: int) -> None:
        self.ctx = ctx
        self.server: Server[Any] = Server(
            "openplate", version=__version__, title="Openplate mind-map library",
            instructions=INSTRUCTIONS, website_url=ctx.settings.base_url,
            on_list_tools=self._list_tools, on_call_tool=self._call_tool,
            on_list_resources=self._list_resources,
            on_list_resource_templates=self._list_templates,
            on_read_resource=self._read_resource)
        self.manager = StreamableHTTPSessionManager(
            self.server, json_response=True, stateless=True, max_request_body_size=max_body)
        self.endpoint = McpEndpoint(ctx, self.manager.handle_request)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        async with self.manager.run():
            yield

    async def _list_tools(self, request_ctx: ServerRequestContext[Any, Any],
                          params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
        caller_of(request_ctx)
        return types.ListToolsResult(tools=[spec.tool for spec in TOOLS.values()])

    async def _call_tool(self, request_ctx: ServerRequestContext[Any, Any],
                         params: types.CallToolRequestParams) -> types.CallToolResult:
        caller = caller_of(request_ctx)
        name = params.name
        handler = HANDLERS.get(name)
        if handler is None:
            # Tools §Error Handling: an unknown tool is a protocol error.
            raise MCPError(code=types.INVALID_PARAMS, message=f"Unknown tool: {name[:60]}",
                           data=None)
        try:
            library.check_scope(caller, name)
            answer = await handler(self.ctx, caller, Args(name, params.arguments))
        except ToolRefused as refused:
            log.info("mcp tool %s refused: %s", name, refused.error)
            return _tool_error(refused)
        if isinstance(answer, tuple):  # get_map: the result and its own text
            structured, text = answer
        else:
            structured, text = answer, _summary(name, answer)
        return types.CallToolResult(content=[types.TextContent(text=text)],
                                    structured_content=structured)

    async def _list_resources(self, request_ctx: ServerRequestContext[Any, Any],
                              params: types.PaginatedRequestParams | None
                              ) -> types.ListResourcesResult:
        caller = caller_of(request_ctx)
        return await resources.list_own(self.ctx, caller, params.cursor if params else None)

    async def _list_templates(self, request_ctx: ServerRequestContext[Any, Any],
                              params: types.PaginatedRequestParams | None
                              ) -> types.ListResourceTemplatesResult:
        caller_of(request_ctx)
        return types.ListResourceTemplatesResult(resource_templates=[resources.template(self.ctx)])

    async def _read_resource(self, request_ctx: ServerRequestContext[Any, Any],
                             params: types.ReadResourceRequestParams) -> types.ReadResourceResult:
        caller = caller_of(request_ctx)
        return await resources.read(self.ctx, caller, params.uri)
