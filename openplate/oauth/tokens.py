"""RFC 6749 §10.10, RFC 9700 §4.14: bearer secrets with ≥256 bits of entropy, stored only as digests.

Every secret carries a recognisable prefix so secret scanners and log filters can spot it.
Digests are keyed (HMAC-SHA-256): the secrets are random, so a fast keyed digest is as safe as a
password hash and costs microseconds instead of tens of milliseconds.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field

ACCESS_TOKEN_PREFIX = "opat_"
REFRESH_TOKEN_PREFIX = "oprt_"
AUTHORIZATION_CODE_PREFIX = "opac_"
CLIENT_SECRET_PREFIX = "opcs_"
CLIENT_ID_PREFIX = "opc_"
SESSION_PREFIX = "opss_"
PREFIXES = (
    ACCESS_TOKEN_PREFIX,
    REFRESH_TOKEN_PREFIX,
    AUTHORIZATION_CODE_PREFIX,
    CLIENT_SECRET_PREFIX,
    SESSION_PREFIX,
)
MAX_SECRET_CHARS = 512
#: base64url without padding, the alphabet of every secret we mint (one C call per check).
_URL_SAFE = re.compile(r"[A-Za-z0-9_\-]*")


def new_secret(prefix: str, nbytes: int = 32) -> str:
    """A fresh random secret: ``prefix`` + ``nbytes`` random bytes, base64url without padding."""
    return prefix + secrets.token_urlsafe(nbytes)


def new_client_id() -> str:
    """A public client identifier (not a secret, but unguessable all the same)."""
    return CLIENT_ID_PREFIX + secrets.token_urlsafe(16)


@dataclass(frozen=True, slots=True)
class Digester:
    """Keyed digests of secrets, and their constant-time comparison."""

    key: bytes
    _recent: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    def digest(self, secret: str) -> str:
        return hmac.digest(self.key, secret.encode("utf-8"), "sha256").hex()

    def digest_recurring(self, name: str) -> str:
        """``digest`` for values that recur request after request (throttling keys: an address,
        a client id), remembered in a bounded table. Never for secrets: they would stay in
        memory."""
        found = self._recent.get(name)
        if found is None:
            if len(self._recent) >= 4096:
                self._recent.clear()
            found = self._recent[name] = self.digest(name)
        return found

    def matches(self, secret: str, stored_digest: str) -> bool:
        return hmac.compare_digest(self.digest(secret), stored_digest)

    def derive(self, secret: str, *, purpose: str, prefix: str) -> str:
        """A secret that only this server can compute from ``secret``, for one ``purpose``.

        Used for a refresh token's successors, so a retry within the grace window gets the very
        same tokens without the server ever storing them.
        """
        mac = hmac.new(self.key, f"{purpose}\x00{secret}".encode(), hashlib.sha256).digest()
        return prefix + base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")


def plausible(secret: str | None, prefix: str) -> bool:
    """Cheap syntax check before a lookup: right prefix, bounded length, URL-safe alphabet."""
    if not secret or len(secret) > MAX_SECRET_CHARS or not secret.startswith(prefix):
        return False
    return _URL_SAFE.fullmatch(secret, len(prefix)) is not None
