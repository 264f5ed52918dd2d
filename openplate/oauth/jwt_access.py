"""RFC 9068: JWT access tokens, for resource servers that validate tokens locally.

The database stays the authority, exactly as for opaque tokens: only the digest of the whole
token is stored, and Openplate's own API looks that digest up (so a revoked JWT is refused at
once, and a token whose bytes were altered matches nothing). The ``jti`` is a plain identifier
derived from the token's random secret, safe to log.
"""

from __future__ import annotations

import hashlib
import re

from openplate.oauth.oidc.id_token import Signer
from openplate.oauth.tokens import ACCESS_TOKEN_PREFIX, plausible

_JWT = re.compile(r"[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+", re.ASCII)
MAX_JWT_CHARS = 4096


def jti_for(secret: str) -> str:
    """A stable, non-secret identifier for the token made from ``secret``."""
    return hashlib.sha256(b"openplate-jti\x00" + secret.encode()).hexdigest()[:32]


def build_access_jwt(
    signer: Signer, *, issuer: str, audience: str | list[str], jti: str, subject: str, client_id: str,
    scope: str, iat: int, exp: int,
) -> str:
    return signer.sign(
        {"iss": issuer, "exp": exp, "aud": audience, "sub": subject, "client_id": client_id,
         "iat": iat, "jti": jti, "scope": scope},
        typ="at+jwt",  # RFC 9068 §2.1: "Resource servers MUST verify that the typ header ... is at+jwt"
    )


def looks_like_access_token(token: str) -> bool:
    """Cheap shape check before a lookup: an ``opat_`` secret, or a compact JWS."""
    if plausible(token, ACCESS_TOKEN_PREFIX):
        return True
    return len(token) <= MAX_JWT_CHARS and _JWT.fullmatch(token) is not None
