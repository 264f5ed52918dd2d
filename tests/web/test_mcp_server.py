"""The MCP server at /mcp, driven by the official ``mcp`` SDK's own client on SQLite and on
PostgreSQL with Redis, with tokens from the real authorisation-code flow: tools and resources,
scopes, another user's private maps, refusals in MCP's shapes, and bad HTTP in 4xx."""

from __future__ import annotations

import json
import secrets
from typing import Any

import httpx
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError

from tests.support.mcp_client import MODES, call, mcp_token_for, with_client
from tests.support.seed import Account, App, Seeder
from tests.support.server import LiveServer
from tests.web.maps_api_support import count, token_for

REDIRECT = "https://app.example.com/cb"
TOOLS = {"search_maps", "get_map", "create_map", "update_map", "delete_map", "whoami"}
OUTLINE = "# Bees\n\n- Honey\n  - Clover honey\n- Wax\n\nA note on wax.\n"


@pytest.fixture(scope="module")
def app(seeder: Seeder) -> App:
    return seeder.app(seeder.user("mcpdev"), redirect_uris=(REDIRECT,),
                      grant_types=("authorization_code", "refresh_token", "client_credentials"))


@pytest.fixture(scope="module")
def owner(seeder: Seeder) -> Account:
    return seeder.user("mcpowner")


@pytest.fixture(scope="module")
def owner_token(server: LiveServer, app: App, owner: Account) -> str:
    return mcp_token_for(server.url, app, owner)  # account maps, for /mcp


@pytest.fixture(scope="module")
def owner_api_token(server: LiveServer, app: App, owner: Account) -> str:
    """The same user's token for the API (no resource named): it does not open /mcp."""
    return token_for(server, app, owner)


@pytest.fixture(scope="module")
def other_token(server: LiveServer, seeder: Seeder, app: App) -> str:
    return mcp_token_for(server.url, app, seeder.user("mcpother"))


@pytest.fixture(scope="module")
def account_only_token(server: LiveServer, app: App, owner: Account) -> str:
    return mcp_token_for(server.url, app, owner, scope="account")


@pytest.fixture(scope="module")
def maps_only_token(server: LiveServer, app: App, owner: Account) -> str:
    return mcp_token_for(server.url, app, owner, scope="maps")


@pytest.fixture(scope="module")
def client_token(server: LiveServer, app: App) -> str:
    response = httpx.post(server.url + "/oauth/token", timeout=30, data={
        "grant_type": "client_credentials", "scope": "maps", "client_id": app.client_id,
        "client_secret": app.client_secret or "", "resource": server.url + "/mcp"})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def created(server: LiveServer, token: str, **arguments: Any) -> dict[str, Any]:
    result = call(server.url, token, "create_map", {"markdown": OUTLINE, **arguments})
    assert not result.is_error, result.content
    return dict(result.structured_content)


def refusal(result: Any) -> str:
    """The text of a tool error (the call must have been refused)."""
    assert result.is_error, result
    text = str(result.content[0].text)
    assert text == result.structured_content["error_description"]
    return text


@pytest.mark.parametrize("mode", MODES)
def test_tools_are_listed_with_schemas_and_annotations(
        server: LiveServer, owner_token: str, mode: str) -> None:
    async def work(client: Client) -> Any:
        return (await client.list_tools()).tools

    tools = {tool.name: tool for tool in with_client(server.url, owner_token, work, mode=mode)}
    assert set(tools) == TOOLS
    assert all(tool.input_schema["type"] == "object" and tool.description for tool in tools.values())
    delete = tools["delete_map"]
    assert delete.annotations is not None and delete.annotations.destructive_hint is True
    assert "DESTRUCTIVE" in (delete.description or "")
    for name in ("search_maps", "get_map", "whoami"):
        assert tools[name].annotations.read_only_hint is True  # type: ignore[union-attr]
    assert tools["create_map"].annotations.destructive_hint is False  # type: ignore[union-attr]


