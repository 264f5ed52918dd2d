"""RFC 7515 §7.1 compact JWS signing for RS256, ES256 and EdDSA (RFC 8037), with ``cryptography``.

Signing is the hot part of issuing an ID token or a JWT access token, and the three algorithms
need a handful of lines each; verification (tests, resource servers) uses joserfc.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

SigningKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
#: Every algorithm offered, RS256 first (OpenID Connect's default, always offered).
ALGORITHMS = ("RS256", "ES256", "EdDSA")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _json(value: dict[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":"), sort_keys=False).encode("utf-8")


def sign_compact(header: dict[str, Any], claims: dict[str, Any], key: SigningKey) -> str:
    signing_input = f"{b64url(_json(header))}.{b64url(_json(claims))}".encode("ascii")
    alg = header["alg"]
    if alg == "RS256" and isinstance(key, rsa.RSAPrivateKey):
        signature = key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    elif alg == "ES256" and isinstance(key, ec.EllipticCurvePrivateKey):
        # RFC 6979 deterministic ECDSA: the same claims always give the same token, so a refresh
        # retried inside the grace window gets byte-for-byte the same JWT access token.
        ecdsa = ec.ECDSA(hashes.SHA256(), deterministic_signing=True)
        r, s = decode_dss_signature(key.sign(signing_input, ecdsa))
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")  # RFC 7518 §3.4: R || S
    elif alg == "EdDSA" and isinstance(key, ed25519.Ed25519PrivateKey):
        signature = key.sign(signing_input)
    else:
        raise ValueError(f"key does not fit algorithm {alg}")
    return f"{signing_input.decode('ascii')}.{b64url(signature)}"


def half_hash(value: str, alg: str) -> str:
    """OIDC Core §3.1.3.6 at_hash: the left half of the hash the signing algorithm uses.

    EdDSA with Ed25519 hashes with SHA-512 (OpenID Connect errata), the others with SHA-256.
    """
    digest = hashes.Hash(hashes.SHA512() if alg == "EdDSA" else hashes.SHA256())
    digest.update(value.encode("ascii"))
    full = digest.finalize()
    return b64url(full[: len(full) // 2])
