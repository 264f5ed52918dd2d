"""npm openid-client v6 (on oauth4webapi) against Openplate, with no Openplate-specific code.

openid-client is strict by design: exact issuer match in discovery, RFC 9207 ``iss`` in the
authorization response, PKCE, state, the ID token's signature (via the JWKS and the discovered
algorithm), iss/aud/exp/iat/nonce/auth_time, JSON content types, RFC 6750 challenges.
What it leaves out in the code flow (``at_hash``, refreshed ID tokens' continuity) is checked here.
"""

from __future__ import annotations

import time

import httpx
import pytest

from tests.interop.support import (
    REDIRECT_URI,
    NodeClient,
    Site,
    browser_callback,
    callback_params,
    expected_at_hash,
    openid_client_login,
)

ALL_SCOPES = "openid profile email account"


@pytest.mark.parametrize("algorithm", ["oidc", "oauth2"])
def test_discovery_is_accepted_by_openid_client_and_oauth4webapi(
    js: NodeClient, site: Site, algorithm: str
) -> None:
    """OIDC Discovery and RFC 8414 documents both pass the libraries' issuer and shape checks."""
    seen = js.ok("discover", issuer=site.url, client_id="any", auth="none", algorithm=algorithm)
    raw = js.ok("o4w_discover", issuer=site.url, algorithm=algorithm)
    assert raw["content_type"].split(";")[0] == "application/json"
    for meta in (seen, raw):
        assert meta["issuer"] == site.url
        assert meta["authorization_endpoint"] == site.url + "/oauth/auth"
        assert meta["token_endpoint"] == site.url + "/oauth/token"
        assert meta["userinfo_endpoint"] == site.url + "/oauth/userinfo"
        assert meta["jwks_uri"] == site.url + "/oauth/jwks"
        assert meta["revocation_endpoint"] == site.url + "/oauth/revoke"
        assert meta["introspection_endpoint"] == site.url + "/oauth/introspect"
        assert meta["code_challenge_methods_supported"] == ["S256"]
        assert meta["authorization_response_iss_parameter_supported"] is True
        assert meta["response_types_supported"] == ["code"]
        assert meta["id_token_signing_alg_values_supported"] == ["RS256", "ES256", "EdDSA"]
        assert {"openid", "profile", "email", "account", "maps"} <= set(meta["scopes_supported"])
        assert {"client_secret_basic", "client_secret_post", "none"} <= set(
            meta["token_endpoint_auth_methods_supported"])


def test_id_token_is_validated_for_each_signing_algorithm(js: NodeClient, signing_site: Site) -> None:
    """PKCE S256 + state + nonce + max_age; openid-client verifies the ID token via the JWKS."""
    site = signing_site
    meta = js.ok("discover", issuer=site.url, client_id="any", auth="none")
    assert site.alg in meta["id_token_signing_alg_values_supported"]

    account, app = site.account_and_app("alg")
    started = int(time.time())
    login = openid_client_login(js, site, account, app, scope="openid profile email", max_age=600)

    # RFC 9207: the authorization response names the issuer (openid-client checked it too).
    assert callback_params(login.callback)["iss"] == site.url
    header, claims = login.grant["id_token_header"], login.claims
    assert header["alg"] == site.alg
    published = site.jwks()[header["kid"]]
    assert published["alg"] == site.alg and published["use"] == "sig"
    assert claims["iss"] == site.url
    assert claims["aud"] == app.client_id
    assert claims["sub"] == str(account.id)
    assert claims["nonce"] == login.request["nonce"]
    assert claims["preferred_username"] == account.username
    assert claims["name"] == account.username
    assert claims["email"] == account.email
    assert claims["email_verified"] is False
    assert claims["exp"] - claims["iat"] == 3600
    assert started <= claims["iat"] <= time.time()  # issued during this login
    assert isinstance(claims["auth_time"], int) and claims["auth_time"] <= claims["iat"]
    # oauth4webapi does not check at_hash in the code flow (it is optional there): check it here.
    assert claims["at_hash"] == expected_at_hash(login.tokens["access_token"], site.alg)
    assert login.tokens["token_type"] == "bearer"
    assert login.tokens["scope"] == "openid profile email"
    assert login.grant["expires_in"] in (3599, 3600)


