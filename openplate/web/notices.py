"""One-time notices: what an action did, shown on the next page and then gone.

A form post answers with a redirect (so a reload never repeats it), and the page it leads to says
what happened ("Saved", "Revoked"). The notice waits server-side in the browser session's row
(``sessions.flash``) until a page takes it, or until ``NOTICE_TTL`` passes; purge clears the
stale ones. A notice may carry a secret that is shown once (a new client secret), so it is never
written in plaintext: it is sealed with AES-256-GCM under a key derived (HKDF-SHA-256) from the
instance key, with the session's id as associated data, so a sealed notice moved to another
session's row does not open. Notices are never logged.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

#: Seconds a notice waits to be shown. The page it is for is the next one the browser loads.
NOTICE_TTL = 600
_VERSION = "n1."


@dataclass(frozen=True, slots=True)
class Notice:
    """What happened, for a person; with the secret to copy, if the action made one."""

    text: str
    secret: str | None = None
    #: The application ``secret`` belongs to.
    client_id: str | None = None
    #: Recovery codes, shown once (the page of /account/two-factor lists them).
    codes: tuple[str, ...] = ()


class NoticeSeal:
    """Seals notices for one session's row, and opens them again."""

    def __init__(self, instance_key: bytes) -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                   info=b"openplate session notices v1").derive(instance_key)
        self._aead = AESGCM(key)

    def seal(self, notice: Notice, *, session_id: int) -> str:
        plain = json.dumps({"text": notice.text, "secret": notice.secret,
                            "client_id": notice.client_id, "codes": list(notice.codes)},
                           separators=(",", ":")).encode()
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, plain, _bound_to(session_id))
        return _VERSION + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")

    def open(self, sealed: str, *, session_id: int) -> Notice | None:
        """The notice, or None if it was not sealed here for this session."""
        if not sealed.startswith(_VERSION):
            return None
        try:
            raw = base64.urlsafe_b64decode(sealed[len(_VERSION):])
            fields = json.loads(self._aead.decrypt(raw[:12], raw[12:], _bound_to(session_id)))
            text, secret, client_id = fields["text"], fields["secret"], fields["client_id"]
            codes = fields.get("codes") or []
        except (binascii.Error, ValueError, InvalidTag, KeyError, TypeError, AttributeError):
            return None
        if not isinstance(text, str) or not all(
                value is None or isinstance(value, str) for value in (secret, client_id)):
            return None
        if not isinstance(codes, list) or not all(isinstance(code, str) for code in codes):
            return None
        return Notice(text, secret, client_id, tuple(codes))


def _bound_to(session_id: int) -> bytes:
    return f"openplate session {session_id}".encode()
