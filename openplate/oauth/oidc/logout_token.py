"""OpenID Connect Back-Channel Logout 1.0 §2.4: the Logout Token."""

from __future__ import annotations

from openplate.oauth.oidc.id_token import Signer

#: §2.4 events: "a JSON object that contains the name/value pair with the name
#: http://schemas.openid.net/event/backchannel-logout".
EVENT = "http://schemas.openid.net/event/backchannel-logout"
#: §2.4 typ: "explicitly typed ... using the logout+jwt type" (RFC 8725 §3.11).
TYP = "logout+jwt"
#: Seconds a logout token stays valid: "a value of no more than two minutes" is recommended.
TTL = 120


def build_logout_token(signer: Signer, *, issuer: str, client_id: str, subject: str | None,
                       sid: str | None, jti: str, now: int) -> str:
    """A signed logout token for one client. §2.4: "A Logout Token MUST contain either a sub or
    a sid Claim, and MAY contain both", and "MUST NOT contain a nonce Claim"."""
    if subject is None and sid is None:
        raise ValueError("a logout token needs a sub or a sid")
    claims: dict[str, object] = {"iss": issuer, "aud": client_id, "iat": now, "exp": now + TTL,
                                 "jti": jti, "events": {EVENT: {}}}
    if subject is not None:
        claims["sub"] = subject
    if sid is not None:
        claims["sid"] = sid
    return signer.sign(claims, typ=TYP)