@pytest.mark.parametrize("mode", MODES)
def test_create_read_search_update_delete_as_the_tokens_user(
        server: LiveServer, owner_token: str, owner: Account, mode: str) -> None:
    async def work(client: Client) -> dict[str, Any]:
        made = await client.call_tool("create_map", {
            "markdown": OUTLINE, "title": f"Bee keeping {mode}", "tags": ["Bees", "honey"],
            "visibility": "public"})
        assert not made.is_error, made.content
        public_id = made.structured_content["id"]
        read = await client.call_tool("get_map", {"id": public_id})
        found = await client.call_tool("search_maps", {"query": "clover", "author": owner.username})
        by_url = await client.call_tool("get_map", {"id": made.structured_content["url"],
                                                    "format": "json"})
        changed = await client.call_tool("update_map", {
            "id": public_id, "title": "Wasps", "tags": ["wasps"], "visibility": "unlisted",
            "outline": [{"title": "Wasps", "children": [{"title": "Sting", "note": "ouch"}]}]})
        after = await client.call_tool("get_map", {"id": public_id, "format": "markdown"})
        gone = await client.call_tool("delete_map", {"id": public_id})
        again = await client.call_tool("get_map", {"id": public_id})
        return {"made": made, "read": read, "found": found, "by_url": by_url,
                "changed": changed, "after": after, "gone": gone, "again": again}

    r = with_client(server.url, owner_token, work, mode=mode)
    made = r["made"].structured_content
    assert made["url"].startswith(server.url + "/mindmaps/" + made["id"])
    assert made["tags"] == ["bees", "honey"] and made["format"] == "markdown"
    assert made["id"] in r["made"].content[0].text and made["url"] in r["made"].content[0].text
    read = r["read"].structured_content
    assert read["author"] == owner.username and read["topic_count"] == 4
    assert read["outline"][0]["title"] == "Bees"
    assert read["outline"][0]["children"][0]["children"][0]["title"] == "Clover honey"
    assert "Clover honey" in read["markdown"] and r["read"].content[0].text == read["markdown"]
    assert [m["id"] for m in r["found"].structured_content["maps"]] == [made["id"]]
    assert r["by_url"].structured_content["id"] == made["id"]
    assert "markdown" not in r["by_url"].structured_content
    changed = r["changed"].structured_content
    assert (changed["title"], changed["tags"], changed["visibility"]) == ("Wasps", ["wasps"],
                                                                          "unlisted")
    assert changed["topic_count"] == 2
    after = r["after"].structured_content
    assert "outline" not in after and "Sting" in after["markdown"] and "ouch" in after["markdown"]
    assert r["gone"].structured_content["deleted"] == made["id"]
    assert "no map" in refusal(r["again"])
    assert count(server, "maps", f"public_id = '{made['id']}'") == 0


def test_the_new_file_replaces_the_old_one(server: LiveServer, owner_token: str) -> None:
    made = created(server, owner_token, title="Replace me")
    result = call(server.url, owner_token, "update_map", {
        "id": made["id"], "markdown": "# Fresh\n- one\n- two\n- three\n"})
    assert not result.is_error, result.content
    download = httpx.get(made["download_url"], timeout=30)
    assert download.status_code == 200 and download.text.startswith("# Fresh")
    api = httpx.get(server.url + f"/maps/{made['id']}", timeout=30).json()
    assert api["topic_count"] == 4 and api["title"] == "Replace me"
    found = httpx.get(server.url + "/maps", params={"q": "three"}, timeout=30).json()["maps"]
    assert made["id"] in [m["id"] for m in found]  # the search words follow the outline


def test_search_filters_pages_and_mine(server: LiveServer, owner_token: str,
                                       other_token: str) -> None:
    tag = "t" + secrets.token_hex(4)
    made = [created(server, owner_token, title=f"Paged {i}", tags=[tag],
                    visibility="private" if i == 3 else "public") for i in range(4)]

    async def work(client: Client) -> list[Any]:
        first = await client.call_tool("search_maps", {"tag": tag, "limit": 2})
        second = await client.call_tool("search_maps", {
            "tag": tag, "limit": 2, "cursor": first.structured_content["next_cursor"]})
        mine = await client.call_tool("search_maps", {"tag": tag, "mine": True,
                                                      "format": "markdown"})
        other_format = await client.call_tool("search_maps", {"tag": tag, "format": "xmind"})
        return [first, second, mine, other_format]

    first, second, mine, other_format = with_client(server.url, owner_token, work)
    public = {m["id"] for m in made[:3]}
    assert len(first.structured_content["maps"]) == 2 and first.structured_content["next_cursor"]
    assert {m["id"] for m in first.structured_content["maps"] + second.structured_content[
        "maps"]} == public and second.structured_content["next_cursor"] is None
    assert {m["id"] for m in mine.structured_content["maps"]} == public | {made[3]["id"]}
    assert other_format.structured_content["maps"] == []
    others = call(server.url, other_token, "search_maps", {"tag": tag, "mine": True})
    assert others.structured_content["maps"] == []  # mine is the caller's own


