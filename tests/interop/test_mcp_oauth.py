"""An AI assistant that knows nothing but the /mcp URL: the `mcp` package's own client and its
OAuth support (``OAuthClientProvider``) discover the protected resource metadata from the 401,
the authorisation server from it, register themselves (RFC 7591), run PKCE with the resource
indicator, and call tools; the person's side goes through the real sign-in and consent pages.
On SQLite and on PostgreSQL with Redis, and over two nodes taking turns."""

from __future__ import annotations

import asyncio
import json
import secrets
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.auth import OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import (
    AuthorizationCodeResult,
    OAuthClientInformationFull,
    OAuthClientMetadata,
    OAuthToken,
)

from tests.conftest import REDIS_URL, _backend_server, _forget_redis_keys
from tests.support.browser_flow import authorize
from tests.support.mcp_client import Alternating
from tests.support.postgres import create_database, drop_database
from tests.support.seed import Account, Seeder
from tests.support.server import LiveServer, start_server
from tests.support.smtp import make_ca_and_cert

CALLBACK = "http://127.0.0.1:43130/callback"


@pytest.fixture(scope="module", params=["sqlite", "postgresql+redis"])
def open_server(request: pytest.FixtureRequest,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from _backend_server(request.param, tmp_path_factory,
                               extra_env={"OPENPLATE_REGISTRATION": "open"})


class MemoryStorage:
    """Where the client keeps its registration and tokens (the SDK's TokenStorage)."""

    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client = client_info


def _person_allows(base_url: str, person: Account, authorization_url: str) -> str:
    """The browser half: sign in, press Allow; where the browser is sent back to."""
    parts = urlsplit(authorization_url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == base_url + "/oauth/auth"
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    assert params["resource"] == base_url + "/mcp", params  # RFC 8707, as MCP requires
    assert params["code_challenge_method"] == "S256"
    with httpx.Client(base_url=base_url, timeout=30) as browser:
        answered = authorize(browser, person, params)
    assert answered.status_code == 303, answered.text[:500]
    location: str = answered.headers["location"]
    assert location.startswith(CALLBACK), location
    return location


async def _session(person: Account, storage: MemoryStorage, base_url: str, *,
                   balancer: Alternating | None = None, rounds: int = 1,
                   client_metadata_url: str | None = None) -> dict[str, Any]:
    back: dict[str, str] = {}

    async def redirect_handler(url: str) -> None:
        back["location"] = await asyncio.to_thread(_person_allows, base_url, person, url)

    async def callback_handler() -> AuthorizationCodeResult:
        got = dict(parse_qsl(urlsplit(back["location"]).query))
        return AuthorizationCodeResult(code=got["code"], state=got.get("state"),
                                       iss=got.get("iss"))

    provider = OAuthClientProvider(
        server_url=base_url + "/mcp",
        client_metadata=OAuthClientMetadata(
            client_name="Test Assistant", redirect_uris=[CALLBACK],  # type: ignore[list-item]
            grant_types=["authorization_code", "refresh_token"], response_types=["code"],
            token_endpoint_auth_method="none"),
        storage=storage, redirect_handler=redirect_handler, callback_handler=callback_handler,
        client_metadata_url=client_metadata_url)
    seen: dict[str, Any] = {}
    for _ in range(rounds):  # one client; with a balancer, its requests over the nodes in turn
        async with httpx2.AsyncClient(auth=provider, timeout=60, transport=balancer) as http:
            async with Client(streamable_http_client(base_url + "/mcp", http_client=http),
                              mode="legacy", cache=None) as client:
                tools = await client.list_tools()
                seen.setdefault("tools", {tool.name for tool in tools.tools})
                me = await client.call_tool("whoami", {})
                seen.setdefault("whoami", []).append(me.structured_content)
                made = await client.call_tool("create_map", {
                    "title": "From the assistant", "markdown": "# Root\n\n- one\n- two\n"})
                seen.setdefault("created", []).append(made.structured_content)
    return seen


def test_an_assistant_with_only_the_url_registers_signs_in_and_calls_tools(
        open_server: LiveServer) -> None:
    server = open_server
    person = Seeder(server).user("assistant")
    storage = MemoryStorage()
    seen = asyncio.run(_session(person, storage, server.url))
    assert {"search_maps", "get_map", "create_map", "update_map", "delete_map",
            "whoami"} <= seen["tools"]
    assert seen["whoami"][0]["UserName"] == person.username
    assert seen["created"][0]["id"]
    # It registered itself once, as a public native app, and holds a token for /mcp only.
    assert storage.client is not None and storage.client.client_id.startswith("opc_")
    assert storage.tokens is not None
    api = httpx.get(server.url + "/users/me", timeout=20,
                    headers={"Authorization": f"Bearer {storage.tokens.access_token}"})
    assert api.status_code == 401  # a token asked for /mcp does not open the API
    registered = Seeder(server).scalar(
        "SELECT registration FROM clients WHERE client_id = :c", c=storage.client.client_id)
    assert registered == "open"


@pytest.fixture(scope="module")
def open_nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, LiveServer]]:
    database_url = create_database()
    prefix = f"openplate-test-{secrets.token_hex(4)}:"
    env = {"OPENPLATE_REDIS_URL": REDIS_URL, "OPENPLATE_REDIS_PREFIX": prefix,
           "OPENPLATE_REGISTRATION": "open"}
    a = start_server(tmp_path_factory.mktemp("mcp-oauth-a"), database_url=database_url,
                     extra_env=env)
    # One public URL for both, as behind a balancer.
    b = start_server(tmp_path_factory.mktemp("mcp-oauth-b"), database_url=database_url,
                     extra_env={**env, "OPENPLATE_PUBLIC_URL": a.url})
    try:
        yield a, b
    finally:
        a.stop()
        b.stop()
        drop_database(database_url)
        _forget_redis_keys(prefix)


