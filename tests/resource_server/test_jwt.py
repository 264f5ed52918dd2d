"""RFC 9068 JWT access tokens from a real Openplate server, validated locally — and forgeries."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from joserfc.jwk import RSAKey

from openplate.oauth.oidc import keys
from openplate.oauth.oidc.jws import b64url
from openplate.resource_server import (
    AccessTokenInfo,
    InsufficientScopeError,
    InvalidTokenError,
    TokenValidator,
)
from tests.resource_server.support import (
    Env,
    Relay,
    claims_for,
    decode_part,
    encode_part,
    hmac_signed,
    mint,
    run,
    unsigned,
)


async def _validate(env: Env, token: str, *, relay: Relay | None = None,
                    scopes: tuple[str, ...] = (), **options: Any) -> AccessTokenInfo:
    async with httpx.AsyncClient(transport=relay or Relay(), timeout=20) as client:
        validator = TokenValidator(env.url, http_client=client, **options)
        return await validator.validate(token, scopes)


def _refused(env: Env, token: str, match: str, **options: Any) -> None:
    with pytest.raises(InvalidTokenError, match=match):
        run(_validate(env, token, **options))


@pytest.fixture(scope="module")
def trusted() -> keys.NewKey:
    """A key of our own that a Relay adds to the server's JWKS."""
    return keys.generate("RS256")


def test_a_real_jwt_validates(jwt_env: Env) -> None:
    token = jwt_env.access_token("account maps")
    info = run(_validate(jwt_env, token, scopes=("maps",)))
    claims = decode_part(token, 1)
    assert info.subject == str(jwt_env.account.id)
    assert info.client_id == jwt_env.app.client_id
    assert info.scopes == frozenset({"account", "maps"})
    assert info.expires_at == claims["exp"] and info.issued_at == claims["iat"]
    assert info.source == "jwt" and info.username is None
    assert info.claims["iss"] == jwt_env.url
    assert "jti" not in repr(info)  # claims stay out of repr (and so out of logs)
    assert not info.for_client and info.user_id == str(jwt_env.account.id)


def test_a_client_credentials_jwt_is_not_a_users(jwt_env: Env) -> None:
    robot, token = jwt_env.client_token()
    info = run(_validate(jwt_env, token, scopes=("maps",)))
    assert info.subject == info.client_id == robot.client_id  # RFC 9068 §2.2
    assert info.for_client and info.user_id is None


def test_insufficient_scope(jwt_env: Env) -> None:
    token = jwt_env.access_token("account")
    with pytest.raises(InsufficientScopeError) as caught:
        run(_validate(jwt_env, token, scopes=("account", "maps")))
    assert caught.value.required == ("account", "maps")
    assert caught.value.status == 403 and caught.value.error == "insufficient_scope"


def test_wrong_issuer_and_audience(jwt_env: Env) -> None:
    token = jwt_env.access_token()
    _refused(jwt_env, token, "another audience", audience="https://api.example")
    with pytest.raises(InvalidTokenError, match="another issuer"):
        run(_validate_as(jwt_env, token, issuer="https://accounts.example"))


async def _validate_as(env: Env, token: str, *, issuer: str) -> AccessTokenInfo:
    async with httpx.AsyncClient(timeout=20) as client:
        validator = TokenValidator(issuer, jwks_uri=env.url + "/oauth/jwks", audience=env.url,
                                   http_client=client)
        return await validator.validate(token)


def test_expiry_with_leeway(jwt_env: Env) -> None:
    token = jwt_env.access_token()
    exp = decode_part(token, 1)["exp"]
    assert run(_validate(jwt_env, token, clock=lambda: exp + 10, leeway=30)).expires_at == exp
    _refused(jwt_env, token, "expired", clock=lambda: exp + 31, leeway=30)
    _refused(jwt_env, token, "expired", clock=lambda: exp, leeway=0)


def test_issued_in_the_future(jwt_env: Env) -> None:
    token = jwt_env.access_token()
    iat = decode_part(token, 1)["iat"]
    _refused(jwt_env, token, "in the future", clock=lambda: iat - 120, leeway=30)


def test_tampered_claims_break_the_signature(jwt_env: Env) -> None:
    head, body, sig = jwt_env.access_token("account").split(".")
    claims = decode_part(f"{head}.{body}.{sig}", 1)
    claims["scope"] = "account maps"
    _refused(jwt_env, f"{head}.{encode_part(claims)}.{sig}", "signature")


def test_signature_by_another_key_under_the_servers_kid(jwt_env: Env) -> None:
    real_kid = decode_part(jwt_env.access_token(), 0)["kid"]
    forged = mint(keys.generate("RS256"), claims_for(jwt_env.url), kid=real_kid)
    _refused(jwt_env, forged, "signature")