def test_whoami_answers_what_users_me_does(server: LiveServer, owner_token: str,
                                           owner_api_token: str) -> None:
    result = call(server.url, owner_token, "whoami")
    me = httpx.get(server.url + "/users/me", timeout=30,
                   headers={"Authorization": f"Bearer {owner_api_token}"}).json()
    assert result.structured_content == me
    assert json.loads(result.content[0].text) == me


def test_a_token_without_maps_cannot_change_the_library(
        server: LiveServer, owner_token: str, owner_api_token: str,
        account_only_token: str) -> None:
    mine = created(server, owner_token, visibility="private")
    before = count(server, "maps")
    for tool, arguments in (("create_map", {"markdown": OUTLINE}),
                            ("update_map", {"id": mine["id"], "title": "Taken"}),
                            ("delete_map", {"id": mine["id"]})):
        text = refusal(call(server.url, account_only_token, tool, arguments))
        assert "'maps' scope" in text, text
    assert count(server, "maps") == before
    assert httpx.get(server.url + f"/maps/{mine['id']}", timeout=30, headers={
        "Authorization": f"Bearer {owner_api_token}"}).json()["title"] == "Bees"
    # Without maps the owner's private map is hidden from this token, as from anyone's.
    assert "no map" in refusal(call(server.url, account_only_token, "get_map", {"id": mine["id"]}))


def test_a_token_without_account_cannot_ask_whoami(server: LiveServer, maps_only_token: str) -> None:
    assert "'account' scope" in refusal(call(server.url, maps_only_token, "whoami"))
    assert not call(server.url, maps_only_token, "search_maps", {"mine": True}).is_error


def test_a_clients_own_token_reads_public_maps_and_writes_nothing(
        server: LiveServer, owner_token: str, client_token: str) -> None:
    public = created(server, owner_token, title="Open to all")
    private = created(server, owner_token, title="Mine alone", visibility="private")
    assert call(server.url, client_token, "get_map", {"id": public["id"]}).structured_content[
        "title"] == "Open to all"
    assert "no map" in refusal(call(server.url, client_token, "get_map", {"id": private["id"]}))
    for tool, arguments in (("create_map", {"markdown": OUTLINE}),
                            ("delete_map", {"id": public["id"]}), ("whoami", {})):
        assert "client credentials" in refusal(call(server.url, client_token, tool, arguments))


def test_another_users_private_map_is_invisible(
        server: LiveServer, owner_token: str, owner_api_token: str, other_token: str) -> None:
    secret = created(server, owner_token, title="Secret zebra plans", visibility="private")
    unlisted = created(server, owner_token, title="Unlisted zebra plans", visibility="unlisted")

    async def snoop(client: Client) -> dict[str, Any]:
        found = await client.call_tool("search_maps", {"query": "zebra"})
        read = await client.call_tool("get_map", {"id": secret["id"]})
        change = await client.call_tool("update_map", {"id": secret["id"], "title": "Mine now"})
        remove = await client.call_tool("delete_map", {"id": unlisted["id"]})
        listed = await client.list_resources()
        try:
            await client.read_resource(server.url + f"/maps/{secret['id']}")
            resource_error = None
        except MCPError as error:
            resource_error = error
        return {"found": found, "read": read, "change": change, "remove": remove,
                "listed": listed, "resource_error": resource_error}

    r = with_client(server.url, other_token, snoop)
    ids = [m["id"] for m in r["found"].structured_content["maps"]]
    assert secret["id"] not in ids and unlisted["id"] not in ids  # lists hold public maps only
    assert "no map" in refusal(r["read"]) and "no map" in refusal(r["change"])
    assert "owner" in refusal(r["remove"])  # unlisted: seen by its link, changed by its owner alone
    assert all(secret["id"] not in res.uri for res in r["listed"].resources)
    assert r["resource_error"] is not None and r["resource_error"].error.code == -32002
    assert httpx.get(server.url + f"/maps/{secret['id']}", timeout=30, headers={
        "Authorization": f"Bearer {owner_api_token}"}).json()["title"] == "Secret zebra plans"


