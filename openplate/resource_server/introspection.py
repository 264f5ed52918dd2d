"""RFC 7662: asking the authorisation server about an opaque token, with an optional short cache.

Openplate answers ``active: true`` only to the client the token was issued to, so the resource
server introspects with that application's credentials. The cache keys on a SHA-256 digest of
the token (the token itself is never kept) and never outlives the token's ``exp``.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, Literal
from urllib.parse import quote_plus

import httpx

from openplate.resource_server.errors import InvalidTokenError, ValidationUnavailableError
from openplate.resource_server.fetch import fetch_json
from openplate.resource_server.info import AccessTokenInfo, parse_scope

ClientAuth = Literal["client_secret_basic", "client_secret_post"]
INACTIVE: Mapping[str, Any] = MappingProxyType({"active": False})


def basic_credentials(client_id: str, client_secret: str) -> str:
    """RFC 6749 §2.3.1: each half form-urlencoded, then joined and base64-encoded."""
    pair = f"{quote_plus(client_id, safe='')}:{quote_plus(client_secret, safe='')}"
    return "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")


class Introspector:
    """POSTs tokens to the introspection endpoint; remembers answers for ``cache_ttl`` seconds."""

    def __init__(
        self, client: httpx.AsyncClient, endpoint: str, *, client_id: str,
        client_secret: str | None, client_auth: ClientAuth, cache_ttl: float,
        clock: Callable[[], float], max_entries: int = 10_000,
    ) -> None:
        self._client = client
        self._endpoint = endpoint
        self._client_id = client_id
        self._client_secret = client_secret
        self._client_auth = client_auth
        self._cache_ttl = cache_ttl
        self._clock = clock
        self._max_entries = max_entries
        self._cache: dict[bytes, tuple[float, Mapping[str, Any]]] = {}
        #: How many introspection requests were sent (for tests and metrics).
        self.requests = 0

    async def introspect(self, token: str) -> Mapping[str, Any]:
        """The server's answer for ``token`` (``{"active": false}`` included), perhaps cached."""
        key = hashlib.sha256(token.encode("utf-8")).digest()
        now = self._clock()
        cached = self._cache.get(key)
        if cached is not None:
            if cached[0] > now:
                return cached[1]
            del self._cache[key]
        answer = await self._ask(token)
        self._remember(key, answer, now)
        return answer

    def _remember(self, key: bytes, answer: Mapping[str, Any], now: float) -> None:
        if self._cache_ttl <= 0:
            return
        until = now + self._cache_ttl
        exp = answer.get("exp")
        if answer.get("active") is True:
            if isinstance(exp, bool) or not isinstance(exp, int | float):
                return  # no expiry to bound the cache entry by: do not cache
            until = min(until, float(exp))
        if until <= now:
            return
        if len(self._cache) >= self._max_entries:
            for stale in [k for k, (t, _) in self._cache.items() if t <= now]:
                del self._cache[stale]
            while len(self._cache) >= self._max_entries:
                del self._cache[next(iter(self._cache))]  # the oldest entry
        self._cache[key] = (until, answer)

    async def _ask(self, token: str) -> Mapping[str, Any]:
        data = {"token": token, "token_type_hint": "access_token"}
        headers = {"Accept": "application/json"}
        if self._client_secret is not None and self._client_auth == "client_secret_basic":
            headers["Authorization"] = basic_credentials(self._client_id, self._client_secret)
        else:
            data["client_id"] = self._client_id
            if self._client_secret is not None:
                data["client_secret"] = self._client_secret
        self.requests += 1
        status, body = await fetch_json(self._client, "POST", self._endpoint,
                                        what="introspection endpoint", data=data, headers=headers)
        if status == 200 and isinstance(body, dict) and isinstance(body.get("active"), bool):
            return MappingProxyType(body) if body["active"] else INACTIVE
        error = body.get("error") if isinstance(body, dict) else None
        if status in (400, 401):
            # The token cannot make the request malformed: these mean our own credentials or
            # configuration are wrong, which must not be blamed on the caller's token.
            raise ValidationUnavailableError(
                f"The introspection endpoint refused this resource server (HTTP {status}, "
                f"{error if isinstance(error, str) else 'no error code'}); check client_id and "
                "client_secret.")
        raise ValidationUnavailableError(f"The introspection endpoint answered HTTP {status}.")


def _int(answer: Mapping[str, Any], name: str) -> int | None:
    value = answer.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)


def token_info(
    answer: Mapping[str, Any], *, issuer: str, audience: str, now: float, leeway: int
) -> AccessTokenInfo:
    """Check an introspection answer the way a JWT's claims are checked, and describe the token."""
    if answer.get("active") is not True:
        raise InvalidTokenError("The access token is invalid, expired or revoked.")
    token_type = answer.get("token_type")
    if token_type is not None and (not isinstance(token_type, str)
                                   or token_type.lower() not in ("bearer", "dpop")):
        # Openplate also reports refresh tokens as active (token_type "refresh_token").
        raise InvalidTokenError("The token is not an access token.")
    if "iss" in answer and answer["iss"] != issuer:
        raise InvalidTokenError("The token was issued by another issuer.")
    if "aud" in answer:
        aud = answer["aud"]
        audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
        if audience not in audiences:
            raise InvalidTokenError("The token is meant for another audience.")
    exp = _int(answer, "exp")
    if exp is None:
        raise InvalidTokenError("The introspection answer gives no expiry.")
    if now >= exp + leeway:
        raise InvalidTokenError("The token has expired.")
    subject, client_id, username = answer.get("sub"), answer.get("client_id"), answer.get("username")
    if not isinstance(subject, str) or not subject or not isinstance(client_id, str) or not client_id:
        raise InvalidTokenError("The introspection answer names no subject or client.")
    return AccessTokenInfo(
        subject=subject,
        client_id=client_id,
        scopes=parse_scope(answer.get("scope")),
        expires_at=exp,
        username=username if isinstance(username, str) else None,
        issued_at=_int(answer, "iat"),
        source="introspection",
        claims=MappingProxyType(dict(answer)),
    )
