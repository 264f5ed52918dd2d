"""Authlib as an OpenID Connect relying party: endpoints from discovery, the code flow with PKCE
and a nonce, then the ID token checked with ``CodeIDToken`` against the JWKS (iss, aud, nonce,
exp, iat, at_hash), for each signing algorithm."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import OAuth2Client
from authlib.jose import JsonWebKey, JsonWebToken
from authlib.jose.errors import InvalidClaimError
from authlib.oidc.core import CodeIDToken
from joserfc.errors import InvalidClaimError as JoseInvalidClaimError

from tests.interop.support import REDIRECT_URI, Site, browser_callback, callback_params


def _id_token(
    token: str, meta: dict[str, Any], keys: Any, alg: str, *, client_id: str, access_token: str,
    nonce: str | None,
) -> Any:
    options: dict[str, Any] = {
        "iss": {"essential": True, "value": meta["issuer"]},
        "aud": {"essential": True, "value": client_id},
        "sub": {"essential": True},
    }
    params: dict[str, Any] = {"client_id": client_id, "access_token": access_token}
    if nonce is not None:
        options["nonce"] = {"essential": True, "value": nonce}
        params["nonce"] = nonce
    claims = JsonWebToken([alg]).decode(token, keys, claims_cls=CodeIDToken, claims_options=options,
                                        claims_params=params)
    claims.validate(leeway=30)
    return claims


def test_authlib_code_flow_and_id_token_validation(signing_site: Site) -> None:
    site = signing_site
    meta = httpx.get(site.url + "/.well-known/openid-configuration", timeout=20).json()
    assert meta["issuer"] == site.url
    keys = JsonWebKey.import_key_set(httpx.get(meta["jwks_uri"], timeout=20).json())
    account, app = site.account_and_app("authlib")

    with OAuth2Client(app.client_id, app.client_secret, scope="openid profile email",
                      redirect_uri=REDIRECT_URI, code_challenge_method="S256",
                      token_endpoint_auth_method="client_secret_basic", timeout=20) as client:
        verifier, nonce = generate_token(64), generate_token(32)
        url, state = client.create_authorization_url(meta["authorization_endpoint"],
                                                     code_verifier=verifier, nonce=nonce)
        callback = browser_callback(site, account, url)
        # Authlib does not look at RFC 9207's iss; a mix-up-aware client would.
        assert callback_params(callback)["iss"] == meta["issuer"]
        token = client.fetch_token(meta["token_endpoint"], authorization_response=callback,
                                   code_verifier=verifier, state=state)
        assert token["token_type"] == "Bearer" and token["scope"] == "openid profile email"

        claims = _id_token(token["id_token"], meta, keys, site.alg, client_id=app.client_id,
                           access_token=token["access_token"], nonce=nonce)
        assert claims.header["alg"] == site.alg
        assert claims["sub"] == str(account.id)
        assert claims["preferred_username"] == account.username
        assert claims["email"] == account.email
        assert claims["nonce"] == nonce
        assert claims["at_hash"]  # and CodeIDToken checked it against the access token:
        # (Authlib 1.9 raises joserfc's error class from authlib.oidc.core, older ones its own.)
        with pytest.raises((InvalidClaimError, JoseInvalidClaimError), match="at_hash"):
            _id_token(token["id_token"], meta, keys, site.alg, client_id=app.client_id,
                      access_token=token["access_token"] + "x", nonce=nonce)

        info = client.get(meta["userinfo_endpoint"])
        assert info.status_code == 200
        assert info.json() == {"sub": str(account.id), "preferred_username": account.username,
                               "name": account.username, "email": account.email,
                               "email_verified": False}

        renewed = client.refresh_token(meta["token_endpoint"], refresh_token=token["refresh_token"])
        assert renewed["access_token"] != token["access_token"]
        again = _id_token(renewed["id_token"], meta, keys, site.alg, client_id=app.client_id,
                          access_token=renewed["access_token"], nonce=None)
        assert again["sub"] == claims["sub"] and again["auth_time"] == claims["auth_time"]

        described = client.introspect_token(meta["introspection_endpoint"],
                                            token=renewed["access_token"])
        assert described.status_code == 200
        body = described.json()
        assert body["active"] is True and body["sub"] == str(account.id)
        assert body["client_id"] == app.client_id

        revoked = client.revoke_token(meta["revocation_endpoint"], token=renewed["refresh_token"],
                                      token_type_hint="refresh_token")
        assert revoked.status_code == 200
        for gone in (renewed["access_token"], renewed["refresh_token"]):
            answer = client.introspect_token(meta["introspection_endpoint"], token=gone)
            assert answer.json() == {"active": False}