@pytest.mark.parametrize("mode", MODES)
def test_maps_are_resources(server: LiveServer, owner_token: str, mode: str) -> None:
    mine = created(server, owner_token, title=f"Resource {mode}", visibility="private")

    async def work(client: Client) -> dict[str, Any]:
        templates = await client.list_resource_templates()
        listed = await client.list_resources()
        uri = next(r.uri for r in listed.resources if r.uri.endswith("/maps/" + mine["id"]))
        return {"templates": templates, "listed": listed, "read": await client.read_resource(uri)}

    r = with_client(server.url, owner_token, work, mode=mode)
    assert r["templates"].resource_templates[0].uri_template == server.url + "/maps/{id}"
    assert all(res.uri.startswith(server.url + "/maps/") for res in r["listed"].resources)
    markdown, document = r["read"].contents
    assert markdown.mime_type == "text/markdown" and "Clover honey" in markdown.text
    assert document.mime_type == "application/json"
    assert json.loads(document.text)["title"] == f"Resource {mode}"


def test_bad_arguments_are_tool_errors_that_name_the_argument(
        server: LiveServer, owner_token: str) -> None:
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("search_maps", {"limit": "ten"}, "'limit'"),
        ("search_maps", {"limit": 1000}, "'limit'"),
        ("search_maps", {"query": "x" * 201}, "query: "),
        ("search_maps", {"sort": "random"}, "sort"),
        ("search_maps", {"cursor": "not-a-cursor"}, "cursor"),
        ("search_maps", {"surprise": 1}, "'surprise'"),
        ("get_map", {}, "'id'"),
        ("get_map", {"id": ["x"]}, "'id'"),
        ("create_map", {"markdown": OUTLINE, "visibility": "everyone"}, "visibility"),
        ("create_map", {"markdown": OUTLINE, "tags": "a,b"}, "'tags'"),
        ("create_map", {"markdown": OUTLINE, "tags": ["no spaces!"]}, "tag"),
        ("create_map", {"markdown": OUTLINE, "category": "no-such-category"}, "category"),
        ("create_map", {"markdown": OUTLINE, "outline": [{"title": "x"}]}, "once"),
        ("create_map", {}, "markdown"),
        ("create_map", {"markdown": "\x00\x01 not an outline"}, "outline"),
        ("create_map", {"outline": [{"title": 5}]}, "outline"),
        ("create_map", {"outline": [{"title": "x", "children": "no"}]}, "outline"),
        ("create_map", {"outline": "[]"}, "'outline'"),
        ("update_map", {"id": "abcdefgh"}, "at least one"),
        ("update_map", {"id": "abcdefgh", "title": ""}, "title"),
    ]

    async def work(client: Client) -> list[Any]:
        return [await client.call_tool(tool, arguments) for tool, arguments, _ in cases]

    for (tool, arguments, named), result in zip(cases, with_client(server.url, owner_token, work),
                                                strict=True):
        text = refusal(result)
        assert named in text, (tool, arguments, text)


def test_deep_and_huge_outlines_are_refused(server: LiveServer, owner_token: str) -> None:
    wide = [{"title": "root", "children": [{"title": f"t{i}"} for i in range(50_001)]}]
    before = count(server, "maps")
    text = refusal(call(server.url, owner_token, "create_map", {"outline": wide}))
    assert text.startswith("The outline") and "topics" in text, text
    deep_markdown = "# r\n" + "".join("  " * i + "- x\n" for i in range(400))
    assert refusal(call(server.url, owner_token, "create_map", {"markdown": deep_markdown}))
    # Deeper than the SDK's client will serialise: sent as raw JSON-RPC.
    for depth in (300, 5_000):
        deep = '{"title":"t","children":[' * depth + '{"title":"leaf"}' + "]}" * depth
        response = post(server, (
            '{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"create_map",'
            '"arguments":{"outline":[' + deep + "]}}}").encode(), owner_token)
        assert response.status_code < 500, response.text
        answer = response.json()
        assert "error" in answer or answer["result"]["isError"] is True, answer
    assert count(server, "maps") == before


def test_unknown_tool_is_a_protocol_error(server: LiveServer, owner_token: str) -> None:
    async def work(client: Client) -> MCPError | None:
        try:
            await client.call_tool("drop_all_tables", {})
        except MCPError as error:
            return error
        return None

    error = with_client(server.url, owner_token, work)
    assert error is not None and error.error.code == -32602
    assert "Unknown tool" in error.error.message


def test_a_resource_that_is_not_a_map_is_not_found(server: LiveServer, owner_token: str) -> None:
    async def work(client: Client) -> list[int]:
        codes = []
        for uri in ("file:///etc/passwd", server.url + "/maps/../users/me", server.url + "/maps/x"):
            try:
                await client.read_resource(uri)
            except MCPError as error:
                codes.append(error.error.code)
        return codes

    assert with_client(server.url, owner_token, work) == [-32002, -32002, -32002]


