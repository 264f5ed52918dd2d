"""BearerAuthMiddleware in a tiny Starlette API, against both kinds of real Openplate server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from openplate.oauth.oidc import keys
from openplate.resource_server import (
    AccessTokenInfo,
    BearerAuthMiddleware,
    TokenValidator,
    bearer_token,
)
from openplate.resource_server.middleware import MalformedAuthorization
from tests.resource_server.support import Env, claims_for, mint, run


async def whoami(request: Request) -> JSONResponse:
    info: AccessTokenInfo = request.state.openplate_token
    return JSONResponse({"sub": info.subject, "client_id": info.client_id,
                         "scopes": sorted(info.scopes), "source": info.source})


async def public(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


def api(validator: TokenValidator, **options: Any) -> Starlette:
    return Starlette(
        routes=[Route("/me", whoami, methods=["GET", "POST"]), Route("/health", public),
                Route("/public/{rest:path}", public), Route("/healthz", public)],
        middleware=[Middleware(BearerAuthMiddleware, validator=validator, **options)],
    )


async def _call(env: Env, method: str, path: str, *, headers: Any = None,
                validator_options: dict[str, Any] | None = None, **options: Any) -> httpx.Response:
    async with httpx.AsyncClient(timeout=20) as upstream:
        settings = {"client_id": env.app.client_id, "client_secret": env.app.client_secret,
                    **(validator_options or {})}
        validator = TokenValidator(env.url, http_client=upstream, **settings)
        app = api(validator, **options)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
            return await client.request(method, path, headers=headers)


def call(env: Env, path: str, authorization: str | None = None, *, method: str = "GET",
         **options: Any) -> httpx.Response:
    headers = {"Authorization": authorization} if authorization is not None else None
    options.setdefault("required_scopes", ("maps",))
    options.setdefault("exclude_paths", ("/health", "/public/"))
    return run(_call(env, method, path, headers=headers, **options))


@pytest.fixture(params=["jwt_env", "opaque_env"])
def env(request: pytest.FixtureRequest) -> Iterator[Env]:
    yield request.getfixturevalue(request.param)


def _challenge(response: httpx.Response) -> str:
    value: str = response.headers["www-authenticate"]
    return value


def test_200_with_a_bearer_token(env: Env) -> None:
    token = env.access_token("account maps")
    response = call(env, "/me", f"Bearer {token}", method="POST")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["sub"] == str(env.account.id) and body["client_id"] == env.app.client_id
    assert body["scopes"] == ["account", "maps"]
    assert body["source"] == ("jwt" if token.count(".") == 2 else "introspection")
    assert call(env, "/me", f"bearer   {token} ").status_code == 200


def test_200_with_the_bare_biggerplate_header(env: Env) -> None:
    token = env.access_token()
    assert call(env, "/me", token).status_code == 200


def test_401_without_a_token_names_no_error(env: Env) -> None:
    for authorization in (None, "", "Basic dXNlcjpwYXNz", "Bearer"):
        response = call(env, "/me", authorization)
        assert response.status_code == 401, authorization
        assert _challenge(response) == 'Bearer realm="api"'
        assert response.json()["error"] == "invalid_token"
        assert response.headers["cache-control"] == "no-store"


def test_401_for_a_bad_token(env: Env) -> None:
    for token in ("opat_nope", "a.b.c", env.tokens()["refresh_token"]):
        response = call(env, "/me", f"Bearer {token}", realm="maps-api")
        assert response.status_code == 401
        challenge = _challenge(response)
        assert challenge.startswith('Bearer realm="maps-api", error="invalid_token", '
                                    'error_description="')
        assert response.json()["error"] == "invalid_token"


def test_401_for_a_revoked_token(env: Env) -> None:
    token = env.access_token()
    env.revoke(token)
    response = call(env, "/me", f"Bearer {token}", validator_options={"mode": "introspection"})
    assert response.status_code == 401 and 'error="invalid_token"' in _challenge(response)


def test_403_insufficient_scope(env: Env) -> None:
    token = env.access_token("account")
    response = call(env, "/me", f"Bearer {token}", required_scopes=("account", "maps"))
    assert response.status_code == 403
    challenge = _challenge(response)
    assert 'error="insufficient_scope"' in challenge and 'scope="account maps"' in challenge
    assert response.json()["error"] == "insufficient_scope"


def test_400_for_a_malformed_header(env: Env) -> None:
    response = call(env, "/me", "Bearer two tokens")
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"
    assert 'error="invalid_request"' in _challenge(response)
    token = env.access_token()
    twice = run(_call(env, "GET", "/me", headers=[("Authorization", f"Bearer {token}"),
                                                   ("Authorization", f"Bearer {token}")]))
    assert twice.status_code == 400


def test_excluded_paths(env: Env) -> None:
    assert call(env, "/health").text == "ok"
    assert call(env, "/public/anything/here").text == "ok"
    assert call(env, "/healthz").status_code == 401  # exact entries are exact


def test_503_when_the_server_cannot_be_asked(opaque_env: Env) -> None:
    token = opaque_env.access_token()
    response = call(opaque_env, "/me", f"Bearer {token}",
                    validator_options={"client_secret": "opcs_wrong"})
    assert response.status_code == 503
    assert response.json()["error"] == "temporarily_unavailable"
    assert "client_secret" not in response.text  # configuration details stay in the log
    assert "www-authenticate" not in response.headers and response.headers["retry-after"]


def test_lifespan_and_websockets() -> None:
    key = keys.generate("EdDSA")
    issuer = "https://accounts.example"
    jwks = {"keys": [key.public_jwk]}
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=jwks))

    async def main() -> None:
        seen: list[dict[str, Any]] = []

        async def app(scope: Any, receive: Any, send: Any) -> None:
            seen.append(dict(scope))

        async with httpx.AsyncClient(transport=transport) as client:
            middleware = BearerAuthMiddleware(app, TokenValidator(issuer, http_client=client))
            sent: list[Any] = []

            async def receive() -> dict[str, Any]:
                return {"type": "websocket.connect"}

            async def send(message: Any) -> None:
                sent.append(message)

            await middleware({"type": "lifespan"}, receive, send)
            await middleware({"type": "websocket", "path": "/ws", "headers": []}, receive, send)
            assert sent == [{"type": "websocket.close", "code": 1008}]
            good = mint(key, claims_for(issuer)).encode()
            await middleware({"type": "websocket", "path": "/ws",
                              "headers": [(b"authorization", b"Bearer " + good)]}, receive, send)
        assert [s["type"] for s in seen] == ["lifespan", "websocket"]
        assert seen[1]["state"]["openplate_token"].subject == "42"

    run(main())


def test_bearer_token_parsing() -> None:
    assert bearer_token([]) is None
    assert bearer_token([(b"authorization", b"Bearer abc")]) == "abc"
    assert bearer_token([(b"Authorization", b"BEARER  abc ")]) == "abc"
    assert bearer_token([(b"authorization", b"abc")]) == "abc"
    assert bearer_token([(b"authorization", b"Basic abc")]) is None
    assert bearer_token([(b"authorization", b"bearer")]) is None
    with pytest.raises(MalformedAuthorization):
        bearer_token([(b"authorization", b"Bearer a b")])
    with pytest.raises(MalformedAuthorization):
        bearer_token([(b"authorization", b"Bearer a"), (b"authorization", b"Bearer a")])
