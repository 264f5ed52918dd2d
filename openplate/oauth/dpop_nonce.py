"""RFC 9449 §8 and §9: server-provided DPoP nonces, kept nowhere.

A nonce is an HMAC of a time window's number under a key derived from the instance key, so
every node computes the same nonce for the same window and accepts every node's. One is
accepted in its own window and the next (§8: "the server ... MAY accept ... nonces issued in
the recent past"), so it lives between one and two ``lifetime`` seconds, and a proof signed with
a nonce cannot have been made before that nonce existed: §11.2, pre-generated proofs.
"""

from __future__ import annotations

import base64
import hmac

from openplate.oauth.tokens import HmacSha256

#: §8.1: "nonce = 1*NQCHAR"; ours are base64url, well inside that set.
NONCE_CHARS = 43


class NonceMaker:
    """Issues and checks the nonces of one deployment (every node has the same key)."""

    __slots__ = ("_mac", "lifetime")

    def __init__(self, key: bytes, *, lifetime: int) -> None:
        self._mac = HmacSha256(key)
        self.lifetime = max(1, lifetime)

    def _for_window(self, window: int) -> str:
        raw = self._mac.digest(b"dpop-nonce\x00" + str(window).encode("ascii"))
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")

    def issue(self, now: int) -> str:
        """The nonce to hand out now (in a ``DPoP-Nonce`` header)."""
        return self._for_window(now // self.lifetime)

    def accepts(self, nonce: str | None, now: int) -> bool:
        """Whether ``nonce`` is this window's or the previous one's (constant-time)."""
        if nonce is None or len(nonce) != NONCE_CHARS:
            return False
        window = now // self.lifetime
        given = nonce.encode("ascii", "replace")
        current = hmac.compare_digest(given, self._for_window(window).encode("ascii"))
        previous = hmac.compare_digest(given, self._for_window(window - 1).encode("ascii"))
        return current | previous
