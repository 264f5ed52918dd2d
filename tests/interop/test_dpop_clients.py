"""RFC 9449 DPoP with npm openid-client 6.9.0 (``getDPoPHandle``) and oauth4webapi 3.8.8
(``DPoP(client, keyPair)``), the user's side through the real sign-in and consent pages.

The server here asks for its nonce at the token endpoint (the default) and on the API too
(OPENPLATE_DPOP_NONCE_AT_RESOURCES), so both libraries' nonce retries are exercised; its access
tokens are RFC 9068 JWTs, so the ``cnf`` claim is checked as well.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.interop.support import (
    REDIRECT_URI,
    NodeClient,
    Site,
    browser_callback,
    jwt_parts,
)
from tests.support.seed import Seeder
from tests.support.server import start_server


@pytest.fixture(scope="module")
def dpop_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    live = start_server(tmp_path_factory.mktemp("interop-dpop"), extra_env={
        "OPENPLATE_ACCESS_TOKEN_FORMAT": "jwt", "OPENPLATE_DPOP_NONCE_AT_RESOURCES": "true"})
    try:
        yield Site(live, Seeder(live), "RS256", "jwt")
    finally:
        live.stop()


@pytest.fixture(autouse=True)
def no_dpop_site_errors(dpop_site: Site) -> Iterator[None]:
    before = len(dpop_site.server.log())
    yield
    fresh = dpop_site.server.log()[before:]
    assert "Traceback" not in fresh and "unhandled error" not in fresh, fresh[-3000:]


def _authorize(js: NodeClient, site: Site, creds: dict[str, Any], scope: str,
               extra: dict[str, str] | None = None) -> tuple[dict[str, Any], str]:
    account = site.seeder.user("dpopi")
    request = js.ok("authorization_url", **creds, redirect_uri=REDIRECT_URI, scope=scope,
                    extra=extra or {})
    callback = browser_callback(site, account, request["url"])
    return {**request, "account": account}, callback


def _introspect(site: Site, app: Any, token: str) -> dict[str, Any]:
    answer: dict[str, Any] = httpx.post(site.url + "/oauth/introspect", data={"token": token},
                                        auth=(app.client_id, app.client_secret), timeout=20).json()
    return answer


def test_openid_client_code_flow_userinfo_resource_and_refresh_with_dpop(
    js: NodeClient, dpop_site: Site
) -> None:
    site = dpop_site
    _, app = site.account_and_app("dpoc", public=True)
    creds = site.creds(app)
    key = js.ok("dpop_key", alg="ES256")
    # §10: the code is bound to the key from the start (dpop_jkt).
    request, callback = _authorize(js, site, creds, "openid account",
                                   extra={"dpop_jkt": key["jkt"]})
    grant = js.ok("dpop_code_grant", **creds, dpop_key=key["id"], callback_url=callback,
                  state=request["state"], nonce=request["nonce"],
                  code_verifier=request["code_verifier"])
    tokens = grant["tokens"]
    assert tokens["token_type"].lower() == "dpop"
    _, claims = jwt_parts(tokens["access_token"])
    assert claims["cnf"] == {"jkt": key["jkt"]}
    account = request["account"]
    info = js.ok("dpop_userinfo", **creds, dpop_key=key["id"], access_token=tokens["access_token"],
                 expected_sub=str(account.id))
    assert info["sub"] == str(account.id)
    me = js.ok("dpop_protected_resource", **creds, dpop_key=key["id"],
               access_token=tokens["access_token"], url=site.url + "/users/me")
    assert me["status"] == 200 and me["body"]["UserName"] == account.username
    assert me["dpop_nonce"]  # §9: the next proof's nonce comes with the answer
    # The same token sent as a bearer token by the same library is refused (§7.2).
    refused = js.refused("protected_resource", **creds, access_token=tokens["access_token"],
                         url=site.url + "/users/me")
    assert "invalid_token" in str(refused)
    # Refresh with the key; the public client's refresh token is bound to it (§5).
    refreshed = js.ok("dpop_refresh", **creds, dpop_key=key["id"],
                      refresh_token=tokens["refresh_token"])["tokens"]
    assert refreshed["token_type"].lower() == "dpop"
    assert jwt_parts(refreshed["access_token"])[1]["cnf"] == {"jkt": key["jkt"]}
    stolen = httpx.post(site.url + "/oauth/token", timeout=20, data={
        "grant_type": "refresh_token", "refresh_token": refreshed["refresh_token"],
        "client_id": app.client_id})
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_dpop_proof"
    other = js.ok("dpop_key", alg="ES256")
    thief = js.refused("dpop_refresh", **creds, dpop_key=other["id"],
                       refresh_token=refreshed["refresh_token"])
    assert thief.get("error") == "invalid_grant", thief


@pytest.mark.parametrize("alg", ["ES256", "RS256", "PS256", "Ed25519"])
def test_oauth4webapi_code_flow_resource_userinfo_and_refresh_with_dpop(
    js: NodeClient, dpop_site: Site, alg: str
) -> None:
    site = dpop_site
    _, app = site.account_and_app("dpo4" + secrets.token_hex(2))
    creds = site.creds(app)
    key = js.ok("dpop_key", alg=alg)
    request, callback = _authorize(js, site, creds, "openid account maps")
    grant = js.ok("o4w_dpop_code_grant", **creds, dpop_key=key["id"], callback_url=callback,
                  state=request["state"], nonce=request["nonce"], redirect_uri=REDIRECT_URI,
                  code_verifier=request["code_verifier"])
    # The token endpoint asked for its nonce first; the library's handle kept it for the retry.
    assert grant.get("nonce_retried") is True
    tokens = grant["tokens"]
    assert tokens["token_type"] == "dpop"
    seen = _introspect(site, app, tokens["access_token"])
    assert seen["token_type"] == "DPoP" and seen["cnf"] == {"jkt": key["jkt"]}
    account = request["account"]
    resource = js.ok("o4w_dpop_resource", **creds, dpop_key=key["id"],
                     access_token=tokens["access_token"], url=site.url + "/users/me")
    assert resource["status"] == 200 and resource["body"]["Id"] == account.id
    maps = js.ok("o4w_dpop_resource", **creds, dpop_key=key["id"],
                 access_token=tokens["access_token"], url=site.url + "/maps?limit=3")
    assert maps["status"] == 200 and "maps" in maps["body"]
    info = js.ok("o4w_dpop_userinfo", **creds, dpop_key=key["id"],
                 access_token=tokens["access_token"], expected_sub=str(account.id))
    assert info["claims"]["sub"] == str(account.id)
    # A confidential client's refresh token is not bound (§5); the new access token is.
    refreshed = js.ok("o4w_dpop_refresh", **creds, dpop_key=key["id"],
                      refresh_token=tokens["refresh_token"])["tokens"]
    assert refreshed["token_type"] == "dpop"
    assert _introspect(site, app, refreshed["access_token"])["cnf"] == {"jkt": key["jkt"]}
    assert "cnf" not in _introspect(site, app, refreshed["refresh_token"])
