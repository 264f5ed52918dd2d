"""Why a token was refused (RFC 6750 §3.1), or why it could not be checked at all."""

from __future__ import annotations

from collections.abc import Iterable


class TokenValidationError(Exception):
    """Base class: ``error`` is the RFC 6750 error code, ``status`` the HTTP status to answer."""

    error = "invalid_token"
    status = 401

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


class InvalidTokenError(TokenValidationError):
    """The token is malformed, forged, expired, revoked, for another audience or issuer (401)."""


class BoundTokenAsBearerError(InvalidTokenError):
    """RFC 9449 §7.2: a DPoP-bound token sent as a bearer token (401, ``DPoP`` challenge)."""


class InvalidDPoPProofError(TokenValidationError):
    """RFC 9449 §7.1: the DPoP proof is missing, malformed, replayed, or not of the token's key
    (401, with a ``DPoP`` challenge)."""

    error = "invalid_dpop_proof"


class InsufficientScopeError(TokenValidationError):
    """The token is valid but lacks scopes the request needs (403); ``required`` names them all."""

    error = "insufficient_scope"
    status = 403

    def __init__(self, required: Iterable[str], granted: Iterable[str] = ()) -> None:
        self.required: tuple[str, ...] = tuple(required)
        self.granted: frozenset[str] = frozenset(granted)
        missing = [s for s in self.required if s not in self.granted]
        super().__init__(f"This request needs the scope(s): {' '.join(missing or self.required)}.")


class ValidationUnavailableError(TokenValidationError):
    """The authorisation server could not be asked (network, 5xx, wrong client credentials).

    Not the token's fault: answer 503 and keep the client's token, rather than 401.
    """

    error = "temporarily_unavailable"
    status = 503
