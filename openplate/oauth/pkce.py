"""RFC 7636: PKCE with the S256 method only (RFC 9700 §2.1.1 forbids downgrades to plain)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

from openplate.oauth.errors import InvalidGrant, InvalidRequest

# RFC 7636 §4.1: code-verifier = 43*128unreserved
_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
# §4.2: S256 challenge is BASE64URL(SHA256(verifier)): 43 characters without padding.
_CHALLENGE = re.compile(r"[A-Za-z0-9\-_]{43}")


def check_challenge(challenge: str | None, method: str | None) -> tuple[str, str] | None:
    """Validate the authorisation request's PKCE parameters; None when PKCE is not used."""
    if challenge is None:
        if method is not None:
            raise InvalidRequest("code_challenge_method was sent without code_challenge.")
        return None
    if method is None or method != "S256":
        # §4.3 defaults a missing method to "plain", which this server does not support.
        raise InvalidRequest("code_challenge_method must be S256.")
    if not _CHALLENGE.fullmatch(challenge):
        raise InvalidRequest("code_challenge is not a valid S256 challenge.")
    return challenge, method


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def verify(verifier: str | None, challenge: str | None) -> None:
    """Check a token request's verifier against the code's challenge (with downgrade protection)."""
    if challenge is None:
        if verifier is not None:
            # RFC 9700 §2.1.1: refuse a verifier for a code issued without a challenge.
            raise InvalidGrant("code_verifier was sent but the authorization request had no PKCE.")
        return
    if verifier is None:
        raise InvalidGrant("code_verifier is required for this code.")
    if not _VERIFIER.fullmatch(verifier):
        raise InvalidGrant("code_verifier is malformed.")
    if not hmac.compare_digest(s256(verifier), challenge):
        raise InvalidGrant("code_verifier does not match the code_challenge.")
