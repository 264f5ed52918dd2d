"""TokenValidator: one call that checks an Openplate access token, JWT or opaque, for an API."""

from __future__ import annotations

import asyncio
import ipaddress
import time
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx

from openplate.oauth.dpop import DPoPProof
from openplate.resource_server import access_jwt
from openplate.resource_server.errors import (
    BoundTokenAsBearerError,
    InvalidDPoPProofError,
    InvalidTokenError,
    ValidationUnavailableError,
)
from openplate.resource_server.fetch import fetch_json
from openplate.resource_server.info import AccessTokenInfo, require_scopes
from openplate.resource_server.introspection import ClientAuth, Introspector, token_info
from openplate.resource_server.jwks import JwksCache

Mode = Literal["auto", "jwt", "introspection"]
MODES: tuple[Mode, ...] = ("auto", "jwt", "introspection")
#: Openplate's refresh tokens: never an access token, whatever an introspection answer says.
REFRESH_TOKEN_PREFIX = "oprt_"  # noqa: S105 - a public prefix, not a secret
_TOKEN_CHARS = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/="
)


def _check_url(name: str, url: str, *, allow_http: bool) -> None:
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname:
        host = parts.hostname
        try:
            loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if loopback or allow_http:
            return
        raise ValueError(f"{name} must use https (or pass allow_http=True for a test setup): {url}")
    raise ValueError(f"{name} is not an absolute http(s) URL: {url!r}")


