"""Second factors at rest: the sealed TOTP secret, and recovery codes and their digests.

A TOTP secret must be read back to check codes, so it cannot be a digest: it is sealed with
AES-256-GCM under a key derived (HKDF-SHA-256) from the instance key for this purpose only, with
the user's id as associated data, so a sealed secret copied to another user's row does not open
(the same construction as the one-time notices, openplate/web/notices.py). Recovery codes are
never read back: only keyed digests of them (bound to the user) are stored.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from openplate.oauth.tokens import Digester

_VERSION = "t1."
RECOVERY_CODES = 10
#: No 0/o, 1/l/i: a code read off paper is typed right the first time. 10 characters from 31:
#: about 49 bits each, and each is good once.
_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
_LENGTH = 10


class TotpSecretSeal:
    """Seals TOTP secrets for one user's row, and opens them again."""

    def __init__(self, instance_key: bytes) -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                   info=b"openplate totp secrets v1").derive(instance_key)
        self._aead = AESGCM(key)

    def seal(self, secret: bytes, *, user_id: int) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, secret, _bound_to(user_id))
        return _VERSION + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")

    def open(self, sealed: str, *, user_id: int) -> bytes | None:
        """The secret, or None if it was not sealed here for this user."""
        if not sealed.startswith(_VERSION):
            return None
        try:
            raw = base64.urlsafe_b64decode(sealed[len(_VERSION):])
            return self._aead.decrypt(raw[:12], raw[12:], _bound_to(user_id))
        except (binascii.Error, ValueError, InvalidTag):
            return None


def _bound_to(user_id: int) -> bytes:
    return f"openplate totp user {user_id}".encode()


def new_recovery_codes() -> list[str]:
    """Ten fresh codes, shown as ``xxxxx-xxxxx``."""
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_ALPHABET) for _ in range(_LENGTH))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return codes


def normalise_recovery_code(typed: str) -> str | None:
    """A typed recovery code without spaces, dashes or case; None if it cannot be one."""
    cleaned = typed.replace(" ", "").replace("-", "").strip().lower()
    if len(cleaned) != _LENGTH or any(c not in _ALPHABET for c in cleaned):
        return None
    return cleaned


def recovery_digest(digester: Digester, *, user_id: int, code: str) -> str:
    """The keyed digest stored for a (normalised) recovery code of ``user_id``."""
    return digester.derive(f"{user_id}\x00{code}", purpose="recovery code", prefix="", stamp=None)
