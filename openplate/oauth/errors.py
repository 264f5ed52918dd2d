"""RFC 6749 §4.1.2.1, §5.2 and RFC 6750 §3.1: the error tree, one class per wire code.

Each error knows its HTTP status and whether it may be sent back to the client's redirect URI.
``description`` is public (sent on the wire); ``detail`` is private and only logged.
"""

from __future__ import annotations

import re
from typing import ClassVar

_OUTSIDE_WIRE_TEXT = re.compile(r"[^\x20-\x21\x23-\x5b\x5d-\x7e]")


def wire_text(text: str) -> str:
    """RFC 6749 §4.1.2.1 and §5.2 (and RFC 6750 §3): "Values for the "error_description"
    parameter MUST NOT include characters outside the set %x20-21 / %x23-5B / %x5D-7E."

    Some descriptions quote the request (a parameter's name, an unknown scope or grant type);
    a quote mark, backslash, control or non-ASCII character there becomes "?".
    """
    return _OUTSIDE_WIRE_TEXT.sub("?", text)


class OAuthError(Exception):
    """Base of every protocol error."""

    error: ClassVar[str] = "server_error"
    status: ClassVar[int] = 400
    #: False for errors that must never be redirected (RFC 6749 §4.1.2.1: unknown client, bad URI).
    redirectable: ClassVar[bool] = True

    def __init__(self, description: str, *, detail: str | None = None) -> None:
        self.description = wire_text(description)
        super().__init__(self.description)
        self.detail = detail

    def to_json(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


class InvalidRequest(OAuthError):
    error = "invalid_request"


class InvalidClient(OAuthError):
    error = "invalid_client"
    status = 401


class InvalidGrant(OAuthError):
    error = "invalid_grant"


class UnauthorizedClient(OAuthError):
    error = "unauthorized_client"


class UnsupportedGrantType(OAuthError):
    error = "unsupported_grant_type"


class UnsupportedResponseType(OAuthError):
    error = "unsupported_response_type"


class InvalidTarget(OAuthError):
    """RFC 8707 §2: "The requested resource is invalid, missing, unknown, or malformed."."""

    error = "invalid_target"


class InvalidScope(OAuthError):
    error = "invalid_scope"


class AccessDenied(OAuthError):
    error = "access_denied"
    status = 403


class DeviceAccessDenied(AccessDenied):
    """RFC 8628 §3.5 "access_denied": the user denied the device's request. At the token
    endpoint, so 400 like every RFC 6749 §5.2 error."""

    status = 400


class AuthorizationPending(OAuthError):
    """RFC 8628 §3.5: "The authorization request is still pending as the end user hasn't yet
    completed the user-interaction steps"."""

    error = "authorization_pending"


class SlowDown(OAuthError):
    """RFC 8628 §3.5: polling too fast; "the interval MUST be increased by 5 seconds for this
    and all subsequent requests"."""

    error = "slow_down"


class ExpiredToken(OAuthError):
    """RFC 8628 §3.5: "The "device_code" has expired, and the device authorization session has
    concluded"."""

    error = "expired_token"


class LoginRequired(OAuthError):
    """OIDC Core §3.1.2.6: prompt=none, and the user is not signed in."""

    error = "login_required"


class ConsentRequired(OAuthError):
    """OIDC Core §3.1.2.6: prompt=none, and the user has not allowed this yet."""

    error = "consent_required"


class InteractionRequired(OAuthError):
    """OIDC Core §3.1.2.6: prompt=none, and the user must do something else first."""

    error = "interaction_required"


class RequestNotSupported(OAuthError):
    """OIDC Core §3.1.2.6: the OP does not support the ``request`` parameter."""

    error = "request_not_supported"


class RequestUriNotSupported(OAuthError):
    """OIDC Core §3.1.2.6: the OP does not support the ``request_uri`` parameter."""

    error = "request_uri_not_supported"


class UnsupportedTokenType(OAuthError):
    """RFC 7009 §2.2.1."""

    error = "unsupported_token_type"


class RequestTooLarge(OAuthError):
    """A request body over the endpoint's limit (HTTP 413); not an RFC 6749 code."""

    error = "request_too_large"
    status = 413


class ServerError(OAuthError):
    error = "server_error"
    status = 500


class TemporarilyUnavailable(OAuthError):
    error = "temporarily_unavailable"
    status = 503


class InvalidToken(OAuthError):
    """RFC 6750 §3.1: the access token is missing, expired, revoked or malformed."""

    error = "invalid_token"
    status = 401


class InsufficientScope(OAuthError):
    """RFC 6750 §3.1: the token lacks a scope the resource needs."""

    error = "insufficient_scope"
    status = 403

    def __init__(self, description: str, *, scope: str) -> None:
        super().__init__(description)
        self.scope = scope


class InvalidDPoPProof(OAuthError):
    """RFC 9449 §5 and §7.1: the DPoP proof is missing, malformed or does not fit the request.

    400 at the token endpoint; a resource answers it 401 with a ``DPoP`` challenge."""

    error = "invalid_dpop_proof"


class UseDPoPNonce(OAuthError):
    """RFC 9449 §8 and §9: the proof must carry the nonce the server hands out (``DPoP-Nonce``).

    400 at the token endpoint; a resource answers it 401 with a ``DPoP`` challenge."""

    error = "use_dpop_nonce"


class FatalAuthorizationError(OAuthError):
    """An authorisation request that must be answered with a page, never a redirect.

    RFC 6749 §4.1.2.1: "If the request fails due to a missing, invalid, or mismatching redirection
    URI, or if the client identifier is missing or invalid, the authorization server SHOULD inform
    the resource owner of the error and MUST NOT automatically redirect the user-agent".
    """

    redirectable = False


class InvalidClientId(FatalAuthorizationError):
    error = "invalid_client"


class InvalidRedirectUri(FatalAuthorizationError):
    error = "invalid_request"


class InvalidRequestUri(FatalAuthorizationError):
    """RFC 9101 §7 (named by RFC 9126 §4): the ``request_uri`` is unknown, expired, already used
    or another application's. No redirect URI is known until the pushed request is read, so it
    is answered with a page."""

    error = "invalid_request_uri"


class MalformedPushedUse(FatalAuthorizationError):
    """A request that names a pushed request but is malformed itself (``request_uri`` twice,
    ``request`` beside it): a page, for the same reason as ``InvalidRequestUri``."""

    error = "invalid_request"
