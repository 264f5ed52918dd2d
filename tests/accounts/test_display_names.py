"""openplate/accounts/display_names.py: any script and emoji; no controls or invisible tricks."""

from __future__ import annotations

import pytest

from openplate.accounts.display_names import MAX_DISPLAY_NAME, check_display_name
from openplate.accounts.validation import InvalidAccountInput


@pytest.mark.parametrize(("typed", "kept"), [
    ("Ada Lovelace", "Ada Lovelace"),
    ("  padded  ", "padded"),
    ("李小龍", "李小龍"),
    ("محمد عبد الله", "محمد عبد الله"),
    ("👩‍💻 dev", "👩‍💻 dev"),  # the zero-width joiner of an emoji sequence is kept
    ("Zoe\u0308", "Zoë"),  # NFC: e + combining diaeresis becomes one character
    ("x" * MAX_DISPLAY_NAME, "x" * MAX_DISPLAY_NAME),
    ("", None),
    ("   ", None),
])
def test_good_names_are_kept_normalised(typed: str, kept: str | None) -> None:
    assert check_display_name(typed) == kept


@pytest.mark.parametrize("typed", [
    "x" * (MAX_DISPLAY_NAME + 1), "evil\u202egnp.exe", "a\nb", "a\rb", "a\tb", "zero\u200bwidth",
    "bell\x07", "a\u2028b", "private\ue000use", "un\U000e0001tag", "nb\u00a0sp", "two  spaces",
])
def test_bad_names_are_refused_naming_the_field(typed: str) -> None:
    with pytest.raises(InvalidAccountInput) as refused:
        check_display_name(typed)
    assert refused.value.field == "display_name"
    assert str(refused.value)


def test_the_name_claim_is_the_display_name_else_the_username() -> None:
    from openplate.oauth.models import UserProfile
    from openplate.oauth.oidc.claims import user_claims

    named = user_claims(UserProfile(7, "ada", "a@example.org", 0, display_name="Ada L."),
                        ["openid", "profile"])
    plain = user_claims(UserProfile(7, "ada", "a@example.org", 0), ["openid", "profile"])
    assert (named["name"], named["preferred_username"]) == ("Ada L.", "ada")
    assert plain["name"] == "ada"
    assert "name" not in user_claims(UserProfile(7, "ada", "a@example.org", 0,
                                                 display_name="Ada L."), ["openid"])
