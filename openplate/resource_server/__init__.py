"""Validate Openplate access tokens in a separate API: RFC 9068 JWTs locally, opaque ones by
RFC 7662 introspection, with an ASGI middleware that answers RFC 6750 errors.

See docs/resource-servers.md.
"""

from __future__ import annotations

from openplate.resource_server.errors import (
    InsufficientScopeError,
    InvalidTokenError,
    TokenValidationError,
    ValidationUnavailableError,
)
from openplate.resource_server.info import AccessTokenInfo, require_scopes
from openplate.resource_server.middleware import STATE_KEY, BearerAuthMiddleware, bearer_token
from openplate.resource_server.validator import TokenValidator, validate_sync

__all__ = [
    "STATE_KEY",
    "AccessTokenInfo",
    "BearerAuthMiddleware",
    "InsufficientScopeError",
    "InvalidTokenError",
    "TokenValidationError",
    "TokenValidator",
    "ValidationUnavailableError",
    "bearer_token",
    "require_scopes",
    "validate_sync",
]
