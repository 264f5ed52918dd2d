"""DPoP proofs (RFC 9449 §4.2) as a client makes them, with joserfc, and hostile variants."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from joserfc.jwk import ECKey, OKPKey, RSAKey
from joserfc.jws import JWSRegistry

_REGISTRY = JWSRegistry(strict_check_header=False,
                        algorithms=["ES256", "RS256", "PS256", "Ed25519", "HS256"])
_REGISTRY.max_header_length = 100_000


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def ath(token: str) -> str:
    return b64url(hashlib.sha256(token.encode("ascii")).digest())


@dataclass
class DPoPKey:
    """A client's proof-of-possession key pair and the proofs it signs."""

    alg: str = "ES256"
    key: Any = field(default=None)

    def __post_init__(self) -> None:
        if self.key is None:
            if self.alg == "ES256":
                self.key = ECKey.generate_key("P-256")
            elif self.alg in ("RS256", "PS256"):
                self.key = RSAKey.generate_key(2048)
            else:
                self.key = OKPKey.generate_key("Ed25519")

    @property
    def jwk(self) -> dict[str, Any]:
        return dict(self.key.as_dict(private=False))

    @property
    def jkt(self) -> str:
        return str(self.key.thumbprint())

    def proof(
        self, method: str, url: str, *, iat: int | None = None, jti: str | None = None,
        nonce: str | None = None, access_token: str | None = None,
        header: dict[str, Any] | None = None, claims: dict[str, Any] | None = None,
        drop: tuple[str, ...] = (),
    ) -> str:
        """A proof for ``method url``; ``header``/``claims`` add or override members, ``drop``
        removes claims."""
        head: dict[str, Any] = {"typ": "dpop+jwt", "alg": self.alg, "jwk": self.jwk,
                                **(header or {})}
        body: dict[str, Any] = {"jti": jti or secrets.token_urlsafe(12), "htm": method,
                                "htu": url, "iat": int(time.time()) if iat is None else iat}
        if nonce is not None:
            body["nonce"] = nonce
        if access_token is not None:
            body["ath"] = ath(access_token)
        body.update(claims or {})
        for name in drop:
            body.pop(name, None)
        # Signed by hand, so that any header (a hostile one too) can be sent; the key's own
        # algorithm signs ("EdDSA" is the older name of Ed25519's).
        signing_input = f"{b64url(json.dumps(head).encode())}.{b64url(json.dumps(body).encode())}"
        signer = _REGISTRY.get_alg("Ed25519" if self.alg == "EdDSA" else self.alg)
        return f"{signing_input}.{b64url(signer.sign(signing_input.encode('ascii'), self.key))}"


def unsigned(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    """A compact JWS with any header, claims and signature bytes (alg none, forged ones)."""
    return ".".join((b64url(json.dumps(header).encode()), b64url(json.dumps(claims).encode()),
                     b64url(signature)))
