"""RFC 9068 §4: validating a JWT access token locally — header, signature, then claims.

The order matters: nothing in the payload is trusted, or even parsed, before the signature has
been verified with a key the issuer publishes, for the one algorithm that key is bound to.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed25519
from joserfc import jws
from joserfc.errors import JoseError

from openplate.resource_server.errors import InvalidTokenError
from openplate.resource_server.info import AccessTokenInfo, parse_scope
from openplate.resource_server.jwks import ALLOWED_ALGORITHMS, VerificationKey

MAX_TOKEN_CHARS = 8192
#: RFC 9068 §4: "at+jwt"; media types compare case-insensitively and may carry "application/".
ACCESS_TOKEN_TYPES = frozenset({"at+jwt", "application/at+jwt"})
_B64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


@dataclass(frozen=True, slots=True)
class CompactJws:
    header: Mapping[str, Any]
    signing_input: bytes
    payload: bytes
    signature: bytes
    token: str


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2


def _b64decode(segment: str) -> bytes:
    if not segment or not set(segment) <= _B64URL:
        raise InvalidTokenError("The token is not a well-formed JWT.")
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError):
        raise InvalidTokenError("The token is not a well-formed JWT.") from None


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise InvalidTokenError("The token is not a well-formed JWT.") from None
    if not isinstance(value, dict):
        raise InvalidTokenError("The token is not a well-formed JWT.")
    return value


def parse_compact(token: str) -> CompactJws:
    """Split and decode a compact JWS and check its header; the payload stays unparsed."""
    if len(token) > MAX_TOKEN_CHARS or not looks_like_jwt(token):
        raise InvalidTokenError("The token is not a well-formed JWT.")
    head, body, sig = token.split(".")
    header = _json_object(_b64decode(head))
    alg = header.get("alg")
    if alg not in ALLOWED_ALGORITHMS:
        raise InvalidTokenError("The token's signature algorithm is not accepted.")
    typ = header.get("typ")
    if not isinstance(typ, str) or typ.lower() not in ACCESS_TOKEN_TYPES:
        raise InvalidTokenError("The token is not a JWT access token (typ must be at+jwt).")
    if "crit" in header:
        raise InvalidTokenError("The token names critical header extensions.")
    kid = header.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise InvalidTokenError("The token's key id is not a string.")
    return CompactJws(MappingProxyType(header), f"{head}.{body}".encode("ascii"),
                      _b64decode(body), _b64decode(sig), token)


def signature_valid(parsed: CompactJws, key: VerificationKey) -> bool:
    alg = parsed.header["alg"]
    if alg != key.alg:
        return False
    if alg == "EdDSA":
        # joserfc 1.8 warns that the "EdDSA" name is deprecated (RFC 9864), and pytest makes
        # warnings errors; the signature itself is plain Ed25519 (RFC 8037 §3.1).
        public = key.key.public_key
        if not isinstance(public, ed25519.Ed25519PublicKey):
            return False
        try:
            public.verify(parsed.signature, parsed.signing_input)
        except InvalidSignature:
            return False
        return True
    try:
        jws.deserialize_compact(parsed.token, key.key, algorithms=[alg])
    except JoseError:
        return False
    return True


def _number(claims: Mapping[str, Any], name: str, *, required: bool) -> int | None:
    value = claims.get(name)
    if value is None:
        if required:
            raise InvalidTokenError(f"The token has no '{name}' claim.")
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidTokenError(f"The token's '{name}' claim is not a number.")
    return int(value)


def _string(claims: Mapping[str, Any], name: str) -> str:
    value = claims.get(name)
    if not isinstance(value, str) or not value:
        raise InvalidTokenError(f"The token has no '{name}' claim.")
    return value


def check_claims(
    claims: Mapping[str, Any], *, issuer: str, audience: str, now: float, leeway: int
) -> AccessTokenInfo:
    """RFC 9068 §4 steps 3-7 (and RFC 7519 §4.1): who issued it, for whom, and when."""
    if claims.get("iss") != issuer:
        raise InvalidTokenError("The token was issued by another issuer.")
    aud = claims.get("aud")
    audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    if audience not in audiences:
        raise InvalidTokenError("The token is meant for another audience.")
    exp = _number(claims, "exp", required=True)
    assert exp is not None
    if now >= exp + leeway:
        raise InvalidTokenError("The token has expired.")
    iat = _number(claims, "iat", required=True)
    if iat is not None and iat > now + leeway:
        raise InvalidTokenError("The token was issued in the future.")
    nbf = _number(claims, "nbf", required=False)
    if nbf is not None and nbf > now + leeway:
        raise InvalidTokenError("The token is not valid yet.")
    return AccessTokenInfo(
        subject=_string(claims, "sub"),
        client_id=_string(claims, "client_id"),
        scopes=parse_scope(claims.get("scope")),
        expires_at=exp,
        username=None,
        issued_at=iat,
        source="jwt",
        claims=MappingProxyType(dict(claims)),
    )


def decode_payload(parsed: CompactJws) -> dict[str, Any]:
    """The claims of a JWS whose signature has already been verified."""
    return _json_object(parsed.payload)
