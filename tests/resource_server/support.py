"""Helpers for the resource-server tests: real tokens from a live server, and forged ones."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from collections import Counter
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

from openplate.oauth.oidc import keys
from openplate.oauth.oidc.jws import b64url, sign_compact
from tests.support.browser_flow import obtain_code
from tests.support.seed import Account, App, Seeder
from tests.support.server import LiveServer
from tests.support.tokens import exchange

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


@dataclass
class Env:
    """A live server with one user and one confidential application registered on it."""

    live: LiveServer
    seeder: Seeder
    account: Account
    app: App

    @property
    def url(self) -> str:
        return self.live.url

    def tokens(self, scope: str = "account maps", *, app: App | None = None) -> dict[str, Any]:
        app = app or self.app
        code = obtain_code(self.url, self.account, app.client_id, app.redirect_uris[0], scope=scope)
        response = exchange(self.url, app, code)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def access_token(self, scope: str = "account maps", *, app: App | None = None) -> str:
        token: str = self.tokens(scope, app=app)["access_token"]
        return token

    def revoke(self, token: str, *, app: App | None = None) -> None:
        app = app or self.app
        assert app.client_secret is not None
        response = httpx.post(self.url + "/oauth/revoke", data={"token": token},
                              auth=(app.client_id, app.client_secret), timeout=20)
        assert response.status_code == 200, response.text

    def client_token(self) -> tuple[App, str]:
        """A client-credentials token of a new application of this user's (scope maps)."""
        robot = self.seeder.app(self.account, redirect_uris=(), grant_types=("client_credentials",))
        assert robot.client_secret is not None
        response = httpx.post(self.url + "/oauth/token", data={"grant_type": "client_credentials"},
                              auth=(robot.client_id, robot.client_secret), timeout=20)
        assert response.status_code == 200, response.text
        return robot, str(response.json()["access_token"])

    def new_app(self) -> App:
        return self.seeder.app(self.account, redirect_uris=("http://localhost:13524/",))


def new_env(live: LiveServer) -> Env:
    seeder = Seeder(live)
    account = seeder.user("rs")
    return Env(live, seeder, account, seeder.app(account, redirect_uris=("http://localhost:13524/",)))


def decode_part(token: str, index: int) -> dict[str, Any]:
    part = token.split(".")[index]
    value: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return value


def encode_part(value: dict[str, Any]) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def claims_for(issuer: str, *, audience: str | None = None, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": issuer, "exp": now + 600, "aud": audience or issuer, "sub": "42",
        "client_id": "opc_forged", "iat": now, "jti": "opat_forged", "scope": "account maps",
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def mint(key: keys.NewKey, claims: dict[str, Any], **header: Any) -> str:
    """A JWT signed with ``key``; header defaults to alg of the key, its kid and typ at+jwt."""
    full = {"alg": key.alg, "kid": key.kid, "typ": "at+jwt", **header}
    full = {k: v for k, v in full.items() if v is not None}
    return sign_compact(full, claims, keys.load_private(key.private_pem))


def unsigned(claims: dict[str, Any], **header: Any) -> str:
    """alg "none" (RFC 7519 §6): an empty signature."""
    return f"{encode_part({'alg': 'none', 'typ': 'at+jwt', **header})}.{encode_part(claims)}."


def hmac_signed(secret: bytes, claims: dict[str, Any], **header: Any) -> str:
    head = encode_part({"alg": "HS256", "typ": "at+jwt", **header})
    signing_input = f"{head}.{encode_part(claims)}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(mac)}"


@dataclass
class Relay(httpx.AsyncBaseTransport):
    """Forwards to the real server, counts requests per path, and can add keys to its JWKS
    (``extra_keys``) or serve only those (``only_extra``): how forged tokens get "trusted" keys."""

    extra_keys: list[dict[str, Any]] = field(default_factory=list)
    only_extra: bool = False
    counts: Counter[str] = field(default_factory=Counter)
    inner: httpx.AsyncBaseTransport = field(default_factory=httpx.AsyncHTTPTransport)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.counts[request.url.path] += 1
        if request.url.path == "/oauth/jwks" and (self.extra_keys or self.only_extra):
            published: list[dict[str, Any]] = []
            if not self.only_extra:
                response = await self.inner.handle_async_request(request)
                await response.aread()
                published = json.loads(response.content)["keys"]
            return httpx.Response(200, json={"keys": published + self.extra_keys})
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()
