"""RFC 6750 §2.1, §2.2 and §3 and RFC 9449 §7: reading and checking access tokens on the API.

Besides ``Authorization: Bearer <token>``, the bare ``Authorization: <token>`` that the original
Biggerplate clients sent is accepted; where an endpoint allows it (UserInfo), so is the
``access_token`` of a form-encoded body (§2.2). Never a token in the query string (§2.3).
A DPoP-bound token comes as ``Authorization: DPoP <token>`` with a proof (RFC 9449 §7.1), and
only so.
"""

from __future__ import annotations

from dataclasses import dataclass

from openplate.oauth.dpop import DPoPProof
from openplate.oauth.errors import InsufficientScope, InvalidDPoPProof, InvalidRequest, InvalidToken
from openplate.oauth.jwt_access import looks_like_access_token
from openplate.oauth.models import AccessPrincipal
from openplate.oauth.params import Params
from openplate.oauth.ports import TokenStore
from openplate.oauth.resources import Resources
from openplate.oauth.scopes import covers
from openplate.oauth.tokens import Digester


class BoundTokenAsBearer(InvalidToken):
    """RFC 9449 §7.2: a DPoP-bound token sent without its proof (as a bearer token); answered
    with a ``DPoP`` challenge."""


@dataclass(frozen=True, slots=True)
class Presented:
    """An Authorization header read: its scheme ("Bearer", "DPoP", or "" for the bare token of
    the original clients) and the token."""

    scheme: str
    token: str

    @property
    def dpop(self) -> bool:
        return self.scheme == "DPoP"


def presented(authorization: str | None) -> Presented:
    """Read the Authorization header; raise with the RFC 6750 error code."""
    if authorization is None or not authorization.strip():
        raise InvalidToken("An access token is required.")
    value = authorization.strip()
    scheme, sep, rest = value.partition(" ")
    if not sep:
        return Presented("", value)
    name = scheme.lower()
    if name not in ("bearer", "dpop"):
        raise InvalidRequest("Use the Bearer or DPoP authentication scheme.")
    value = rest.strip()
    if " " in value:
        raise InvalidRequest("Malformed Authorization header.")
    return Presented("DPoP" if name == "dpop" else "Bearer", value)


def token_from_header(authorization: str | None) -> str:
    """Extract the token from an Authorization header; raise with the RFC 6750 error code."""
    return presented(authorization).token


def check_binding(sent: Presented, principal: AccessPrincipal, proof: DPoPProof | None) -> None:
    """RFC 9449 §7: the token and the way it was sent agree.

    §4.3 step 12: "confirm that the public key to which the access token is bound matches the
    public key from the DPoP proof". A bound token sent as a bearer token is refused (§7.2), and
    so is a bearer token sent with the DPoP scheme: it is not what the scheme says it is."""
    if sent.dpop:
        if proof is None:  # the web layer checks the proof first; never reached from there
            raise InvalidDPoPProof("The DPoP scheme needs a DPoP proof.")
        if principal.jkt is None:
            raise InvalidToken("This access token is not DPoP-bound: send it with the Bearer "
                               "scheme.")
        if principal.jkt != proof.jkt:
            raise InvalidDPoPProof("The DPoP proof's key is not the one the token is bound to.")
    elif principal.jkt is not None:
        raise BoundTokenAsBearer("This access token is DPoP-bound: send it with the DPoP "
                                 "scheme and a DPoP proof.")


def authorization_with_body(authorization: str | None, body: Params) -> str | None:
    """RFC 6750 §2.2: the Authorization header a form-encoded body's ``access_token`` stands for.

    The caller has checked the rest of §2.2 (a POST, single-part, ``application/x-www-form-
    urlencoded``). Without ``access_token`` the header is used as it is. §2: "Clients MUST NOT
    use more than one method to transmit the token in each request", so a body token beside an
    Authorization header, or sent twice, is ``invalid_request``.
    """
    body.reject_duplicates(("access_token",))
    token = body.get("access_token")
    if token is None:
        return authorization
    if authorization is not None and authorization.strip():
        raise InvalidRequest("Send the access token once: in the Authorization header or in "
                             "the body, not both.")
    return "Bearer " + token


async def authenticate(
    authorization: str | None, tokens: TokenStore, digester: Digester, *, now: int,
    scope: str | None, user_only: bool = False, resource: str | None = None,
    resources: Resources | None = None, proof: DPoPProof | None = None,
) -> AccessPrincipal:
    """The token's principal if it is live and has ``scope`` (None: any scope will do); with
    ``user_only``, a client's own token (client credentials, RFC 9068 §2.2) is refused too: no
    user stands behind it.

    ``resource``: the resource being called (RFC 8707); a token asked for another one is
    refused as ``invalid_token`` (RFC 9068 §4: "the resource server MUST validate that the aud
    claim contains a resource indicator value corresponding to an identifier the resource
    server expects for itself").
    ``proof``: the request's DPoP proof, already checked against the request and the token
    (``ath``) by the caller; the key binding is checked here, from the row the one lookup read."""
    sent = presented(authorization)
    token = sent.token
    if not looks_like_access_token(token):
        raise InvalidToken("The access token is invalid.")
    principal = await tokens.find_access(digest=digester.digest(token), now=now)
    if principal is None:
        raise InvalidToken("The access token is invalid, expired or revoked.")
    check_binding(sent, principal, proof)
    if resource is not None and resources is not None and not resources.allows(
            principal.resource, resource):
        raise InvalidToken("This access token is for another resource.")
    if scope is not None and not covers(principal.scope, scope):
        raise InsufficientScope(f"This call needs the '{scope}' scope.", scope=scope)
    if user_only and principal.for_client:
        raise InsufficientScope("This call needs a token a user granted; this one is the "
                                "application's own.", scope=scope or "")
    return principal
