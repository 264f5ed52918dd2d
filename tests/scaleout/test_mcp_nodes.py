"""The MCP server is stateless: one client's successive requests (the initialize handshake, then
tool calls and resource reads) answered by two nodes in turn, over one PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.conftest import REDIS_URL, _forget_redis_keys
from tests.support.mcp_client import Alternating, mcp_token_for
from tests.support.postgres import create_database, drop_database
from tests.support.seed import Seeder
from tests.support.server import LiveServer, start_server


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, LiveServer]]:
    database_url = create_database()
    prefix = f"openplate-test-{secrets.token_hex(4)}:"
    env = {"OPENPLATE_REDIS_URL": REDIS_URL, "OPENPLATE_REDIS_PREFIX": prefix}
    first: Path = tmp_path_factory.mktemp("mcp-node-a")
    second: Path = tmp_path_factory.mktemp("mcp-node-b")
    a = start_server(first, database_url=database_url, extra_env=env)
    # One public URL for both, as behind a balancer: map URLs and resource URIs name it.
    b = start_server(second, database_url=database_url,
                     extra_env={**env, "OPENPLATE_PUBLIC_URL": a.url})
    try:
        yield a, b
    finally:
        a.stop()
        b.stop()
        drop_database(database_url)
        _forget_redis_keys(prefix)


@pytest.mark.parametrize("mode", ["legacy", "auto"])
def test_one_clients_calls_answered_by_either_node(
        nodes: tuple[LiveServer, LiveServer], mode: str) -> None:
    a, b = nodes
    seeder = Seeder(a)
    app = seeder.app(seeder.user("dev"), redirect_uris=("https://app.example.com/cb",))
    token = mcp_token_for(a.url, app, seeder.user("u"))
    ports = [int(a.url.rsplit(":", 1)[1]), int(b.url.rsplit(":", 1)[1])]
    balancer = Alternating(ports)

    async def main() -> dict[str, Any]:
        async with httpx2.AsyncClient(transport=balancer, timeout=60,
                                      headers={"Authorization": f"Bearer {token}"}) as http:
            transport = streamable_http_client(a.url + "/mcp", http_client=http)
            async with Client(transport, mode=mode, cache=None) as client:
                made = await client.call_tool("create_map", {
                    "markdown": "# Two nodes\n- one\n- two\n", "visibility": "private"})
                public_id = made.structured_content["id"]
                read = await client.call_tool("get_map", {"id": public_id})
                changed = await client.call_tool("update_map", {"id": public_id, "title": "Both"})
                resource = await client.read_resource(a.url + "/maps/" + public_id)
                listed = await client.list_resources()
                return {"made": made, "read": read, "changed": changed, "resource": resource,
                        "listed": listed}

    r = asyncio.run(main())
    assert not r["made"].is_error and not r["read"].is_error and not r["changed"].is_error
    assert r["read"].structured_content["visibility"] == "private"
    assert r["changed"].structured_content["title"] == "Both"
    assert "Two nodes" in r["resource"].contents[0].text
    assert [res.name for res in r["listed"].resources] == [r["made"].structured_content["id"]]
    assert set(balancer.sent) == set(ports) and len(balancer.sent) >= 5
    for node in (a, b):
        assert "Traceback" not in node.log()
