"""tokens.plausible: the cheap shape check that runs before any lookup of a presented secret."""

from __future__ import annotations

import pytest

from openplate.oauth.tokens import (
    ACCESS_TOKEN_PREFIX,
    MAX_SECRET_CHARS,
    PREFIXES,
    new_secret,
    plausible,
)


@pytest.mark.parametrize("prefix", PREFIXES)
def test_every_minted_secret_is_plausible(prefix: str) -> None:
    for _ in range(200):
        assert plausible(new_secret(prefix), prefix)


@pytest.mark.parametrize("secret", [
    None, "", "opat", "oprt_abc", "OPAT_abc", "opat_abc=", "opat_ab c", "opat_ab+c", "opat_ab/c",
    "opat_abc\n", "opat_\u00e9t\u00e9", "opat_\uff41bc", "opat_abc\x00", " opat_abc",
    "opat_" + "a" * MAX_SECRET_CHARS,
])
def test_anything_else_is_refused_before_a_lookup(secret: str | None) -> None:
    assert not plausible(secret, ACCESS_TOKEN_PREFIX)


def test_the_bare_prefix_and_the_longest_secret_are_plausible() -> None:
    assert plausible("opat_", ACCESS_TOKEN_PREFIX)
    assert plausible("opat_" + "a" * (MAX_SECRET_CHARS - 5), ACCESS_TOKEN_PREFIX)