class TokenValidator:
    """Validates Openplate access tokens for a resource server.

    ``mode="auto"`` (the default) verifies a token with two dots as an RFC 9068 JWT against the
    issuer's published keys, and asks the introspection endpoint (RFC 7662) about anything else;
    ``"jwt"`` accepts JWTs only; ``"introspection"`` asks the server about every token, JWTs
    included, which also notices revocation at once.

    ``issuer`` is the server's public URL exactly as its discovery document's ``issuer`` gives
    it; ``audience`` defaults to the issuer, which is what Openplate puts in ``aud`` unless its
    ``OPENPLATE_API_AUDIENCE`` is set. Use one validator for the life of the process and its event
    loop (it holds the key set, the cache and pooled connections) and close it with ``aclose()``
    or ``async with``.
    """

    def __init__(
        self,
        issuer: str,
        *,
        audience: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        mode: Mode = "auto",
        jwks_uri: str | None = None,
        introspection_endpoint: str | None = None,
        jwks_cache_ttl: float = 300.0,
        jwks_min_refetch_interval: float = 10.0,
        jwks_max_stale: float = 3600.0,
        introspection_cache_ttl: float = 0.0,
        client_auth: ClientAuth = "client_secret_basic",
        leeway: int = 30,
        http_client: httpx.AsyncClient | None = None,
        timeout: float = 5.0,
        allow_http: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
        if mode == "introspection" and not client_id:
            raise ValueError("mode='introspection' needs the client_id (and client_secret) of the "
                             "application the tokens are issued to")
        if client_auth not in ("client_secret_basic", "client_secret_post"):
            raise ValueError(f"unsupported client_auth {client_auth!r}")
        if not 0 <= leeway <= 300:
            raise ValueError("leeway must be between 0 and 300 seconds")
        if introspection_cache_ttl < 0 or jwks_cache_ttl <= 0:
            raise ValueError("cache lifetimes must be positive (introspection: 0 disables)")
        base = issuer.rstrip("/")
        self.issuer = issuer
        self.audience = audience if audience is not None else issuer
        self.mode: Mode = mode
        self.jwks_uri = jwks_uri or base + "/oauth/jwks"
        self.introspection_endpoint = introspection_endpoint or base + "/oauth/introspect"
        for name, url in (("issuer", issuer), ("jwks_uri", self.jwks_uri),
                          ("introspection_endpoint", self.introspection_endpoint)):
            _check_url(name, url, allow_http=allow_http)
        self.leeway = leeway
        self._clock = clock
        self._owns_client = http_client is None
        self._client = http_client or httpx.AsyncClient(timeout=timeout)
        self.jwks = JwksCache(
            self._client, self.jwks_uri, ttl=jwks_cache_ttl,
            min_refetch_interval=jwks_min_refetch_interval, max_stale=jwks_max_stale, clock=clock,
        )
        self.introspector: Introspector | None = None
        if client_id:
            self.introspector = Introspector(
                self._client, self.introspection_endpoint, client_id=client_id,
                client_secret=client_secret, client_auth=client_auth,
                cache_ttl=introspection_cache_ttl, clock=clock,
            )

    @classmethod
    async def discover(
        cls, issuer: str, *, http_client: httpx.AsyncClient | None = None, **options: Any
    ) -> TokenValidator:
        """Build a validator from the issuer's RFC 8414 metadata (its ``jwks_uri`` and
        ``introspection_endpoint``), after checking that the metadata names the same issuer."""
        _check_url("issuer", issuer, allow_http=bool(options.get("allow_http")))
        client = http_client or httpx.AsyncClient(timeout=options.get("timeout", 5.0))
        try:
            url = issuer.rstrip("/") + "/.well-known/oauth-authorization-server"
            status, metadata = await fetch_json(client, "GET", url, what="discovery document",
                                                headers={"Accept": "application/json"})
        finally:
            if http_client is None:
                await client.aclose()
        if status != 200 or not isinstance(metadata, dict):
            raise ValidationUnavailableError(f"The discovery document could not be read (HTTP {status}).")
        if metadata.get("issuer") != issuer:
            # RFC 8414 §3.3: the issuer in the metadata MUST be identical to the one asked.
            raise ValueError(f"the discovery document names issuer {metadata.get('issuer')!r}, "
                             f"not {issuer!r}")
        jwks_uri, endpoint = metadata.get("jwks_uri"), metadata.get("introspection_endpoint")
        return cls(
            issuer, http_client=http_client,
            jwks_uri=jwks_uri if isinstance(jwks_uri, str) else None,
            introspection_endpoint=endpoint if isinstance(endpoint, str) else None,
            **options,
        )

    async def validate(self, token: str, required_scopes: Iterable[str] = (), *,
                       proof: DPoPProof | None = None) -> AccessTokenInfo:
        """The token's details if it is valid and carries ``required_scopes``.

        ``proof``: the request's DPoP proof (RFC 9449), already checked against the request and
        this token (``BearerAuthMiddleware`` does it); a DPoP-bound token is accepted only with
        a proof of its key, and a bearer token only without one.

        Raises InvalidTokenError (answer 401), InvalidDPoPProofError (401), InsufficientScopeError
        (403, ``.required`` names the scopes) or ValidationUnavailableError (503: the server
        could not be asked).
        """
        if (not isinstance(token, str) or not token or len(token) > access_jwt.MAX_TOKEN_CHARS
                or not set(token) <= _TOKEN_CHARS):
            raise InvalidTokenError("The access token is malformed.")
        if token.startswith(REFRESH_TOKEN_PREFIX):
            raise InvalidTokenError("A refresh token is not an access token.")
        is_jwt = access_jwt.looks_like_jwt(token)
        if self.mode == "introspection" or (self.mode == "auto" and not is_jwt):
            info = await self._introspect(token)
        elif is_jwt:
            info = await self._verify_jwt(token)
        else:
            raise InvalidTokenError("Only JWT access tokens are accepted here.")
        _check_binding(info, proof)
        return require_scopes(info, required_scopes)

    async def _verify_jwt(self, token: str) -> AccessTokenInfo:
        parsed = access_jwt.parse_compact(token)
        kid = parsed.header.get("kid")
        candidates = await self.jwks.key_candidates(kid, parsed.header["alg"])
        if not any(access_jwt.signature_valid(parsed, key) for key in candidates):
            raise InvalidTokenError("The token's signature is not valid.")
        claims = access_jwt.decode_payload(parsed)
        return access_jwt.check_claims(claims, issuer=self.issuer, audience=self.audience,
                                       now=self._clock(), leeway=self.leeway)

    async def _introspect(self, token: str) -> AccessTokenInfo:
        if self.introspector is None:
            raise InvalidTokenError(
                "This API validates JWT access tokens only (no client credentials to introspect).")
        answer = await self.introspector.introspect(token)
        return token_info(answer, issuer=self.issuer, audience=self.audience, now=self._clock(),
                          leeway=self.leeway)

    async def aclose(self) -> None:
        """Close the HTTP client, unless it was handed in (then its owner closes it)."""
        if self._owns_client:
            await self._client.aclose()

    async def __aenter__(self) -> TokenValidator:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


def _check_binding(info: AccessTokenInfo, proof: DPoPProof | None) -> None:
    """RFC 9449 §7: a DPoP-bound token only with a proof of its key (§4.3 step 12: "confirm that
    the public key to which the access token is bound matches the public key from the DPoP
    proof"); a stolen bound token sent as a bearer token opens nothing."""
    if info.jkt is None:
        if proof is not None:
            raise InvalidTokenError("This access token is not DPoP-bound: send it with the "
                                    "Bearer scheme.")
        return
    if proof is None:
        raise BoundTokenAsBearerError("This access token is DPoP-bound: send it with the DPoP "
                                      "scheme and a DPoP proof.")
    if proof.jkt != info.jkt:
        raise InvalidDPoPProofError("The DPoP proof's key is not the one the token is bound to.")


def validate_sync(
    token: str, *, issuer: str, required_scopes: Iterable[str] = (), **options: Any
) -> AccessTokenInfo:
    """Validate one token from synchronous code (a script, a WSGI view) with a fresh validator.

    Each call fetches keys and introspects anew: for a server handling many requests keep one
    TokenValidator instead. Must not be called while an event loop runs in this thread.
    """

    async def run() -> AccessTokenInfo:
        async with TokenValidator(issuer, **options) as validator:
            return await validator.validate(token, required_scopes)

    return asyncio.run(run())
