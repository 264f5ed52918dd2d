"""RFC 6750 §2.1, §2.2 and §3: reading and checking bearer access tokens on the API.

Besides ``Authorization: Bearer <token>``, the bare ``Authorization: <token>`` that the original
Biggerplate clients sent is accepted; where an endpoint allows it (UserInfo), so is the
``access_token`` of a form-encoded body (§2.2). Never a token in the query string (§2.3).
"""

from __future__ import annotations

from openplate.oauth.errors import InsufficientScope, InvalidRequest, InvalidToken
from openplate.oauth.jwt_access import looks_like_access_token
from openplate.oauth.models import AccessPrincipal
from openplate.oauth.params import Params
from openplate.oauth.ports import TokenStore
from openplate.oauth.resources import Resources
from openplate.oauth.scopes import covers
from openplate.oauth.tokens import Digester


def token_from_header(authorization: str | None) -> str:
    """Extract the token from an Authorization header; raise with the RFC 6750 error code."""
    if authorization is None or not authorization.strip():
        raise InvalidToken("An access token is required.")
    value = authorization.strip()
    scheme, sep, rest = value.partition(" ")
    if sep:
        if scheme.lower() != "bearer":
            raise InvalidRequest("Use the Bearer authentication scheme.")
        value = rest.strip()
        if " " in value:
            raise InvalidRequest("Malformed Authorization header.")
    return value


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
    resources: Resources | None = None,
) -> AccessPrincipal:
    """The token's principal if it is live and has ``scope`` (None: any scope will do); with
    ``user_only``, a client's own token (client credentials, RFC 9068 §2.2) is refused too: no
    user stands behind it.

    ``resource``: the resource being called (RFC 8707); a token asked for another one is
    refused as ``invalid_token`` (RFC 9068 §4: "the resource server MUST validate that the aud
    claim contains a resource indicator value corresponding to an identifier the resource
    server expects for itself")."""
    token = token_from_header(authorization)
    if not looks_like_access_token(token):
        raise InvalidToken("The access token is invalid.")
    principal = await tokens.find_access(digest=digester.digest(token), now=now)
    if principal is None:
        raise InvalidToken("The access token is invalid, expired or revoked.")
    if resource is not None and resources is not None and not resources.allows(
            principal.resource, resource):
        raise InvalidToken("This access token is for another resource.")
    if scope is not None and not covers(principal.scope, scope):
        raise InsufficientScope(f"This call needs the '{scope}' scope.", scope=scope)
    if user_only and principal.for_client:
        raise InsufficientScope("This call needs a token a user granted; this one is the "
                                "application's own.", scope=scope or "")
    return principal
