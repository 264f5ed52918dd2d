"""The official MCP SDK's own client (``mcp.Client`` over ``streamable_http_client``) against a
live server's /mcp, with an Openplate access token; run from sync tests with ``asyncio.run``."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.support.browser_flow import obtain_code
from tests.support.seed import Account, App
from tests.support.tokens import exchange

T = TypeVar("T")
#: Both eras the SDK speaks: the initialize handshake (2025-11-25) and the per-request
#: envelope of 2026-07-28 (``auto`` probes server/discover and adopts it).
MODES = ("legacy", "auto")


def mcp_token_for(base_url: str, app: App, account: Account, *, scope: str | None = None) -> str:
    """An access token of ``account`` asked for the MCP endpoint (RFC 8707 ``resource``), through
    the real authorisation-code flow (default scope: account maps)."""
    extra = {"resource": base_url + "/mcp", **({"scope": scope} if scope else {})}
    code = obtain_code(base_url, account, app.client_id, app.redirect_uris[0], **extra)
    response = exchange(base_url, app, code)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


async def _connected(url: str, token: str, mode: str,
                     work: Callable[[Client], Awaitable[T]]) -> T:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx2.AsyncClient(headers=headers, timeout=60) as http:
        transport = streamable_http_client(url + "/mcp", http_client=http)
        async with Client(transport, mode=mode, cache=None) as client:
            return await work(client)


def with_client(url: str, token: str, work: Callable[[Client], Awaitable[T]], *,
                mode: str = "legacy") -> T:
    """Connect, run ``work`` on the client, disconnect: what ``work`` answered."""
    return asyncio.run(_connected(url, token, mode, work))


def call(url: str, token: str, tool: str, arguments: dict[str, Any] | None = None, *,
         mode: str = "legacy") -> Any:
    """One tool call on a connection of its own: the ``CallToolResult``."""
    async def work(client: Client) -> Any:
        return await client.call_tool(tool, arguments or {})

    return with_client(url, token, work, mode=mode)


class Alternating(httpx2.AsyncBaseTransport):
    """Sends each request to the next node in turn (a round-robin balancer), and counts."""

    def __init__(self, ports: list[int]) -> None:
        self.ports = ports
        self.sent: list[int] = []
        self.inner = httpx2.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        port = self.ports[len(self.sent) % len(self.ports)]
        self.sent.append(port)
        request.url = request.url.copy_with(port=port)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()
