"""What a resource server learns from a valid access token, and the scope check on it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from openplate.resource_server.errors import InsufficientScopeError


@dataclass(frozen=True, slots=True)
class AccessTokenInfo:
    """A validated access token.

    ``subject`` is the user's id as a string, or, for a token an application holds for itself
    (``client_credentials``), its ``client_id`` (RFC 9068 §2.2): then ``for_client`` is true and
    ``user_id`` is None, so no user is taken to stand behind it. ``claims`` holds the verified
    JWT claims or the introspection answer (kept out of ``repr``).
    """

    subject: str
    client_id: str
    scopes: frozenset[str]
    expires_at: int
    username: str | None = None
    issued_at: int | None = None
    source: Literal["jwt", "introspection"] = "jwt"
    claims: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False, hash=False)

    @property
    def for_client(self) -> bool:
        """True for an application's own token: its subject is the client, not a user."""
        return self.subject == self.client_id

    @property
    def user_id(self) -> str | None:
        """The user the token speaks for, or None for an application's own token."""
        return None if self.for_client else self.subject

    @property
    def jkt(self) -> str | None:
        """RFC 9449 §6: the thumbprint of the DPoP key the token is bound to (its ``cnf.jkt``),
        or None for a bearer token."""
        cnf = self.claims.get("cnf")
        jkt = cnf.get("jkt") if isinstance(cnf, Mapping) else None
        return jkt if isinstance(jkt, str) and jkt else None

    def has_scopes(self, required: Iterable[str]) -> bool:
        return all(scope in self.scopes for scope in required)


def require_scopes(info: AccessTokenInfo, required: Iterable[str]) -> AccessTokenInfo:
    """Return ``info`` if it carries every scope in ``required``, else raise InsufficientScopeError."""
    needed = tuple(required)
    if not info.has_scopes(needed):
        raise InsufficientScopeError(needed, info.scopes)
    return info


def parse_scope(value: object) -> frozenset[str]:
    """RFC 6749 §3.3: a space-delimited string of case-sensitive scopes; anything else is none."""
    if not isinstance(value, str):
        return frozenset()
    return frozenset(item for item in value.split(" ") if item)