# --- the HTTP in front of the SDK --------------------------------------------------------------

INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
    "protocolVersion": "2025-11-25", "capabilities": {},
    "clientInfo": {"name": "probe", "version": "1"}}}
RPC_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def post(server: LiveServer, body: bytes | dict[str, Any], token: str | None,
         **headers: str) -> httpx.Response:
    sent = {**RPC_HEADERS, **headers}
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.post(server.url + "/mcp", content=content, headers=sent, timeout=30)


def test_no_token_or_a_bad_one_is_401_with_a_bearer_challenge(
        server: LiveServer, owner_token: str, owner_api_token: str) -> None:
    metadata = f'resource_metadata="{server.url}/.well-known/oauth-protected-resource/mcp"'
    bare = post(server, INITIALIZE, None)
    assert bare.status_code == 401
    assert bare.headers["www-authenticate"] == f'Bearer realm="openplate", {metadata}'
    bad = post(server, INITIALIZE, owner_token[:-2] + "xx")
    assert bad.status_code == 401 and bad.json()["error"] == "invalid_token"
    assert bad.headers["www-authenticate"].startswith(
        f'Bearer realm="openplate", {metadata}, error="invalid_token"')
    # RFC 8707: the same user's token for the API does not open /mcp (nor the reverse).
    api = post(server, INITIALIZE, owner_api_token)
    assert api.status_code == 401 and api.json()["error"] == "invalid_token"
    assert "another resource" in api.json()["error_description"]
    assert httpx.get(server.url + "/users/me", timeout=30, headers={
        "Authorization": f"Bearer {owner_token}"}).status_code == 401
    twice = httpx.post(server.url + "/mcp", json=INITIALIZE, timeout=30, headers=[
        ("Accept", RPC_HEADERS["Accept"]), ("Authorization", f"Bearer {owner_token}"),
        ("Authorization", f"Bearer {owner_token}")])
    assert twice.status_code == 400 and twice.json()["error"] == "invalid_request"
    basic = post(server, INITIALIZE, None, Authorization="Basic dXNlcjpwdw==")
    assert basic.status_code == 400 and "www-authenticate" in basic.headers


def test_a_revoked_token_is_refused_at_once(server: LiveServer, app: App, seeder: Seeder) -> None:
    token = mcp_token_for(server.url, app, seeder.user("mcprevoked"))
    assert post(server, INITIALIZE, token).status_code == 200
    revoked = httpx.post(server.url + "/oauth/revoke", auth=(app.client_id, app.client_secret or ""),
                         data={"token": token}, timeout=30)
    assert revoked.status_code == 200
    assert post(server, INITIALIZE, token).status_code == 401


def test_hostile_http_gets_4xx_or_a_json_rpc_error(server: LiveServer, owner_token: str) -> None:
    assert post(server, INITIALIZE, owner_token).json()["result"]["serverInfo"]["name"] == "openplate"
    for method in ("GET", "DELETE", "PUT"):
        response = httpx.request(method, server.url + "/mcp", timeout=30,
                                 headers={"Authorization": f"Bearer {owner_token}"})
        assert response.status_code == 405 and response.headers["allow"] == "POST"
    evil = post(server, INITIALIZE, owner_token, Origin="https://evil.example")
    assert evil.status_code == 403
    answers = [
        post(server, b"{not json", owner_token),
        post(server, b"[" * 100_000, owner_token),
        post(server, b"[]", owner_token),
        post(server, {"jsonrpc": "2.0", "id": 1, "method": "no/such"}, owner_token),
        post(server, {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {
            "name": "get_map", "arguments": "not an object"}}, owner_token),
        post(server, {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": 7}, owner_token),
        post(server, {"jsonrpc": "1.0", "id": {}, "method": 5}, owner_token),
        post(server, INITIALIZE, owner_token, **{"Content-Type": "text/plain"}),
        post(server, INITIALIZE, owner_token, Accept="text/html"),
    ]
    for response in answers:
        assert 200 <= response.status_code < 500, (response.status_code, response.text)
        if response.status_code == 200:
            assert "error" in response.json(), response.text
    big = post(server, b'{"x": "' + b"a" * (21 * 1024 * 1024 + 10) + b'"}', owner_token)
    assert big.status_code == 413