@pytest.mark.parametrize("auth", ["basic", "post"])
def test_userinfo_refresh_introspection_and_revocation(js: NodeClient, site: Site, auth: str) -> None:
    account, app = site.account_and_app("life")
    creds = site.creds(app, auth)
    login = openid_client_login(js, site, account, app, scope=ALL_SCOPES, auth=auth)
    first = login.tokens

    info = js.ok("userinfo", **creds, access_token=first["access_token"], expected_sub=str(account.id))
    assert info == {"sub": str(account.id), "preferred_username": account.username,
                    "name": account.username, "email": account.email, "email_verified": False}

    me = js.ok("protected_resource", **creds, access_token=first["access_token"],
               url=site.url + "/users/me")
    assert me["status"] == 200 and me["body"]["UserName"] == account.username

    described = js.ok("introspect", **creds, token=first["access_token"])
    assert described["active"] is True
    assert described["sub"] == str(account.id)
    assert described["client_id"] == app.client_id
    assert described["scope"] == ALL_SCOPES
    assert described["username"] == account.username
    assert described["token_type"] == "Bearer"
    assert described["iss"] == site.url
    assert described["exp"] > time.time()
    described = js.ok("introspect", **creds, token=first["refresh_token"], hint="refresh_token")
    assert described["active"] is True and described["sub"] == str(account.id)

    # Refresh, narrowing the scope (RFC 6749 §6); the new ID token continues the old one (OIDC §12.2).
    refreshed = js.ok("refresh", **creds, refresh_token=first["refresh_token"],
                      parameters={"scope": "openid profile"})
    second, claims = refreshed["tokens"], refreshed["claims"]
    assert second["scope"] == "openid profile"
    assert second["access_token"] != first["access_token"]
    assert second["refresh_token"] != first["refresh_token"]
    for same in ("iss", "sub", "aud", "auth_time"):
        assert claims[same] == login.claims[same], same
    assert "nonce" not in claims and "email" not in claims
    assert claims["preferred_username"] == account.username
    assert claims["at_hash"] == expected_at_hash(second["access_token"], site.alg)

    info = js.ok("userinfo", **creds, access_token=second["access_token"], expected_sub=str(account.id))
    assert info == {"sub": str(account.id), "preferred_username": account.username,
                    "name": account.username}
    assert js.ok("introspect", **creds, token=first["refresh_token"]) == {"active": False}
    assert js.ok("introspect", **creds, token=second["refresh_token"])["active"] is True

    # Revoking the access token: inactive, and the UserInfo endpoint answers an RFC 6750 challenge.
    assert js.ok("revoke", **creds, token=second["access_token"], hint="access_token") == {"revoked": True}
    assert js.ok("introspect", **creds, token=second["access_token"]) == {"active": False}
    refused = js.refused("userinfo", **creds, access_token=second["access_token"],
                         expected_sub=str(account.id))
    assert refused["name"] == "WWWAuthenticateChallengeError" and refused["status"] == 401
    assert refused["cause"][0]["scheme"] == "bearer"
    assert refused["cause"][0]["parameters"]["error"] == "invalid_token"

    # Revoking the refresh token ends the grant (RFC 7009 §2.1): refresh and old tokens stop working.
    js.ok("revoke", **creds, token=second["refresh_token"], hint="refresh_token")
    assert js.ok("introspect", **creds, token=second["refresh_token"]) == {"active": False}
    assert js.ok("introspect", **creds, token=first["access_token"]) == {"active": False}
    refused = js.refused("refresh", **creds, refresh_token=second["refresh_token"])
    assert refused["name"] == "ResponseBodyError"
    assert (refused["status"], refused["error"]) == (400, "invalid_grant")


