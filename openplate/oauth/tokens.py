"""RFC 6749 §10.10, RFC 9700 §4.14: bearer secrets with ≥256 bits of entropy, stored only as digests.

Every secret carries a recognisable prefix so secret scanners and log filters can spot it.
Digests are keyed (HMAC-SHA-256): the secrets are random, so a fast keyed digest is as safe as a
password hash and costs microseconds instead of tens of milliseconds.

Secrets that are looked up by digest (tokens, codes, sessions) begin with a *stamp*: the time they
were minted, in microseconds, as 14 hex digits. Their digest keeps the stamp in front of the keyed
part, so new rows land at the right-hand end of the unique digest index, on pages already in the
cache, instead of on a random page each (with SQLite that was one more page written to the log per
token). The stamp tells only when the secret was made, which ``created_at`` stores beside it anyway;
the 256 random bits that follow are the secret. Secrets minted before stamps existed keep their
plain digest and are found exactly as before.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass, field

ACCESS_TOKEN_PREFIX = "opat_"
REFRESH_TOKEN_PREFIX = "oprt_"
AUTHORIZATION_CODE_PREFIX = "opac_"
CLIENT_SECRET_PREFIX = "opcs_"
CLIENT_ID_PREFIX = "opc_"
SESSION_PREFIX = "opss_"
#: RFC 7591 §3 initial access tokens (``openplate app registration-token``).
INITIAL_ACCESS_TOKEN_PREFIX = "opit_"
#: RFC 7592 §1 registration access tokens (managing a registration at /oauth/register/{id}).
REGISTRATION_TOKEN_PREFIX = "oprg_"
DEVICE_CODE_PREFIX = "opdc_"
PREFIXES = (
    ACCESS_TOKEN_PREFIX,
    REFRESH_TOKEN_PREFIX,
    AUTHORIZATION_CODE_PREFIX,
    CLIENT_SECRET_PREFIX,
    SESSION_PREFIX,
    INITIAL_ACCESS_TOKEN_PREFIX,
    REGISTRATION_TOKEN_PREFIX,
    DEVICE_CODE_PREFIX,
)
MAX_SECRET_CHARS = 512
STAMP_CHARS = 14
#: prefix (``opat_``…) + stamp + 32 random bytes in base64url: the shape ``digest`` recognises.
_PREFIX_CHARS = 5
_STAMPED_CHARS = _PREFIX_CHARS + STAMP_CHARS + 43
_STAMP = re.compile(f"[0-9a-f]{{{STAMP_CHARS}}}")
#: Characters of a keyed digest kept after a stamp: 14 + 50 = 64 hex digits, like a plain digest
#: (the column is 64 characters), of which 200 bits are keyed.
_KEYED_AFTER_STAMP = 64 - STAMP_CHARS
#: base64url without padding, the alphabet of every secret we mint (one C call per check).
_URL_SAFE = re.compile(r"[A-Za-z0-9_\-]*")


def new_stamp() -> str:
    """Now, in microseconds since the epoch, as 14 lowercase hex digits (they sort as numbers)."""
    return f"{time.time_ns() // 1000:014x}"


def new_secret(prefix: str, nbytes: int = 32, *, stamped: bool = True) -> str:
    """A fresh random secret: ``prefix`` + a stamp + ``nbytes`` random bytes in base64url.

    ``stamped=False`` for secrets that are never looked up by their digest (client secrets).
    """
    return prefix + (new_stamp() if stamped else "") + secrets.token_urlsafe(nbytes)


def new_client_id() -> str:
    """A public client identifier (not a secret, but unguessable all the same)."""
    return CLIENT_ID_PREFIX + secrets.token_urlsafe(16)


_IPAD = bytes(x ^ 0x36 for x in range(256))
_OPAD = bytes(x ^ 0x5C for x in range(256))


class HmacSha256:
    """HMAC-SHA-256 (RFC 2104) under one key, its two padded key blocks hashed once.

    ``hmac.digest`` sets the key up again on every call; a copy of the hashed blocks is under
    half its cost (0.6 against 1.6 µs here), and every request computes two or three of these.
    """

    __slots__ = ("_inner", "_outer")

    def __init__(self, key: bytes) -> None:
        if len(key) > 64:  # the SHA-256 block size: longer keys are hashed first (§2)
            key = hashlib.sha256(key).digest()
        block = key.ljust(64, b"\x00")
        self._inner = hashlib.sha256(block.translate(_IPAD))
        self._outer = hashlib.sha256(block.translate(_OPAD))

    def digest(self, message: bytes) -> bytes:
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()


@dataclass(frozen=True, slots=True)
class Digester:
    """Keyed digests of secrets, and their constant-time comparison."""

    key: bytes
    #: Whether new tokens, codes and session ids get a stamp (``OPENPLATE_STAMPED_SECRETS``).
    #: Off only while nodes of a release before stamps still serve: they cannot find stamped
    #: secrets. Digests of either form are found whatever this says.
    stamps: bool = True
    _recent: dict[str, str] = field(default_factory=dict, compare=False, repr=False)
    _mac: HmacSha256 = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_mac", HmacSha256(self.key))

    def mint(self, prefix: str) -> str:
        """A new secret that will be looked up by its digest: a token, a code, a session id."""
        return new_secret(prefix, stamped=self.stamps)

    def successor_stamp(self) -> str | None:
        """The stamp for the successors of a refresh token rotated now (None: unstamped)."""
        return new_stamp() if self.stamps else None

    def digest(self, secret: str) -> str:
        """The value stored for ``secret`` and looked up: its stamp, if it has one, then its keyed
        digest; a plain keyed digest (64 hex digits) for anything else."""
        mac = self._mac.digest(secret.encode("utf-8")).hex()
        if (len(secret) == _STAMPED_CHARS
                and _STAMP.fullmatch(secret, _PREFIX_CHARS, _PREFIX_CHARS + STAMP_CHARS)):
            return secret[_PREFIX_CHARS:_PREFIX_CHARS + STAMP_CHARS] + mac[:_KEYED_AFTER_STAMP]
        return mac

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

    def derive(self, secret: str, *, purpose: str, prefix: str, stamp: str | None) -> str:
        """A secret that only this server can compute from ``secret``, for one ``purpose``.

        Used for a refresh token's successors, so a retry within the grace window gets the very
        same tokens without the server ever storing them. ``stamp`` (stored with the rotation)
        goes in front as in ``new_secret``; None gives the unstamped form that successors had
        before stamps existed.
        """
        material = f"{purpose}\x00{secret}" if stamp is None else f"{purpose}\x00{stamp}\x00{secret}"
        mac = self._mac.digest(material.encode())
        return prefix + (stamp or "") + base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")


def plausible(secret: str | None, prefix: str) -> bool:
    """Cheap syntax check before a lookup: right prefix, bounded length, URL-safe alphabet."""
    if not secret or len(secret) > MAX_SECRET_CHARS or not secret.startswith(prefix):
        return False
    return _URL_SAFE.fullmatch(secret, len(prefix)) is not None
