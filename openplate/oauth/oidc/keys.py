"""RFC 7517 signing keys: generation, sealing at rest, and the in-memory key ring.

Private keys are stored sealed with AES-256-GCM under a key derived (HKDF-SHA-256) from the
instance key, so a copy of the database alone cannot sign tokens.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from joserfc.jwk import ECKey, OKPKey, RSAKey

from openplate.oauth.oidc.jws import ALGORITHMS, SigningKey, sign_compact


def _sealing_key(instance_key: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=b"openplate signing keys v1").derive(instance_key)


def seal(private_pem: bytes, instance_key: bytes) -> str:
    nonce = os.urandom(12)
    sealed = AESGCM(_sealing_key(instance_key)).encrypt(nonce, private_pem, b"openplate-key")
    return base64.b64encode(nonce + sealed).decode("ascii")


def unseal(sealed: str, instance_key: bytes) -> bytes:
    raw = base64.b64decode(sealed)
    return AESGCM(_sealing_key(instance_key)).decrypt(raw[:12], raw[12:], b"openplate-key")


@dataclass(frozen=True)
class NewKey:
    kid: str
    alg: str
    public_jwk: dict[str, Any]
    private_pem: bytes


def generate(alg: str) -> NewKey:
    """A fresh key pair for ``alg`` (RS256: RSA-2048; ES256: P-256; EdDSA: Ed25519)."""
    if alg not in ALGORITHMS:
        raise ValueError(f"unsupported signing algorithm {alg!r}; choose one of {ALGORITHMS}")
    kid = secrets.token_urlsafe(12)
    private: SigningKey
    if alg == "RS256":
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = RSAKey.import_key(private).as_dict(private=False)
    elif alg == "ES256":
        private = ec.generate_private_key(ec.SECP256R1())
        jwk = ECKey.import_key(private).as_dict(private=False)
    else:
        private = ed25519.Ed25519PrivateKey.generate()
        jwk = OKPKey.import_key(private).as_dict(private=False)
    jwk.update({"kid": kid, "alg": alg, "use": "sig"})
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return NewKey(kid, alg, jwk, pem)


def load_private(pem: bytes) -> SigningKey:
    """A private key this server generated, just unsealed.

    OpenSSL's RSA key validation costs about 80 ms a key (two keys, loaded at every start and
    every reload); it is skipped because the PEM comes out of AES-GCM sealing under the
    instance key: it is, bit for bit, the key ``new_key`` generated with ``cryptography``.
    """
    key = serialization.load_pem_private_key(pem, password=None,
                                             unsafe_skip_rsa_key_validation=True)
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey):
        raise ValueError("unsupported private key type")
    return key


@dataclass(frozen=True)
class AlgKey:
    """The current key of one algorithm: a ``Signer``."""

    kid: str
    alg: str
    private: SigningKey = field(repr=False)

    def sign(self, claims: dict[str, Any], *, typ: str = "JWT") -> str:
        return sign_compact({"alg": self.alg, "kid": self.kid, "typ": typ}, claims, self.private)


@dataclass(frozen=True)
class KeyRing:
    """What the server signs with, and what it publishes: built once, served from memory.

    One current key per algorithm. The ring itself signs with the default algorithm
    (``OPENPLATE_SIGNING_ALG``: JWT access tokens); ``for_alg`` gives the key of another (the ID
    tokens of a client that registered ``id_token_signed_response_alg``).
    """

    default: AlgKey
    signing: Mapping[str, AlgKey]
    published: tuple[dict[str, Any], ...]
    jwks_json: bytes = field(repr=False)

    @classmethod
    def build(cls, *, signing: dict[str, AlgKey], default_alg: str,
              published: list[dict[str, Any]]) -> KeyRing:
        document = json.dumps({"keys": published}, separators=(",", ":")).encode()
        default = signing.get(default_alg) or signing.get("RS256") or next(iter(signing.values()))
        return cls(default, MappingProxyType(dict(signing)), tuple(published), document)

    @property
    def kid(self) -> str:
        return self.default.kid

    @property
    def alg(self) -> str:
        return self.default.alg

    def sign(self, claims: dict[str, Any], *, typ: str = "JWT") -> str:
        return self.default.sign(claims, typ=typ)

    def for_alg(self, alg: str | None) -> AlgKey:
        """The current key of ``alg`` (None: the default). LookupError if the ring has none."""
        if alg is None:
            return self.default
        key = self.signing.get(alg)
        if key is None:
            raise LookupError(f"no current {alg} signing key is loaded")
        return key
