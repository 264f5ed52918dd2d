"""Validate Openplate access tokens in a separate API: RFC 9068 JWTs locally, opaque ones by
RFC 7662 introspection, with an ASGI middleware that answers RFC 6750 errors and takes RFC 9449
DPoP-bound tokens.

See docs/resource-servers.md.
"""

from __future__ import annotations

from openplate.resource_server.errors import (
    BoundTokenAsBearerError,
    InsufficientScopeError,
    InvalidDPoPProofError,
    InvalidTokenError,
    TokenValidationError,
    ValidationUnavailableError,
)
from openplate.resource_server.info import AccessTokenInfo, require_scopes
from openplate.resource_server.middleware import (
    STATE_KEY,
    BearerAuthMiddleware,
    InProcessLedger,
    bearer_token,
    credential,
)
from openplate.resource_server.validator import TokenValidator, validate_sync

__all__ = [
    "STATE_KEY",
    "AccessTokenInfo",
    "BearerAuthMiddleware",
    "BoundTokenAsBearerError",
    "InProcessLedger",
    "InsufficientScopeError",
    "InvalidDPoPProofError",
    "InvalidTokenError",
    "TokenValidationError",
    "TokenValidator",
    "ValidationUnavailableError",
    "bearer_token",
    "credential",
    "require_scopes",
    "validate_sync",
]
