"""RFC 6749 §3.3: access token scope — a space-delimited, case-sensitive list of known scopes."""

from __future__ import annotations

from openplate.oauth.errors import InvalidScope

#: Every scope the server knows, with the plain words shown on the consent page: exactly what
#: the app receives (GET /users/me for ``account``; the ID token's and UserInfo's claims, OIDC
#: Core §5.4, for the others: see openplate/oauth/oidc/claims.py).
SCOPES: dict[str, str] = {
    "account": ("See your account details: your user ID, username, e-mail address and when you "
                "joined"),
    "maps": ("Upload mind maps under your name, and see, change and delete the maps in your "
             "library, private ones included"),
    "openid": ("Sign you in with your Openplate account: it learns your user ID (the sub claim) "
               "and when you signed in"),
    "profile": "See your username (the preferred_username and name claims)",
    "email": ("See your e-mail address and whether it is verified (the email and email_verified "
              "claims)"),
}
#: What a client acting for itself (client_credentials) may ask for: there is no user to speak for.
CLIENT_SCOPES: tuple[str, ...] = ("maps",)
#: Granted when a request names no scope (the Biggerplate documentation names none).
DEFAULT_SCOPES: tuple[str, ...] = ("account", "maps")


def parse_scope(raw: str | None, *, lenient_plus: bool = False) -> tuple[str, ...] | None:
    """Parse a scope parameter into an ordered tuple without repeats; None if it was absent.

    ``lenient_plus`` also splits on a literal ``+``: a real client sent ``account+maps``
    percent-encoded on refresh, and the documentation's clients must keep working.
    """
    if raw is None:
        return None
    text = raw.replace("+", " ") if lenient_plus else raw
    seen: dict[str, None] = {}
    for item in text.split(" "):
        if item:
            seen.setdefault(item, None)
    if not seen:
        return None
    unknown = [s for s in seen if s not in SCOPES]
    if unknown:
        raise InvalidScope(f"Unknown scope '{unknown[0][:40]}'.")
    return tuple(seen)


def requested_scope(raw: str | None) -> tuple[str, ...] | None:
    """The known scopes of an authorisation request, in order; None if it named none.

    OIDC Core §3.1.2.1: "Scope values used that are not understood by an implementation SHOULD
    be ignored." They are left out of what is granted, so the token response's ``scope`` says
    what the client got. A request that names scopes but none we know is ``invalid_scope``.
    """
    if raw is None:
        return None
    named = dict.fromkeys(item for item in raw.split(" ") if item)
    if not named:
        return None
    known = tuple(s for s in named if s in SCOPES)
    if not known:
        raise InvalidScope("None of the requested scopes is known here.")
    return known


def format_scope(scopes: tuple[str, ...] | list[str]) -> str:
    return " ".join(scopes)


def covers(granted: str, needed: str) -> bool:
    """True if the space-delimited ``granted`` scope string includes ``needed``."""
    return needed in granted.split(" ")