def test_the_whole_discovery_and_sign_in_works_over_two_nodes(
        open_nodes: tuple[LiveServer, LiveServer]) -> None:
    a, b = open_nodes
    person = Seeder(a).user("nodes")
    storage = MemoryStorage()
    ports = [int(a.url.rsplit(":", 1)[1]), int(b.url.rsplit(":", 1)[1])]
    balancer = Alternating(ports)
    seen = asyncio.run(_session(person, storage, a.url, balancer=balancer, rounds=2))
    assert set(balancer.sent) == set(ports), balancer.sent  # both nodes answered
    assert [who["UserName"] for who in seen["whoami"]] == [person.username] * 2
    assert len(seen["created"]) == 2


# --- With a client ID metadata document instead of registering --------------------------------


@pytest.fixture(scope="module")
def document_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, dict[str, Any]]]:
    """An https server on 127.0.0.1, under a private CA, that serves the assistant's client ID
    metadata document: (its base URL, the CA's PEM, the document by path)."""
    folder = tmp_path_factory.mktemp("cimd-host")
    ca, cert, key = make_ca_and_cert(folder)
    documents: dict[str, Any] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the standard library's name
            body = json.dumps(documents.get(self.path, {})).encode()
            self.send_response(200 if self.path in documents else 404)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"https://127.0.0.1:{httpd.server_address[1]}", ca, documents
    finally:
        httpd.shutdown()


def test_an_assistant_with_a_client_id_metadata_document_signs_in_without_registering(
        document_host: tuple[str, Path, dict[str, Any]],
        tmp_path_factory: pytest.TempPathFactory) -> None:
    base, ca, documents = document_host
    client_id = base + "/assistant/client.json"
    documents["/assistant/client.json"] = {
        "client_id": client_id, "client_name": "Document Assistant", "redirect_uris": [CALLBACK],
        "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"],
        "token_endpoint_auth_method": "none"}
    yield_server = _backend_server("sqlite", tmp_path_factory, extra_env={
        "OPENPLATE_CLIENT_ID_METADATA_DOCUMENTS": "true",
        "OPENPLATE_ALLOW_PRIVATE_CLIENT_URLS": "true",
        "OPENPLATE_CLIENT_URLS_CA_FILE": str(ca)})
    server = next(yield_server)
    try:
        person = Seeder(server).user("cimd")
        storage = MemoryStorage()
        seen = asyncio.run(_session(person, storage, server.url, client_metadata_url=client_id))
        assert seen["whoami"][0]["UserName"] == person.username
        # The SDK used the document's URL as its client_id and registered nothing.
        assert storage.client is not None and storage.client.client_id == client_id
        assert Seeder(server).scalar("SELECT registration FROM clients WHERE client_id = :c",
                                     c=client_id) == "metadata"
        assert Seeder(server).scalar("SELECT count(*) FROM clients") == 1
    finally:
        yield_server.close()
