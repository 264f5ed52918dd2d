"""OpenID Connect Core §2 and §3.1.2.1: the authentication context classes (``acr``) we offer.

Two levels, named by URNs of our own (no registry defines them):

- ``urn:openplate:acr:pwd``: signed in with a password only;
- ``urn:openplate:acr:mfa``: signed in with a password and a second factor (a TOTP code, a
  recovery code or a passkey), or with a passkey that verified the user.

A client asks for the second with ``acr_values=urn:openplate:acr:mfa``. ``acr_values`` is a
voluntary claim (§3.1.2.1): a user who has no second factor signs in with the password, and the
ID token's ``acr`` says so, so the client can decide what to let them do.
"""

from __future__ import annotations

from collections.abc import Iterable

PASSWORD_ACR = "urn:openplate:acr:pwd"  # noqa: S105 - a level's name, not a secret
MFA_ACR = "urn:openplate:acr:mfa"
ACR_VALUES_SUPPORTED = (PASSWORD_ACR, MFA_ACR)
#: RFC 8176 §2: "mfa: Multiple-factor authentication."
MFA = "mfa"


def acr_of(amr: Iterable[str]) -> str:
    """The level a sign-in made with these RFC 8176 methods reached."""
    return MFA_ACR if MFA in set(amr) else PASSWORD_ACR


def wants_mfa(acr_values: Iterable[str]) -> bool:
    """Does the request ask for the multi-factor level (anywhere in its list)?"""
    return MFA_ACR in set(acr_values)
