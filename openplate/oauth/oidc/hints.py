"""OpenID Connect Core §3.1.2.1 and RP-Initiated Logout §2: checking an ``id_token_hint``.

"ID Token previously issued by the Authorization Server being passed as a hint" (Core), and at
the end-session endpoint "The OP need not be listed as an audience of the ID Token when it is
used as an id_token_hint value" and "the OP MUST validate that it was the issuer of the ID
Token" (RP-Initiated Logout §2, §4). So: our signature (a key of our own ring, published or
retired but still published), our issuer, one audience (the client), and a ``sub``. An expired
hint is accepted: "RPs SHOULD NOT send ... expired ID Tokens", yet the OP should still log out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from openplate.oauth.oidc.jws import ALGORITHMS

#: Far more than any ID token of ours (a few hundred characters to about 1.5 KiB); refused
#: before it is parsed.
MAX_HINT_CHARS = 8192


class HintInvalid(ValueError):
    """Not an ID token this server issued; the message is for a person."""


@dataclass(frozen=True, slots=True)
class Hint:
    """What a checked hint says: whose it is, which client it went to, its session."""

    subject: str
    client_id: str
    sid: str | None = None


def _audience(claims: Mapping[str, Any]) -> str:
    aud = claims.get("aud")
    if isinstance(aud, list) and len(aud) == 1:
        aud = aud[0]
    if not isinstance(aud, str) or not aud:
        raise HintInvalid("The id_token_hint must have one audience.")
    return aud


def verify_hint(token: str, *, keys: Iterable[Mapping[str, Any]], issuer: str) -> Hint:
    """The hint's subject and client if ``token`` is an ID token we signed; else HintInvalid."""
    if not token or len(token) > MAX_HINT_CHARS or token.count(".") != 2:
        raise HintInvalid("The id_token_hint is not an ID token.")
    try:
        key_set = KeySet.import_key_set({"keys": [dict(key) for key in keys]})
        decoded = jwt.decode(token, key_set, algorithms=list(ALGORITHMS))
    except (JoseError, ValueError, TypeError, KeyError, UnicodeError):
        raise HintInvalid("The id_token_hint is not an ID token this server issued.") from None
    # Our JWT access tokens are signed with the same keys: only an ID token ("JWT") will do.
    if decoded.header.get("typ", "JWT") != "JWT":
        raise HintInvalid("The id_token_hint is not an ID token.")
    claims = decoded.claims
    if claims.get("iss") != issuer:
        raise HintInvalid("The id_token_hint was issued by another server.")
    subject, sid = claims.get("sub"), claims.get("sid")
    if not isinstance(subject, str) or not subject:
        raise HintInvalid("The id_token_hint has no subject.")
    return Hint(subject, _audience(claims), sid if isinstance(sid, str) else None)
