"""RFC 6749 §3.1.2, RFC 8252 §7.3, RFC 9700 §4.1.3: registering and matching redirect URIs.

Matching compares raw strings, never normalised ones: "the authorization server MUST ensure that
the two URIs are equal" (RFC 9700 §4.1.3). The one allowed difference is the port of a loopback
URI: "The authorization server MUST allow any port to be specified at the time of the request for
loopback IP redirect URIs" (RFC 8252 §7.3).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

MAX_URI_CHARS = 2000
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")
_LOOPBACK = re.compile(r"http://(localhost|127\.0\.0\.1|\[::1\])(?::(\d{1,5}))?(/[^#]*)?", re.ASCII)
_SAFE = re.compile(r"[!-~]+", re.ASCII)  # printable ASCII, no spaces or controls
#: RFC 8252 §7.1: a private-use URI scheme "based on a domain name under their control,
#: expressed in reverse order" (so it holds a period), then a single slash: com.example.app:/cb.
_PRIVATE_USE = re.compile(r"([a-z][a-z0-9+\-]*(?:\.[a-z0-9+\-]+)+):/(?!/)[!-~]*", re.ASCII)


class RedirectUriInvalid(ValueError):
    """A redirect URI that may not be registered; the message says why, for a person."""


def is_private_use(uri: str) -> bool:
    """A native app's private-use URI scheme redirect (RFC 8252 §7.1), such as
    ``com.example.app:/callback``."""
    return _PRIVATE_USE.fullmatch(uri) is not None and "#" not in uri


def is_loopback(uri: str) -> bool:
    """An http URI on a loopback host (RFC 8252 §7.3)."""
    return _LOOPBACK.fullmatch(uri) is not None


def validate_for_registration(uri: str, *, private_use: bool = False) -> str:
    """Return ``uri`` unchanged if it may be registered, else raise RedirectUriInvalid.

    ``private_use``: a native app's private-use URI scheme is allowed too (RFC 8252 §7.1).
    """
    if private_use and len(uri) <= MAX_URI_CHARS and is_private_use(uri) and "*" not in uri:
        return uri
    if not uri:
        raise RedirectUriInvalid("A redirect URI must not be empty.")
    if len(uri) > MAX_URI_CHARS:
        raise RedirectUriInvalid("A redirect URI must be at most 2000 characters long.")
    if not _SAFE.fullmatch(uri):
        raise RedirectUriInvalid("A redirect URI must not contain spaces or non-ASCII characters.")
    if "#" in uri:
        raise RedirectUriInvalid("A redirect URI must not contain a fragment (#).")
    if "*" in uri:
        raise RedirectUriInvalid("A redirect URI must not contain a wildcard (*).")
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        raise RedirectUriInvalid("A redirect URI must be a valid absolute URL.") from None
    if parts.scheme not in ("https", "http") or not parts.netloc or not parts.hostname:
        raise RedirectUriInvalid("A redirect URI must be an absolute https:// URL.")
    if "@" in parts.netloc:
        raise RedirectUriInvalid("A redirect URI must not contain a user name or password.")
    if parts.scheme == "http":
        if not _LOOPBACK.fullmatch(uri):
            raise RedirectUriInvalid(
                "Plain http is allowed only for loopback hosts (localhost, 127.0.0.1, [::1])."
            )
    if port is not None and not 0 < port < 65536:
        raise RedirectUriInvalid("A redirect URI's port must be between 1 and 65535.")
    return uri


def _loopback_parts(uri: str) -> tuple[str, str] | None:
    match = _LOOPBACK.fullmatch(uri)
    if match is None:
        return None
    host, port, rest = match.group(1), match.group(2), match.group(3) or ""
    if port is not None and not 0 < int(port) < 65536:
        return None
    return host, rest


def matches(requested: str, registered: str) -> bool:
    """True if ``requested`` is exactly ``registered`` (any port for a loopback URI)."""
    if requested == registered:
        return True
    reg = _loopback_parts(registered)
    if reg is None:
        return False
    return _loopback_parts(requested) == reg


def find_match(requested: str, registered: tuple[str, ...] | list[str]) -> str | None:
    """The registered URI that ``requested`` matches, if any."""
    for candidate in registered:
        if matches(requested, candidate):
            return candidate
    return None
