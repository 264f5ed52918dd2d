"""OpenID Connect Core §5.4: which claims each scope releases."""

from __future__ import annotations

from openplate.oauth.models import UserProfile


def subject(user_id: int) -> str:
    """§2 sub: "A locally unique and never reassigned identifier" (public subject type)."""
    return str(user_id)


def user_claims(profile: UserProfile, scopes: tuple[str, ...] | list[str]) -> dict[str, object]:
    claims: dict[str, object] = {"sub": subject(profile.id)}
    if "profile" in scopes:
        claims["preferred_username"] = profile.username
        # §5.1 name: "End-User's full name in displayable form": the display name the user
        # chose at /account, else their username.
        claims["name"] = profile.display_name or profile.username
    if "email" in scopes:
        claims["email"] = profile.email
        # §5.1: "true if the End-User's e-mail address has been verified": a link mailed to
        # this very address was used (openplate/accounts/email_change.py).
        claims["email_verified"] = profile.email_verified
    return claims
