"""RFC 9068: JWT access tokens, for resource servers that validate tokens locally.

The token's ``jti`` is itself a prefixed 256-bit secret, and only its digest is stored: the
database stays the authority for revocation, exactly as for opaque tokens.
"""

from __future__ import annotations

import base64
import binascii
import json

from openplate.oauth.oidc.id_token import Signer


def build_access_jwt(
    signer: Signer, *, issuer: str, audience: str, jti: str, subject: str, client_id: str,
    scope: str, iat: int, exp: int,
) -> str:
    return signer.sign(
        {"iss": issuer, "exp": exp, "aud": audience, "sub": subject, "client_id": client_id,
         "iat": iat, "jti": jti, "scope": scope},
        typ="at+jwt",  # RFC 9068 §2.1: "Resource servers MUST verify that the typ header ... is at+jwt"
    )


def bearer_secret(token: str) -> str | None:
    """The stored secret behind an access token: the token itself, or a JWT's ``jti``."""
    if token.count(".") != 2:
        return token
    if len(token) > 8192:
        return None
    payload = token.split(".")[1]
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    jti = claims.get("jti") if isinstance(claims, dict) else None
    return jti if isinstance(jti, str) else None
