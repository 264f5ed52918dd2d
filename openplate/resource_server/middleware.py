"""BearerAuthMiddleware: pure ASGI, RFC 6750 §2.1 in and §3 errors out, for any ASGI framework.

A request passes with its validated token in ``scope["state"]["openplate_token"]`` (Starlette
and FastAPI: ``request.state.openplate_token``); otherwise it is answered here with 401
``invalid_token``, 403 ``insufficient_scope``, 400 ``invalid_request`` or 503 (the authorisation
server could not be asked), with a JSON body and, for 401 and 403, a ``WWW-Authenticate``
challenge.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

from openplate.resource_server.errors import (
    InsufficientScopeError,
    InvalidTokenError,
    TokenValidationError,
    ValidationUnavailableError,
)
from openplate.resource_server.validator import TokenValidator

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

STATE_KEY = "openplate_token"
log = logging.getLogger("openplate.resource_server")


class MalformedAuthorization(TokenValidationError):
    """RFC 6750 §3.1 invalid_request: a header that is not one well-formed credential."""

    error = "invalid_request"
    status = 400


def _quoted(value: str) -> str:
    """A quoted-string for the challenge, keeping only the characters RFC 6750 §3 allows."""
    return '"' + "".join(c for c in value if 0x20 <= ord(c) <= 0x7E and c not in '"\\') + '"'


def bearer_token(headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    """The token of ``Authorization: Bearer <token>`` or of the bare ``Authorization: <token>``
    the original Biggerplate clients send; None when no bearer credential was offered."""
    values = [v for k, v in headers if k.lower() == b"authorization"]
    if not values:
        return None
    if len(values) > 1:
        raise MalformedAuthorization("Send one Authorization header.")
    value = values[0].decode("latin-1").strip()
    scheme, sep, rest = value.partition(" ")
    if not sep:
        return None if not value or value.lower() == "bearer" else value
    if scheme.lower() != "bearer":
        return None  # another scheme (Basic, ...): no bearer credential was offered
    token = rest.strip()
    if not token or " " in token or "\t" in token:
        raise MalformedAuthorization("Malformed Authorization header.")
    return token


class BearerAuthMiddleware:
    """Let a request through only with a valid Openplate access token.

    ``required_scopes`` apply to every protected path (check finer scopes in the handler with
    ``require_scopes``). ``exclude_paths`` are left alone: an entry ending in ``/`` excludes
    every path under it, any other entry exactly that path. WebSocket handshakes are checked
    too and closed (HTTP 403) without a valid token; lifespan events pass through.
    """

    def __init__(
        self, app: ASGIApp, validator: TokenValidator, *, required_scopes: Iterable[str] = (),
        exclude_paths: Iterable[str] = (), realm: str = "api",
    ) -> None:
        self.app = app
        self.validator = validator
        self.required_scopes = tuple(required_scopes)
        excluded = tuple(exclude_paths)
        self.exclude_exact = frozenset(p for p in excluded if not p.endswith("/"))
        self.exclude_prefixes = tuple(p for p in excluded if p.endswith("/"))
        self.realm = realm

    def _excluded(self, path: str) -> bool:
        return path in self.exclude_exact or path.startswith(self.exclude_prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or self._excluded(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        offered = False
        try:
            token = bearer_token(scope.get("headers", ()))
            if token is None:
                raise InvalidTokenError("An access token is required.")
            offered = True
            info = await self.validator.validate(token, self.required_scopes)
        except TokenValidationError as error:
            offered = offered or isinstance(error, MalformedAuthorization)
            if isinstance(error, ValidationUnavailableError):
                log.warning("token validation unavailable: %s", error.description)
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
                return
            await self._reject(send, error, offered=offered)
            return
        state = dict(scope.get("state") or {})
        state[STATE_KEY] = info
        await self.app({**scope, "state": state}, receive, send)

    async def _reject(self, send: Send, error: TokenValidationError, *, offered: bool) -> None:
        headers = [(b"content-type", b"application/json"), (b"cache-control", b"no-store")]
        if error.status in (400, 401, 403):
            # RFC 6750 §3.1: no error code when the request carried no token at all.
            parts = [f"realm={_quoted(self.realm)}"]
            if offered:
                parts += [f"error={_quoted(error.error)}",
                          f"error_description={_quoted(error.description)}"]
            if isinstance(error, InsufficientScopeError):
                parts.append(f"scope={_quoted(' '.join(error.required))}")
            headers.append((b"www-authenticate", ("Bearer " + ", ".join(parts)).encode("ascii")))
        elif isinstance(error, ValidationUnavailableError):
            headers.append((b"retry-after", b"5"))
        body = json.dumps({"error": error.error, "error_description": (
            "The access token cannot be checked right now; try again shortly."
            if isinstance(error, ValidationUnavailableError) else error.description)}).encode()
        headers.append((b"content-length", str(len(body)).encode("ascii")))
        await send({"type": "http.response.start", "status": error.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
