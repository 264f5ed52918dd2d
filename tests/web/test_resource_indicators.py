"""RFC 8707 resource indicators and RFC 9728 protected resource metadata over HTTP, on each
engine: a token asked for the MCP endpoint does not open the API, refusals point to the
metadata, and the metadata leads a client to this server."""

from __future__ import annotations

import httpx
import pytest

from tests.support.browser_flow import authorize, obtain_code, redirect_params
from tests.support.seed import Seeder
from tests.support.server import LiveServer
from tests.support.tokens import exchange, me, refresh


@pytest.fixture(scope="module")
def server(flow_server: LiveServer) -> LiveServer:
    return flow_server


def _introspect(server: LiveServer, app_id: str, secret: str | None, token: str) -> dict[str, object]:
    assert secret is not None
    answer: dict[str, object] = httpx.post(server.url + "/oauth/introspect", auth=(app_id, secret),
                                           data={"token": token}, timeout=20).json()
    return answer


def test_a_token_for_the_mcp_endpoint_does_not_open_the_api(server: LiveServer) -> None:
    seeder = Seeder(server)
    person, app = seeder.user("res"), None
    app = seeder.app(seeder.user("dev"))
    mcp = server.url + "/mcp"
    code = obtain_code(server.url, person, app.client_id, app.redirect_uris[0],
                       scope="account maps", resource=mcp)
    tokens = exchange(server.url, app, code).json()
    assert "access_token" in tokens, tokens
    refused = me(server.url, tokens["access_token"])
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_token"
    challenge = refused.headers["www-authenticate"]
    assert 'error="invalid_token"' in challenge
    assert (f'resource_metadata="{server.url}/.well-known/oauth-protected-resource"'
            in challenge)
    described = _introspect(server, app.client_id, app.client_secret, tokens["access_token"])
    assert described["active"] is True and described["aud"] == mcp
    # Its refresh token keeps it to the same resource; asking for the API is refused.
    again = refresh(server.url, app, tokens["refresh_token"]).json()
    assert _introspect(server, app.client_id, app.client_secret,
                       again["access_token"])["aud"] == mcp
    wider = refresh(server.url, app, again["refresh_token"], resource=server.url)
    assert wider.status_code == 400 and wider.json()["error"] == "invalid_target"


def test_without_a_resource_a_token_is_for_the_api_as_always(server: LiveServer) -> None:
    seeder = Seeder(server)
    app = seeder.app(seeder.user("dev"))
    code = obtain_code(server.url, seeder.user("plain"), app.client_id, app.redirect_uris[0],
                       scope="account")
    tokens = exchange(server.url, app, code).json()
    assert me(server.url, tokens["access_token"]).status_code == 200
    described = _introspect(server, app.client_id, app.client_secret, tokens["access_token"])
    assert described["aud"] == server.url
    # The API named explicitly works the same.
    code = obtain_code(server.url, seeder.user("plain"), app.client_id, app.redirect_uris[0],
                       scope="account", resource=server.url)
    assert me(server.url, exchange(server.url, app, code).json()["access_token"]).status_code == 200


def test_a_token_request_may_narrow_to_one_of_the_authorised_resources(server: LiveServer) -> None:
    seeder = Seeder(server)
    app = seeder.app(seeder.user("dev"))
    mcp = server.url + "/mcp"
    params = {"client_id": app.client_id, "redirect_uri": app.redirect_uris[0],
              "response_type": "code", "scope": "account", "state": "s"}
    with httpx.Client(base_url=server.url, timeout=20) as browser:
        both = authorize(browser, seeder.user("two"), {**params}, decision="allow")
    code = redirect_params(both)["code"]
    # A grant that named no resource: the code may be redeemed for the MCP endpoint.
    tokens = exchange(server.url, app, code, resource=mcp).json()
    assert _introspect(server, app.client_id, app.client_secret, tokens["access_token"])[
        "aud"] == mcp
    # A grant for the MCP endpoint only: the API is outside it.
    code = obtain_code(server.url, seeder.user("one"), app.client_id, app.redirect_uris[0],
                       scope="account", resource=mcp)
    outside = exchange(server.url, app, code, resource=server.url)
    assert outside.status_code == 400 and outside.json()["error"] == "invalid_target"


def test_an_unknown_resource_is_refused_at_the_authorisation_endpoint(server: LiveServer) -> None:
    seeder = Seeder(server)
    app = seeder.app(seeder.user("dev"))  # registered by the operator: errors go back at once
    with httpx.Client(base_url=server.url, timeout=20) as browser:
        for resource in ("https://elsewhere.example/", server.url + "/mcp#x", "mcp"):
            answer = browser.get("/oauth/auth", params={
                "client_id": app.client_id, "redirect_uri": app.redirect_uris[0],
                "response_type": "code", "state": "s", "resource": resource})
            got = redirect_params(answer)
            assert got["error"] == "invalid_target" and got["state"] == "s", got


def test_protected_resource_metadata_leads_to_this_server(server: LiveServer) -> None:
    api = httpx.get(server.url + "/.well-known/oauth-protected-resource", timeout=20)
    assert api.status_code == 200 and api.headers["content-type"] == "application/json"
    assert api.json()["resource"] == server.url
    assert api.json()["authorization_servers"] == [server.url]
    mcp = httpx.get(server.url + "/.well-known/oauth-protected-resource/mcp", timeout=20).json()
    assert mcp["resource"] == server.url + "/mcp"
    assert mcp["authorization_servers"] == [server.url]
    assert set(mcp["scopes_supported"]) == {"maps", "account"}
    issuer = httpx.get(server.url + "/.well-known/oauth-authorization-server", timeout=20).json()
    assert issuer["issuer"] == server.url
    # A call without a token is told where to look.
    bare = httpx.get(server.url + "/users/me", timeout=20)
    assert bare.status_code == 401
    challenges = bare.headers.get_list("www-authenticate")
    assert challenges[0] == (
        f'Bearer realm="openplate", resource_metadata="{server.url}/.well-known/'
        'oauth-protected-resource"')
    assert challenges[1].startswith("DPoP ")  # RFC 9449 §7.1: the API takes both schemes
