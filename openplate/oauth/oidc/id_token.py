"""OpenID Connect Core §2 and §3.1.3.6: the ID token of an authorisation-code grant."""

from __future__ import annotations

from typing import Protocol

from openplate.oauth.acr import acr_of
from openplate.oauth.oidc.jws import half_hash


class Signer(Protocol):
    @property
    def alg(self) -> str: ...

    def sign(self, claims: dict[str, object], *, typ: str = "JWT") -> str: ...


class Signers(Signer, Protocol):
    """The key ring: a signer of the default algorithm, and one for each other it offers."""

    def for_alg(self, alg: str | None) -> Signer:
        """The signer of ``alg`` (None: the default)."""
        ...


def build_id_token(
    signer: Signer, *, issuer: str, client_id: str, claims: dict[str, object], now: int, ttl: int,
    auth_time: int | None, nonce: str | None, access_token: str, amr: str | None = None,
    sid: str | None = None,
) -> str:
    body: dict[str, object] = {
        "iss": issuer,
        "aud": client_id,
        "exp": now + ttl,
        "iat": now,
        **claims,
        # §3.1.3.6: "at_hash ... its value is the base64url encoding of the left-most half of the
        # hash of the octets of the ASCII representation of the access_token value".
        "at_hash": half_hash(access_token, signer.alg),
    }
    if auth_time is not None:
        body["auth_time"] = auth_time
    if amr:
        # §2: "amr ... JSON array of strings that are identifiers for authentication methods
        # used in the authentication"; acr says which of our levels (openplate/oauth/acr.py).
        methods = tuple(amr.split())
        body["amr"] = list(methods)
        body["acr"] = acr_of(methods)
    if nonce is not None:
        body["nonce"] = nonce
    if sid is not None:
        # Front-Channel Logout §3 / Back-Channel Logout §2.4: "sid ... Session ID - String
        # identifier for a Session", the same in every ID token of the session.
        body["sid"] = sid
    return signer.sign(body)