def test_public_client_with_pkce_and_no_secret(js: NodeClient, site: Site) -> None:
    account, app = site.account_and_app("pub", public=True)
    assert app.client_secret is None
    creds = site.creds(app)
    assert creds["auth"] == "none"
    login = openid_client_login(js, site, account, app, scope="openid profile")
    assert login.claims["sub"] == str(account.id) and login.claims["aud"] == app.client_id
    assert login.claims["at_hash"] == expected_at_hash(login.tokens["access_token"], site.alg)
    refreshed = js.ok("refresh", **creds, refresh_token=login.tokens["refresh_token"])
    assert refreshed["claims"]["sub"] == str(account.id)
    js.ok("revoke", **creds, token=refreshed["tokens"]["refresh_token"])
    refused = js.refused("refresh", **creds, refresh_token=refreshed["tokens"]["refresh_token"])
    assert refused["error"] == "invalid_grant"


def test_denied_consent_reaches_the_client_as_access_denied(js: NodeClient, site: Site) -> None:
    """The error response carries iss and state (RFC 9207 §2), so openid-client reports the error."""
    account, app = site.account_and_app("deny")
    creds = site.creds(app)
    request = js.ok("authorization_url", **creds, redirect_uri=REDIRECT_URI, scope="openid")
    callback = browser_callback(site, account, request["url"], decision="deny")
    assert callback_params(callback)["iss"] == site.url
    refused = js.refused("code_grant", **creds, callback_url=callback, state=request["state"],
                         nonce=request["nonce"], code_verifier=request["code_verifier"])
    assert refused["name"] == "AuthorizationResponseError", refused
    assert refused["error"] == "access_denied"


def test_prompt_none_without_a_session_is_login_required(js: NodeClient, site: Site) -> None:
    _, app = site.account_and_app("pn")
    creds = site.creds(app)
    request = js.ok("authorization_url", **creds, redirect_uri=REDIRECT_URI, scope="openid",
                    extra={"prompt": "none"})
    callback = browser_callback(site, None, request["url"])
    refused = js.refused("code_grant", **creds, callback_url=callback, state=request["state"],
                         nonce=request["nonce"], code_verifier=request["code_verifier"])
    assert refused["name"] == "AuthorizationResponseError", refused
    assert refused["error"] == "login_required"


def test_silent_reauthentication_keeps_subject_and_auth_time(js: NodeClient, site: Site) -> None:
    """A second request with prompt=none in the same browser: no pages, same sub and auth_time."""
    account, app = site.account_and_app("silent")
    with httpx.Client(base_url=site.url, timeout=20) as browser:
        first = openid_client_login(js, site, account, app, scope="openid profile", browser=browser)
        again = openid_client_login(js, site, account, app, scope="openid profile", browser=browser,
                                    extra={"prompt": "none"}, max_age=3600)
    assert again.request["nonce"] != first.request["nonce"]
    assert again.claims["nonce"] == again.request["nonce"]
    assert again.claims["sub"] == first.claims["sub"] == str(account.id)
    assert again.claims["auth_time"] == first.claims["auth_time"]


def test_userinfo_without_openid_scope_is_an_insufficient_scope_challenge(
    js: NodeClient, site: Site
) -> None:
    account, app = site.account_and_app("noid")
    creds = site.creds(app)
    login = openid_client_login(js, site, account, app, scope="account")
    assert "id_token" not in login.tokens and login.tokens["scope"] == "account"
    refused = js.refused("userinfo", **creds, access_token=login.tokens["access_token"],
                         expected_sub=str(account.id))
    assert refused["name"] == "WWWAuthenticateChallengeError" and refused["status"] == 403
    challenge = refused["cause"][0]
    assert challenge["scheme"] == "bearer"
    assert challenge["parameters"]["error"] == "insufficient_scope"
    assert challenge["parameters"]["scope"] == "openid"


