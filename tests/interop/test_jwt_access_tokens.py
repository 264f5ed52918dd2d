"""RFC 9068 JWT access tokens (OPENPLATE_ACCESS_TOKEN_FORMAT=jwt), validated the way a resource
server would: oauth4webapi ``validateJwtAccessToken`` (typ ``at+jwt``, signature via the JWKS,
iss, exp, aud, required claims), cross-checked with jose ``jwtVerify``."""

from __future__ import annotations

import time
from typing import Any

import httpx

from tests.interop.support import NodeClient, Site, expected_at_hash, jwt_parts, openid_client_login


def _validated(js: NodeClient, site: Site, token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    checked = js.ok("validate_jwt_access_token", issuer=site.url, audience=site.url, token=token)
    assert checked["jose_payload"] == checked["claims"]
    header = checked["header"]
    assert header["typ"] == "at+jwt"  # RFC 9068 §2.1
    assert header["alg"] == site.alg
    assert site.jwks()[header["kid"]]["alg"] == site.alg
    return header, checked["claims"]


def test_user_access_token_validates_at_a_resource_server(js: NodeClient, jwt_site: Site) -> None:
    site = jwt_site
    account, app = site.account_and_app("jwt")
    creds = site.creds(app)
    started = int(time.time())
    login = openid_client_login(js, site, account, app, scope="openid profile account")
    token = login.tokens["access_token"]
    assert token.count(".") == 2

    _, claims = _validated(js, site, token)
    assert claims["iss"] == site.url
    assert claims["aud"] == site.url  # OPENPLATE_API_AUDIENCE unset: the public URL
    assert claims["sub"] == str(account.id)
    assert claims["client_id"] == app.client_id
    assert claims["scope"] == "openid profile account"
    assert claims["exp"] - claims["iat"] == 3600 and started <= claims["iat"] <= time.time()
    assert claims["jti"]
    # The ID token's at_hash covers the JWT as sent (OIDC Core §3.1.3.6).
    assert login.claims["at_hash"] == expected_at_hash(token, site.alg)

    # The same token works where the server itself checks it.
    assert js.ok("userinfo", **creds, access_token=token, expected_sub=str(account.id))["sub"] == str(
        account.id)
    described = js.ok("introspect", **creds, token=token)
    assert described["active"] is True and described["sub"] == str(account.id)
    assert described["aud"] == site.url and described["client_id"] == app.client_id

    # A refreshed token is a fresh JWT with a new jti.
    refreshed = js.ok("refresh", **creds, refresh_token=login.tokens["refresh_token"])
    new_token = refreshed["tokens"]["access_token"]
    _, new_claims = _validated(js, site, new_token)
    assert new_claims["jti"] != claims["jti"] and new_claims["sub"] == str(account.id)
    assert refreshed["claims"]["at_hash"] == expected_at_hash(new_token, site.alg)

    # Revocation is the database's business: the server and introspection stop accepting it.
    js.ok("revoke", **creds, token=new_token)
    assert js.ok("introspect", **creds, token=new_token) == {"active": False}
    refused = js.refused("userinfo", **creds, access_token=new_token, expected_sub=str(account.id))
    assert refused["status"] == 401
    assert refused["cause"][0]["parameters"]["error"] == "invalid_token"


def test_client_credentials_access_token_is_a_jwt(js: NodeClient, jwt_site: Site) -> None:
    site = jwt_site
    owner = site.seeder.user("jwtm2m")
    machine = site.machine_app(owner)
    tokens = js.ok("client_credentials", **site.creds(machine), scope="maps")["tokens"]
    _, claims = _validated(js, site, tokens["access_token"])
    assert claims["client_id"] == machine["client_id"]
    assert claims["scope"] == "maps"
    assert claims["aud"] == site.url and claims["iss"] == site.url
    assert claims["sub"] == machine["client_id"]  # RFC 9068 §2.2: no user; the client


def test_jti_claim_alone_is_not_a_bearer_credential(js: NodeClient, jwt_site: Site) -> None:
    site = jwt_site
    account, app = site.account_and_app("jti")
    login = openid_client_login(js, site, account, app, scope="openid account")
    _, claims = jwt_parts(login.tokens["access_token"])
    for url in (site.url + "/oauth/userinfo", site.url + "/users/me"):
        answer = httpx.get(url, headers={"Authorization": f"Bearer {claims['jti']}"}, timeout=20)
        assert answer.status_code == 401, (url, answer.status_code, answer.text)
