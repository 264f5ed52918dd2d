"""BearerAuthMiddleware: pure ASGI, RFC 6750 §2.1 in and §3 errors out, for any ASGI framework.

A request passes with its validated token in ``scope["state"]["openplate_token"]`` (Starlette
and FastAPI: ``request.state.openplate_token``); otherwise it is answered here with 401
``invalid_token``, 403 ``insufficient_scope``, 400 ``invalid_request`` or 503 (the authorisation
server could not be asked), with a JSON body and, for 401 and 403, a ``WWW-Authenticate``
challenge.

Given the API's ``public_url``, it also takes DPoP-bound tokens (RFC 9449 §7): ``Authorization:
DPoP <token>`` with a ``DPoP`` proof of the token's key, checked by openplate.oauth.dpop (each
proof once per process: ``InProcessLedger``; give several processes a shared ``ledger``). A
DPoP-bound token sent as a bearer token is refused, configured or not.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

from openplate.oauth.dpop import DPOP_ALGORITHMS, DPoPProof, ProofPolicy, check_proof, one_proof
from openplate.oauth.errors import OAuthError
from openplate.oauth.ports import ProofLedger
from openplate.resource_server.errors import (
    BoundTokenAsBearerError,
    InsufficientScopeError,
    InvalidDPoPProofError,
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


def credential(headers: Iterable[tuple[bytes, bytes]]) -> tuple[str, str] | None:
    """("bearer" or "dpop", the token) of ``Authorization: Bearer|DPoP <token>``, or of the bare
    ``Authorization: <token>`` the original Biggerplate clients send ("bearer"); None when no
    such credential was offered."""
    values = [v for k, v in headers if k.lower() == b"authorization"]
    if not values:
        return None
    if len(values) > 1:
        raise MalformedAuthorization("Send one Authorization header.")
    value = values[0].decode("latin-1").strip()
    scheme, sep, rest = value.partition(" ")
    if not sep:
        return None if not value or value.lower() in ("bearer", "dpop") else ("bearer", value)
    if scheme.lower() not in ("bearer", "dpop"):
        return None  # another scheme (Basic, ...): no bearer credential was offered
    token = rest.strip()
    if not token or " " in token or "\t" in token:
        raise MalformedAuthorization("Malformed Authorization header.")
    return scheme.lower(), token


def bearer_token(headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    """The token of ``Authorization: Bearer <token>`` or of the bare ``Authorization: <token>``
    the original Biggerplate clients send; None when no bearer credential was offered."""
    found = credential(headers)
    return found[1] if found is not None and found[0] == "bearer" else None


class InProcessLedger:
    """RFC 9449 §11.1 in one process: each proof (key and ``jti``) once, until it is too old."""

    def __init__(self, limit: int = 100_000) -> None:
        self._seen: dict[str, int] = {}
        self._limit = limit

    async def first_use(self, *, key: str, expires_at: int, now: int) -> bool:
        if len(self._seen) >= self._limit:
            self._seen = {k: t for k, t in self._seen.items() if t > now}
            if len(self._seen) >= self._limit:
                return False  # fail closed rather than forget live proofs
        if self._seen.get(key, 0) > now:
            return False
        self._seen[key] = expires_at
        return True


def _digest(name: str) -> str:
    return hashlib.sha256(name.encode("utf-8")).hexdigest()


class BearerAuthMiddleware:
    """Let a request through only with a valid Openplate access token.

    ``required_scopes`` apply to every protected path (check finer scopes in the handler with
    ``require_scopes``). ``exclude_paths`` are left alone: an entry ending in ``/`` excludes
    every path under it, any other entry exactly that path. WebSocket handshakes are checked
    too and closed (HTTP 403) without a valid token; lifespan events pass through.
    """

    def __init__(
        self, app: ASGIApp, validator: TokenValidator, *, required_scopes: Iterable[str] = (),
        exclude_paths: Iterable[str] = (), realm: str = "api", public_url: str | None = None,
        dpop_policy: ProofPolicy | None = None, ledger: ProofLedger | None = None,
    ) -> None:
        self.app = app
        self.validator = validator
        self.required_scopes = tuple(required_scopes)
        excluded = tuple(exclude_paths)
        self.exclude_exact = frozenset(p for p in excluded if not p.endswith("/"))
        self.exclude_prefixes = tuple(p for p in excluded if p.endswith("/"))
        self.realm = realm
        #: The API's own public URL (scheme, host, any path prefix): DPoP proofs name it (htu).
        self.public_url = public_url.rstrip("/") if public_url else None
        self.dpop_policy = dpop_policy or ProofPolicy()
        self.ledger: ProofLedger = ledger or InProcessLedger()

    def _excluded(self, path: str) -> bool:
        return path in self.exclude_exact or path.startswith(self.exclude_prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or self._excluded(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        offered = dpop = False
        try:
            found = credential(scope.get("headers", ()))
            if found is None or (found[0] == "dpop" and self.public_url is None):
                raise InvalidTokenError("An access token is required.")
            offered = True
            dpop = found[0] == "dpop"
            proof = await self._proof(scope, found[1]) if dpop else None
            info = await self.validator.validate(found[1], self.required_scopes, proof=proof)
        except TokenValidationError as error:
            offered = offered or isinstance(error, MalformedAuthorization)
            if isinstance(error, ValidationUnavailableError):
                log.warning("token validation unavailable: %s", error.description)
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
                return
            await self._reject(send, error, offered=offered, dpop=dpop)
            return
        state = dict(scope.get("state") or {})
        state[STATE_KEY] = info
        await self.app({**scope, "state": state}, receive, send)

    async def _proof(self, scope: Scope, token: str) -> DPoPProof:
        """The request's DPoP proof, checked (RFC 9449 §4.3, with ``ath`` and replay)."""
        assert self.public_url is not None
        values = [v.decode("latin-1") for k, v in scope.get("headers", ()) if k.lower() == b"dpop"]
        try:
            proof = one_proof(values)
            if proof is None:
                raise InvalidDPoPProofError("The DPoP scheme needs a DPoP header with a proof.")
            return await check_proof(
                proof, method=scope.get("method", "GET"), url=self.public_url + scope["path"],
                now=int(time.time()), policy=self.dpop_policy, ledger=self.ledger,
                digest=_digest, access_token=token)
        except OAuthError as error:
            raise InvalidDPoPProofError(error.description) from None

    async def _reject(self, send: Send, error: TokenValidationError, *, offered: bool,
                      dpop: bool = False) -> None:
        headers = [(b"content-type", b"application/json"), (b"cache-control", b"no-store")]
        if error.status in (400, 401, 403):
            # RFC 6750 §3.1: no error code when the request carried no token at all.
            parts = [f"realm={_quoted(self.realm)}"]
            named = []
            if offered:
                named = [f"error={_quoted(error.error)}",
                         f"error_description={_quoted(error.description)}"]
            if isinstance(error, InsufficientScopeError):
                named.append(f"scope={_quoted(' '.join(error.required))}")
            # RFC 9449 §7.1: with DPoP accepted both schemes are challenged, the error in the
            # one the token came with (DPoP for a proof's error or a bound token as bearer).
            on_dpop = self.public_url is not None and (
                dpop or isinstance(error, InvalidDPoPProofError | BoundTokenAsBearerError))
            bearer = "Bearer " + ", ".join(parts + ([] if on_dpop else named))
            challenges = [bearer]
            if self.public_url is not None:
                algs = f'algs="{" ".join(DPOP_ALGORITHMS)}"'
                challenge = "DPoP " + ", ".join([*parts, algs, *(named if on_dpop else [])])
                challenges.insert(0 if on_dpop else 1, challenge)
            for challenge in challenges:
                headers.append((b"www-authenticate", challenge.encode("ascii")))
        elif isinstance(error, ValidationUnavailableError):
            headers.append((b"retry-after", b"5"))
        body = json.dumps({"error": error.error, "error_description": (
            "The access token cannot be checked right now; try again shortly."
            if isinstance(error, ValidationUnavailableError) else error.description)}).encode()
        headers.append((b"content-length", str(len(body)).encode("ascii")))
        await send({"type": "http.response.start", "status": error.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
