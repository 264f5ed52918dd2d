"""RFC 7517 key sets: fetch the issuer's JWKS, keep it for a while, refetch once for a new ``kid``.

Only asymmetric signature keys are kept: RSA of at least 2048 bits for RS256, P-256 for ES256 and
Ed25519 for EdDSA. Symmetric (``oct``) keys and anything else in the set are ignored, so a key
set can never make an HMAC "signature" acceptable.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, OKPKey, RSAKey

from openplate.resource_server.errors import InvalidTokenError, ValidationUnavailableError
from openplate.resource_server.fetch import fetch_json

log = logging.getLogger("openplate.resource_server")

#: The only signature algorithms accepted, ever: no "none", no HS*, no RSA-PSS surprises.
ALLOWED_ALGORITHMS = frozenset({"RS256", "ES256", "EdDSA"})
MIN_RSA_BITS = 2048

PublicKey = RSAKey | ECKey | OKPKey


@dataclass(frozen=True, slots=True)
class VerificationKey:
    """One published public key, bound to the single algorithm it may verify."""

    kid: str | None
    alg: str
    key: PublicKey


def _b64_bits(value: object) -> int:
    if not isinstance(value, str):
        return 0
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        return 0
    return int.from_bytes(raw, "big").bit_length()


def _implied_alg(jwk: Mapping[str, Any]) -> str | None:
    kty, crv = jwk.get("kty"), jwk.get("crv")
    if kty == "RSA":
        return "RS256"
    if kty == "EC" and crv == "P-256":
        return "ES256"
    if kty == "OKP" and crv == "Ed25519":
        return "EdDSA"
    return None


def parse_key(jwk: object) -> VerificationKey | None:
    """A usable verification key from one JWK, or None when it is not one we may trust."""
    if not isinstance(jwk, dict):
        return None
    alg = _implied_alg(jwk)
    if alg is None or jwk.get("alg", alg) != alg:
        return None  # unknown key type, or a key declared for another algorithm
    if jwk.get("use", "sig") != "sig":
        return None
    ops = jwk.get("key_ops")
    if ops is not None and (not isinstance(ops, list) or "verify" not in ops):
        return None
    kid = jwk.get("kid")
    if kid is not None and not isinstance(kid, str):
        return None
    public = {k: v for k, v in jwk.items() if k not in ("d", "p", "q", "dp", "dq", "qi", "oth")}
    key: PublicKey
    try:
        if alg == "RS256":
            if _b64_bits(public.get("n")) < MIN_RSA_BITS:
                return None
            key = RSAKey.import_key(public)
        elif alg == "ES256":
            key = ECKey.import_key(public)
        else:
            key = OKPKey.import_key(public)
    except (JoseError, ValueError, TypeError, KeyError):
        return None
    return VerificationKey(kid, alg, key)


def parse_key_set(document: object) -> tuple[VerificationKey, ...]:
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError("not a JWK set")
    return tuple(k for k in (parse_key(item) for item in document["keys"]) if k is not None)


class JwksCache:
    """The issuer's keys, fetched lazily, kept ``ttl`` seconds, refetched for an unknown ``kid``.

    An unknown ``kid`` triggers at most one refetch per ``min_refetch_interval`` seconds, so a
    stream of forged tokens cannot turn the resource server against the JWKS endpoint. When a
    refresh fails, the keys already held stay in use for up to ``max_stale`` seconds more.
    """

    def __init__(
        self, client: httpx.AsyncClient, uri: str, *, ttl: float, min_refetch_interval: float,
        max_stale: float, clock: Callable[[], float],
    ) -> None:
        self._client = client
        self._uri = uri
        self._ttl = ttl
        self._min_refetch = min_refetch_interval
        self._max_stale = max_stale
        self._clock = clock
        self._keys: tuple[VerificationKey, ...] = ()
        self._fetched_at: float | None = None
        self._last_attempt: float | None = None
        self._lock: asyncio.Lock | None = None
        self._attempts = 0  # finished download attempts: lets waiters skip a duplicate fetch
        self._last_ok = False
        #: How many times the key set was downloaded (for tests and metrics).
        self.fetches = 0

    @property
    def keys(self) -> tuple[VerificationKey, ...]:
        return self._keys

    async def key_candidates(self, kid: str | None, alg: str) -> tuple[VerificationKey, ...]:
        """The keys that may have signed a token with this header; InvalidTokenError if none."""
        refreshed = False
        if self._fetched_at is None or self._clock() - self._fetched_at >= self._ttl:
            if self._fetched_at is None or self._may_retry():
                await self._refresh(self._attempts)
                refreshed = True
            if self._fetched_at is None or self._clock() - self._fetched_at >= self._ttl + self._max_stale:
                raise ValidationUnavailableError("The issuer's keys could not be fetched.")
        found = self._match(kid, alg)
        if found is None and not refreshed and self._may_retry():
            if not await self._refresh(self._attempts):
                raise ValidationUnavailableError("The issuer's keys could not be refreshed.")
            found = self._match(kid, alg)
        if found is None:
            raise InvalidTokenError("The token was signed with a key this issuer does not publish.")
        return found

    def _may_retry(self) -> bool:
        return self._last_attempt is None or self._clock() - self._last_attempt >= self._min_refetch

    def _match(self, kid: str | None, alg: str) -> tuple[VerificationKey, ...] | None:
        if kid is None:
            if len(self._keys) > 1:
                raise InvalidTokenError("The token names no key (kid) and the issuer has several.")
            candidates = self._keys
        else:
            candidates = tuple(k for k in self._keys if k.kid == kid)
        usable = tuple(k for k in candidates if k.alg == alg)
        if candidates and not usable:
            raise InvalidTokenError("The token's algorithm does not match its key.")
        return usable or None

    async def _refresh(self, seen_attempts: int) -> bool:
        """Download the key set; False if that failed but the keys held may still serve."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._attempts != seen_attempts:
                return self._last_ok  # another task tried while this one waited: no second fetch
            self._last_attempt = self._clock()
            try:
                keys = await self._download()
            except ValidationUnavailableError:
                self._attempts += 1
                self._last_ok = False
                age = None if self._fetched_at is None else self._clock() - self._fetched_at
                if age is not None and age < self._ttl + self._max_stale:
                    log.warning("JWKS refresh from %s failed; using keys fetched %.0fs ago",
                                self._uri, age)
                    return False
                raise
            self._attempts += 1
            self._last_ok = True
            self._keys = keys
            self._fetched_at = self._clock()
            log.debug("fetched %d key(s) from %s", len(keys), self._uri)
            return True

    async def _download(self) -> tuple[VerificationKey, ...]:
        self.fetches += 1
        status, document = await fetch_json(
            self._client, "GET", self._uri, what="issuer's key set (JWKS)",
            headers={"Accept": "application/jwk-set+json, application/json"},
        )
        if status != 200:
            raise ValidationUnavailableError(f"The issuer's keys could not be fetched (HTTP {status}).")
        try:
            return parse_key_set(document)
        except ValueError:
            raise ValidationUnavailableError("The issuer's key set is not a JWK set.") from None