def test_a_trusted_key_is_accepted_so_the_checks_below_test_what_they_say(
    jwt_env: Env, trusted: keys.NewKey
) -> None:
    token = mint(trusted, claims_for(jwt_env.url))
    info = run(_validate(jwt_env, token, relay=Relay([trusted.public_jwk])))
    assert info.subject == "42" and info.client_id == "opc_forged"
    application_typ = mint(trusted, claims_for(jwt_env.url), typ="application/AT+JWT")
    assert run(_validate(jwt_env, application_typ, relay=Relay([trusted.public_jwk])))


@pytest.mark.parametrize("typ", ["JWT", None, "at+jwt2", "jwt"])
def test_wrong_typ(jwt_env: Env, trusted: keys.NewKey, typ: str | None) -> None:
    token = mint(trusted, claims_for(jwt_env.url), typ=typ)
    _refused(jwt_env, token, "typ must be at\\+jwt", relay=Relay([trusted.public_jwk]))


@pytest.mark.parametrize("change, match", [
    ({"iss": "https://evil.example"}, "another issuer"),
    ({"iss": None}, "another issuer"),
    ({"aud": "https://api.example"}, "another audience"),
    ({"aud": ["https://a.example", "https://b.example"]}, "another audience"),
    ({"exp": int(time.time()) - 3600}, "expired"),
    ({"exp": None}, "no 'exp'"),
    ({"exp": "soon"}, "not a number"),
    ({"iat": int(time.time()) + 3600}, "in the future"),
    ({"iat": None}, "no 'iat'"),
    ({"nbf": int(time.time()) + 3600}, "not valid yet"),
    ({"sub": None}, "no 'sub'"),
    ({"client_id": None}, "no 'client_id'"),
])
def test_claims_are_checked(
    jwt_env: Env, trusted: keys.NewKey, change: dict[str, Any], match: str
) -> None:
    token = mint(trusted, claims_for(jwt_env.url, **change))
    _refused(jwt_env, token, match, relay=Relay([trusted.public_jwk]))


def test_audience_in_a_list(jwt_env: Env, trusted: keys.NewKey) -> None:
    token = mint(trusted, claims_for(jwt_env.url, aud=["https://other.example", jwt_env.url]))
    assert run(_validate(jwt_env, token, relay=Relay([trusted.public_jwk]))).subject == "42"


def test_alg_none_is_refused(jwt_env: Env) -> None:
    real_kid = decode_part(jwt_env.access_token(), 0)["kid"]
    _refused(jwt_env, unsigned(claims_for(jwt_env.url), kid=real_kid), "algorithm")
    _refused(jwt_env, unsigned(claims_for(jwt_env.url)), "algorithm")


def _public_key_material(env: Env, kid: str) -> list[bytes]:
    jwk = next(k for k in httpx.get(env.url + "/oauth/jwks").json()["keys"] if k["kid"] == kid)
    public = RSAKey.import_key(jwk).public_key
    return [
        public.public_bytes(serialization.Encoding.PEM,
                            serialization.PublicFormat.SubjectPublicKeyInfo),
        public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1),
        json.dumps(jwk).encode(),
    ]


def test_hs256_with_the_public_key_as_secret_is_refused(jwt_env: Env) -> None:
    real_kid = decode_part(jwt_env.access_token(), 0)["kid"]
    for secret in _public_key_material(jwt_env, real_kid):
        token = hmac_signed(secret, claims_for(jwt_env.url), kid=real_kid)
        _refused(jwt_env, token, "algorithm")


def test_an_oct_key_in_the_jwks_is_never_used(jwt_env: Env) -> None:
    secret = b"s" * 32
    oct_key = {"kty": "oct", "kid": "shared", "k": b64url(secret), "alg": "HS256"}
    token = hmac_signed(secret, claims_for(jwt_env.url), kid="shared")
    _refused(jwt_env, token, "algorithm", relay=Relay([oct_key]))


def test_algorithm_must_match_the_key(jwt_env: Env) -> None:
    ec_key = keys.generate("ES256")
    real_kid = decode_part(jwt_env.access_token(), 0)["kid"]
    forged = mint(ec_key, claims_for(jwt_env.url), kid=real_kid)  # ES256 under an RSA kid
    _refused(jwt_env, forged, "does not match its key")


