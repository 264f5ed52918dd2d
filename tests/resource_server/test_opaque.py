"""Opaque access tokens from a real Openplate server, validated by RFC 7662 introspection."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from openplate.oauth.oidc import keys
from openplate.resource_server import (
    AccessTokenInfo,
    InsufficientScopeError,
    InvalidTokenError,
    TokenValidator,
    ValidationUnavailableError,
    validate_sync,
)
from openplate.resource_server.introspection import basic_credentials, token_info
from tests.resource_server.support import Env, Relay, claims_for, mint, run


def _credentials(env: Env) -> dict[str, Any]:
    return {"client_id": env.app.client_id, "client_secret": env.app.client_secret}


async def _validate(env: Env, token: str, *, relay: Relay | None = None,
                    scopes: tuple[str, ...] = (), **options: Any) -> AccessTokenInfo:
    options = {**_credentials(env), **options}
    async with httpx.AsyncClient(transport=relay or Relay(), timeout=20) as client:
        validator = TokenValidator(env.url, http_client=client, **options)
        return await validator.validate(token, scopes)


def _refused(env: Env, token: str, match: str, **options: Any) -> None:
    with pytest.raises(InvalidTokenError, match=match):
        run(_validate(env, token, **options))


def test_a_real_opaque_token_validates(opaque_env: Env) -> None:
    token = opaque_env.access_token("account maps")
    assert token.startswith("opat_")
    for auth in ("client_secret_basic", "client_secret_post"):
        info = run(_validate(opaque_env, token, scopes=("maps", "account"), client_auth=auth))
        assert info.subject == str(opaque_env.account.id)
        assert info.username == opaque_env.account.username
        assert info.client_id == opaque_env.app.client_id
        assert info.scopes == frozenset({"account", "maps"})
        assert info.source == "introspection"
        assert info.issued_at is not None and info.expires_at > time.time()
        assert info.claims["iss"] == opaque_env.url


def test_a_client_credentials_token_is_not_a_users(opaque_env: Env) -> None:
    robot, token = opaque_env.client_token()
    info = run(_validate(opaque_env, token, scopes=("maps",), client_id=robot.client_id,
                         client_secret=robot.client_secret))
    assert info.subject == info.client_id == robot.client_id
    assert info.for_client and info.user_id is None and info.username is None


def test_validate_sync(opaque_env: Env) -> None:
    token = opaque_env.access_token()
    info = validate_sync(token, issuer=opaque_env.url, required_scopes=("maps",),
                         **_credentials(opaque_env))
    assert info.username == opaque_env.account.username


def test_insufficient_scope(opaque_env: Env) -> None:
    token = opaque_env.access_token("account")
    with pytest.raises(InsufficientScopeError) as caught:
        run(_validate(opaque_env, token, scopes=("maps",)))
    assert caught.value.required == ("maps",) and caught.value.granted == {"account"}


def test_revoked_token_is_invalid(opaque_env: Env) -> None:
    token = opaque_env.access_token()
    assert run(_validate(opaque_env, token)).subject
    opaque_env.revoke(token)
    _refused(opaque_env, token, "revoked")


def test_expired_on_the_server(opaque_env: Env) -> None:
    token = opaque_env.access_token()
    opaque_env.seeder.execute("UPDATE access_tokens SET expires_at = :t WHERE digest = :d",
                              t=int(time.time()) - 5, d=opaque_env.seeder.digester.digest(token))
    _refused(opaque_env, token, "expired")


def test_expired_by_our_clock(opaque_env: Env) -> None:
    token = opaque_env.access_token()
    exp = run(_validate(opaque_env, token)).expires_at
    _refused(opaque_env, token, "expired", clock=lambda: exp + 31)


def test_another_applications_credentials_see_an_inactive_token(opaque_env: Env) -> None:
    token = opaque_env.access_token()
    other = opaque_env.new_app()
    _refused(opaque_env, token, "invalid", client_id=other.client_id,
             client_secret=other.client_secret)


def test_wrong_client_secret_is_our_fault_not_the_tokens(opaque_env: Env) -> None:
    token = opaque_env.access_token()
    with pytest.raises(ValidationUnavailableError, match="client_id and client_secret"):
        run(_validate(opaque_env, token, client_secret="opcs_wrong"))


def test_wrong_issuer_and_audience(opaque_env: Env) -> None:
    token = opaque_env.access_token()
    _refused(opaque_env, token, "another audience", audience="https://api.example")

    async def as_another_issuer() -> AccessTokenInfo:
        async with TokenValidator("https://accounts.example", audience=opaque_env.url,
                                  introspection_endpoint=opaque_env.url + "/oauth/introspect",
                                  **_credentials(opaque_env)) as validator:
            return await validator.validate(token)

    with pytest.raises(InvalidTokenError, match="another issuer"):
        run(as_another_issuer())


def test_refresh_tokens_are_not_access_tokens(opaque_env: Env) -> None:
    tokens = opaque_env.tokens()
    _refused(opaque_env, tokens["refresh_token"], "refresh token")

    async def main() -> None:
        # Openplate reports a refresh token as active to its client; the answer must still fail.
        async with TokenValidator(opaque_env.url, **_credentials(opaque_env)) as validator:
            assert validator.introspector is not None
            answer = await validator.introspector.introspect(tokens["refresh_token"])
        assert answer["active"] is True and answer["token_type"] == "refresh_token"
        with pytest.raises(InvalidTokenError, match="not an access token"):
            token_info(answer, issuer=opaque_env.url, audience=opaque_env.url, now=time.time(),
                       leeway=30)

    run(main())


@pytest.mark.parametrize("token", ["opat_nope", "opat_" + "A" * 43, "whatever", "opat_x.y"])
def test_unknown_tokens(opaque_env: Env, token: str) -> None:
    _refused(opaque_env, token, "invalid")


def test_malformed_tokens_never_reach_the_server(opaque_env: Env) -> None:
    relay = Relay()
    for token in ("opat_ a", "opat_\u00e9", "opat_\n", "x" * 9000):
        _refused(opaque_env, token, "malformed", relay=relay)
    assert relay.counts["/oauth/introspect"] == 0


def test_without_credentials_opaque_tokens_are_refused(opaque_env: Env) -> None:
    token = opaque_env.access_token()
    _refused(opaque_env, token, "JWT access tokens", client_id=None, client_secret=None)
    _refused(opaque_env, token, "JWT access tokens", mode="jwt")


def test_cache_is_off_by_default(opaque_env: Env) -> None:
    token = opaque_env.access_token()
    relay = Relay()

    async def main() -> None:
        async with httpx.AsyncClient(transport=relay, timeout=20) as client:
            validator = TokenValidator(opaque_env.url, http_client=client, **_credentials(opaque_env))
            await validator.validate(token)
            await validator.validate(token)
            opaque_env.revoke(token)
            with pytest.raises(InvalidTokenError):
                await validator.validate(token)
        assert relay.counts["/oauth/introspect"] == 3

    run(main())


def test_cache_holds_answers_for_its_ttl_but_never_past_exp(opaque_env: Env) -> None:
    token = opaque_env.access_token()
    relay = Relay()
    now = [time.time()]

    async def main() -> None:
        async with httpx.AsyncClient(transport=relay, timeout=20) as client:
            validator = TokenValidator(opaque_env.url, http_client=client, introspection_cache_ttl=30,
                                       leeway=0, clock=lambda: now[0], **_credentials(opaque_env))
            exp = (await validator.validate(token)).expires_at
            await validator.validate(token)
            assert relay.counts["/oauth/introspect"] == 1
            now[0] += 31  # past the cache's lifetime: asked again
            await validator.validate(token)
            assert relay.counts["/oauth/introspect"] == 2
            now[0] = exp - 5  # an answer cached now may live only 5 s, not 30
            await validator.validate(token)
            await validator.validate(token)
            assert relay.counts["/oauth/introspect"] == 3
            now[0] = exp - 0.5
            await validator.validate(token)
            assert relay.counts["/oauth/introspect"] == 3
            now[0] = exp + 1
            with pytest.raises(InvalidTokenError, match="expired"):
                await validator.validate(token)
            assert relay.counts["/oauth/introspect"] == 4
            # The trade-off of a cache: a revoked token is accepted until its entry lapses.
            now[0] = time.time()
            await validator.validate(token)
            opaque_env.revoke(token)
            await validator.validate(token)
            now[0] += 31
            with pytest.raises(InvalidTokenError, match="revoked"):
                await validator.validate(token)

    run(main())


def test_server_unreachable_is_unavailable_not_invalid(opaque_env: Env) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    async def main() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as client:
            validator = TokenValidator(opaque_env.url, http_client=client, **_credentials(opaque_env))
            with pytest.raises(ValidationUnavailableError):
                await validator.validate("opat_" + "a" * 43)
            with pytest.raises(ValidationUnavailableError):
                await validator.validate(mint(keys.generate("ES256"), claims_for(opaque_env.url)))

    run(main())


@pytest.mark.parametrize("status, body", [
    (500, {"error": "server_error"}),
    (429, {"error": "too_many_requests"}),
    (200, {"no": "active"}),
    (200, ["active", True]),
])
def test_odd_answers_are_unavailable(opaque_env: Env, status: int, body: object) -> None:
    async def main() -> None:
        transport = httpx.MockTransport(lambda request: httpx.Response(status, json=body))
        async with httpx.AsyncClient(transport=transport) as client:
            validator = TokenValidator(opaque_env.url, http_client=client, **_credentials(opaque_env))
            with pytest.raises(ValidationUnavailableError):
                await validator.validate("opat_" + "a" * 43)

    run(main())


def test_basic_credentials_are_form_encoded_first() -> None:
    import base64

    header = basic_credentials("opc_a b", "s:e/c+r%t")
    decoded = base64.b64decode(header.removeprefix("Basic ")).decode()
    assert decoded == "opc_a+b:s%3Ae%2Fc%2Br%25t"
