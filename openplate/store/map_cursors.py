"""Cursors of the library's lists: where the next page starts, sealed so nobody can forge one.

A cursor is the sort key of the last map of a page (newest: its ``created_at`` and id; most
viewed: its view count and id; relevance: its tier and id), in base64url, then a
MAC over it and over the list's query (filters and order), from a key derived from the
instance key. So a cursor is opaque and URL-safe, one that was altered or belongs to another
query is refused (``BadCursor``, a 400), and the next page starts right after the last map shown
whatever was added meanwhile (maps added since sort before it, in every order but most viewed).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

#: Longer cursors are refused before anything else is looked at.
MAX_CURSOR_CHARS = 200
_PARTS = {"newest": 2, "views": 2, "relevance": 2}
_LARGEST = 2**63 - 1


class BadCursor(ValueError):
    """A cursor this server did not make for this query."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class CursorSeal:
    def __init__(self, instance_key: bytes) -> None:
        self._key = hmac.new(instance_key, b"openplate library cursors", hashlib.sha256).digest()

    def _mac(self, payload: bytes, query: str) -> str:
        message = payload + b"\0" + query.encode("utf-8", "surrogatepass")
        return _b64(hmac.new(self._key, message, hashlib.sha256).digest()[:16])

    def seal(self, order: str, position: tuple[int, ...], query: str) -> str:
        """The cursor after ``position`` in the list of ``query`` (its canonical text)."""
        assert len(position) == _PARTS[order]
        payload = ".".join((order, *map(str, position))).encode("ascii")
        return f"{_b64(payload)}.{self._mac(payload, query)}"

    def open(self, cursor: str, order: str, query: str) -> tuple[int, ...]:
        """The position a cursor holds; ``BadCursor`` unless it was sealed for ``query``."""
        body, dot, mac = cursor.partition(".")
        if not dot or len(cursor) > MAX_CURSOR_CHARS or not cursor.isascii():
            raise BadCursor("The cursor is not one this list gave.")
        try:
            payload = _unb64(body)
        except (binascii.Error, ValueError):
            raise BadCursor("The cursor is not one this list gave.") from None
        if not hmac.compare_digest(mac, self._mac(payload, query)):
            raise BadCursor("The cursor is not one this list gave, or belongs to another query.")
        kind, *values = payload.decode("ascii").split(".")
        if kind != order or len(values) != _PARTS[order]:
            raise BadCursor("The cursor belongs to another order.")
        position = tuple(int(value) for value in values)
        if not all(0 <= value <= _LARGEST for value in position):
            raise BadCursor("The cursor is out of range.")
        return position