def test_unknown_kid_refetches_once_then_is_rate_limited(jwt_env: Env) -> None:
    stranger = keys.generate("RS256")
    relay = Relay()
    offset = [0.0]

    async def main() -> None:
        async with httpx.AsyncClient(transport=relay, timeout=20) as client:
            validator = TokenValidator(jwt_env.url, http_client=client, jwks_cache_ttl=3600,
                                       jwks_min_refetch_interval=60,
                                       clock=lambda: time.time() + offset[0])
            await validator.validate(jwt_env.access_token())
            assert relay.counts["/oauth/jwks"] == 1
            forged = mint(stranger, claims_for(jwt_env.url))
            with pytest.raises(InvalidTokenError, match="does not publish"):
                await validator.validate(forged)  # fetched a second ago: no refetch yet
            assert relay.counts["/oauth/jwks"] == 1
            offset[0] = 61
            for _ in range(3):
                with pytest.raises(InvalidTokenError, match="does not publish"):
                    await validator.validate(forged)
            assert relay.counts["/oauth/jwks"] == 2  # one refetch, not three

    run(main())


def test_missing_kid(jwt_env: Env, trusted: keys.NewKey) -> None:
    token = mint(trusted, claims_for(jwt_env.url), kid=None)
    # Openplate always publishes at least the current and the next key.
    _refused(jwt_env, token, "names no key", relay=Relay([trusted.public_jwk]))
    lone = Relay([trusted.public_jwk], only_extra=True)
    assert run(_validate(jwt_env, token, relay=lone)).subject == "42"


def test_id_token_is_not_an_access_token(jwt_env: Env) -> None:
    tokens = jwt_env.tokens("openid account maps")
    assert run(_validate(jwt_env, tokens["access_token"])).scopes >= {"openid"}
    _refused(jwt_env, tokens["id_token"], "typ must be at\\+jwt")
    _refused(jwt_env, tokens["refresh_token"], "refresh token")


@pytest.mark.parametrize("token, match", [
    ("", "malformed"),
    ("a.b.c", "well-formed"),
    ("e30.e30.", "algorithm"),
    ("e30.e30.x", "algorithm"),
    ("eyJhbGciOiJSUzI1NiJ9.e30.x", "typ"),
    (encode_part({"alg": "RS256", "typ": "at+jwt"}) + ".e30.", "well-formed"),
    ("x" * 9000, "malformed"),
    ("eyJ hello", "malformed"),
    ("opat_not-a-jwt", "JWT access tokens"),
])
def test_garbage(jwt_env: Env, token: str, match: str) -> None:
    _refused(jwt_env, token, match)


def test_jwt_mode_refuses_opaque_tokens(jwt_env: Env) -> None:
    _refused(jwt_env, "opat_abc", "JWT access tokens", client_id=jwt_env.app.client_id,
             client_secret=jwt_env.app.client_secret, mode="jwt")


def test_introspection_mode_sees_a_revoked_jwt(jwt_env: Env) -> None:
    token = jwt_env.access_token()
    credentials: dict[str, Any] = {"client_id": jwt_env.app.client_id,
                                   "client_secret": jwt_env.app.client_secret}
    assert run(_validate(jwt_env, token, mode="introspection", **credentials)).username
    jwt_env.revoke(token)
    # Local validation cannot know (the token stays valid until exp): the documented trade-off.
    assert run(_validate(jwt_env, token, **credentials)).source == "jwt"
    _refused(jwt_env, token, "revoked", mode="introspection", **credentials)


def test_discovery(jwt_env: Env) -> None:
    token = jwt_env.access_token()

    async def main() -> None:
        async with await TokenValidator.discover(jwt_env.url) as validator:
            assert validator.jwks_uri == jwt_env.url + "/oauth/jwks"
            assert validator.introspection_endpoint == jwt_env.url + "/oauth/introspect"
            assert (await validator.validate(token, ("maps",))).client_id == jwt_env.app.client_id
        with pytest.raises(ValueError, match="names issuer"):
            await TokenValidator.discover(jwt_env.url + "/")

    run(main())


def test_plain_http_issuers_are_refused_off_loopback() -> None:
    with pytest.raises(ValueError, match="https"):
        TokenValidator("http://accounts.example")
    TokenValidator("http://accounts.example", allow_http=True)
    TokenValidator("https://accounts.example")


def test_es256_and_eddsa_servers(other_alg_env: tuple[str, Env]) -> None:
    alg, env = other_alg_env
    token = env.access_token()
    assert decode_part(token, 0)["alg"] == alg
    assert run(_validate(env, token, scopes=("maps",))).subject == str(env.account.id)
    head, body, sig = token.split(".")
    flipped = sig[:-4] + ("AAAA" if sig[-4:] != "AAAA" else "BBBB")
    _refused(env, f"{head}.{body}.{flipped}", "signature")
