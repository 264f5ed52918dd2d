"""RFC 6238: TOTP codes (HOTP, RFC 4226, over 30-second steps), and their secrets.

The algorithm is a dozen lines on ``hmac``; ``tests/accounts/test_totp.py`` checks it against
the RFC's appendix B vectors. Six digits, SHA-1 and 30 s steps: what every authenticator app
reads from an ``otpauth://`` URI without asking.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from urllib.parse import quote, urlencode

STEP = 30
DIGITS = 6
#: RFC 4226 §4 R6: "The length of the shared secret MUST be at least 128 bits. This document
#: RECOMMENDs a shared secret length of 160 bits."
SECRET_BYTES = 20
#: RFC 6238 §5.2: "We RECOMMEND that at most one time step is allowed as the network delay."
WINDOW = 1


def new_secret() -> bytes:
    return secrets.token_bytes(SECRET_BYTES)


def hotp(secret: bytes, counter: int, *, digits: int = DIGITS, digest: str = "sha1") -> str:
    """RFC 4226 §5.3: HMAC of the 8-byte counter, dynamically truncated to ``digits`` digits."""
    mac = hmac.new(secret, counter.to_bytes(8, "big"), getattr(hashlib, digest)).digest()
    offset = mac[-1] & 0x0F
    binary = int.from_bytes(mac[offset:offset + 4], "big") & 0x7FFFFFFF
    return str(binary % 10**digits).zfill(digits)


def step_at(unix_time: int) -> int:
    """RFC 6238 §4.2: T = (Current Unix time - T0) / X, with T0 = 0 and X = 30."""
    return unix_time // STEP


def totp(secret: bytes, unix_time: int, *, digits: int = DIGITS, digest: str = "sha1") -> str:
    return hotp(secret, step_at(unix_time), digits=digits, digest=digest)


def normalise(code: str) -> str | None:
    """A typed code without spaces or dashes, if it is six digits."""
    cleaned = code.replace(" ", "").replace("-", "").strip()
    return cleaned if len(cleaned) == DIGITS and cleaned.isascii() and cleaned.isdigit() else None


def matching_step(secret: bytes, code: str, *, now: int, after: int | None) -> int | None:
    """The time step within ±``WINDOW`` of ``now`` whose code is ``code`` and which is later
    than ``after`` (the last step used: RFC 6238 §5.2 "the verifier MUST NOT accept the second
    attempt of the OTP after the successful validation has been issued for the first OTP").
    Every candidate is compared in constant time."""
    typed = normalise(code)
    if typed is None:
        return None
    found = None
    current = step_at(now)
    for step in range(current - WINDOW, current + WINDOW + 1):
        if hmac.compare_digest(hotp(secret, step), typed) and (after is None or step > after):
            found = step if found is None else found
    return found


def encoded(secret: bytes) -> str:
    """The secret in base32 without padding, as authenticator apps take it."""
    return base64.b32encode(secret).decode("ascii").rstrip("=")


def grouped(secret: bytes) -> str:
    """The base32 secret in groups of four, for typing."""
    text = encoded(secret)
    return " ".join(text[i:i + 4] for i in range(0, len(text), 4))


def provisioning_uri(secret: bytes, *, account: str, issuer: str) -> str:
    """The ``otpauth://totp/`` URI a QR code carries (Google Authenticator's key URI format)."""
    label = quote(f"{issuer}:{account}", safe="")
    query = urlencode({"secret": encoded(secret), "issuer": issuer, "algorithm": "SHA1",
                       "digits": DIGITS, "period": STEP})
    return f"otpauth://totp/{label}?{query}"