def test_another_clients_token_introspects_as_inactive(js: NodeClient, site: Site) -> None:
    account, app = site.account_and_app("own")
    _, other = site.account_and_app("other")
    login = openid_client_login(js, site, account, app, scope="openid")
    for token in (login.tokens["access_token"], login.tokens["refresh_token"]):
        assert js.ok("introspect", **site.creds(other), token=token) == {"active": False}
        assert js.ok("introspect", **site.creds(app), token=token)["active"] is True


def test_client_credentials_grant(js: NodeClient, site: Site) -> None:
    owner = site.seeder.user("m2mowner")
    machine = site.machine_app(owner)
    creds = site.creds(machine, "basic")

    issued = js.ok("client_credentials", **creds, scope="maps")
    tokens = issued["tokens"]
    assert tokens["token_type"] == "bearer" and tokens["scope"] == "maps"
    assert tokens["expires_in"] == 3600
    assert "refresh_token" not in tokens and "id_token" not in tokens  # RFC 6749 §4.4.3

    default = js.ok("client_credentials", **site.creds(machine, "post"))
    assert default["tokens"]["scope"] == "maps"

    described = js.ok("introspect", **creds, token=tokens["access_token"])
    assert described["active"] is True
    assert described["client_id"] == machine["client_id"]
    assert described["scope"] == "maps"
    assert described["sub"] == machine["client_id"]  # RFC 9068 §2.2: no user; the client
    assert "username" not in described

    js.ok("revoke", **creds, token=tokens["access_token"])
    assert js.ok("introspect", **creds, token=tokens["access_token"]) == {"active": False}

    refused = js.refused("client_credentials", **creds, scope="openid")
    assert refused["name"] == "ResponseBodyError"
    assert (refused["status"], refused["error"]) == (400, "invalid_scope")


def test_wrong_client_secret_is_invalid_client(js: NodeClient, site: Site) -> None:
    machine = site.machine_app(site.seeder.user("badsecret"))
    for auth in ("basic", "post"):
        creds = {**site.creds(machine, auth), "client_secret": machine["client_secret"] + "x"}
        refused = js.refused("client_credentials", **creds, scope="maps")
        # RFC 6749 §5.2: 401 with a challenge (required for Basic, allowed for the body method);
        # oauth4webapi surfaces the challenge, the body still names the error.
        assert refused["name"] == "WWWAuthenticateChallengeError", refused
        assert refused["status"] == 401
        assert refused["cause"] == [{"scheme": "basic", "parameters": {"realm": "openplate"}}]
        assert refused["response_body"]["error"] == "invalid_client"


def test_replayed_code_is_refused_and_revokes_its_tokens(js: NodeClient, site: Site) -> None:
    """RFC 6749 §4.1.2: a code used twice is refused, and the tokens issued for it are revoked."""
    account, app = site.account_and_app("replay")
    creds = site.creds(app)
    login = openid_client_login(js, site, account, app, scope="openid")
    refused = js.refused("code_grant", **creds, callback_url=login.callback,
                         state=login.request["state"], nonce=login.request["nonce"],
                         code_verifier=login.request["code_verifier"])
    assert refused["name"] == "ResponseBodyError"
    assert (refused["status"], refused["error"]) == (400, "invalid_grant")
    for token in (login.tokens["access_token"], login.tokens["refresh_token"]):
        assert js.ok("introspect", **creds, token=token) == {"active": False}


def test_prompt_login_for_a_signed_out_user_needs_one_sign_in(js: NodeClient, site: Site) -> None:
    account, app = site.account_and_app("plogin")
    started = int(time.time())
    login = openid_client_login(js, site, account, app, scope="openid", extra={"prompt": "login"})
    assert login.claims["sub"] == str(account.id)
    assert login.claims["auth_time"] >= started
