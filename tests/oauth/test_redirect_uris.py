"""Redirect URIs: what may be registered, and exact matching with only the loopback port free."""

from __future__ import annotations

import pytest

from openplate.oauth.redirect_uris import RedirectUriInvalid, matches, validate_for_registration


@pytest.mark.parametrize("uri", [
    "https://app.example.com/callback",
    "https://app.example.com/cb?tenant=1",
    "http://localhost:13524/",
    "http://127.0.0.1:8080/callback",
    "http://[::1]:9000/cb",
    "http://localhost/",
])
def test_accepted(uri: str) -> None:
    assert validate_for_registration(uri) == uri


@pytest.mark.parametrize("uri", [
    "", "callback", "/callback", "https://", "ftp://example.com/", "javascript:alert(1)",
    "http://example.com/cb",  # plain http off loopback
    "https://example.com/cb#frag", "https://*.example.com/cb", "https://user:pw@example.com/cb",
    "https://example.com/c b", "https://exämple.com/cb", "http://localhost.evil.com/",
    "http://localhost:99999/", "https://example.com:0/", "https://" + "a" * 2000 + ".com/",
    "http://localhost:80@evil.com/",
])
def test_rejected(uri: str) -> None:
    with pytest.raises(RedirectUriInvalid):
        validate_for_registration(uri)


REGISTERED = "https://app.example.com/callback"


@pytest.mark.parametrize("requested", [
    "https://app.example.com/callback/", "https://app.example.com/callbac",
    "https://app.example.com/callback?x=1", "https://APP.example.com/callback",
    "https://app.example.com/Callback", "https://app.example.com/%63allback",
    "https://app.example.com/callback/../callback", "https://evil@app.example.com/callback",
    "https://app.example.com.evil.com/callback", "http://app.example.com/callback",
    "https://app.example.com:443/callback", "https://app.example.com/callback#x",
])
def test_no_variant_matches(requested: str) -> None:
    assert not matches(requested, REGISTERED)


def test_exact_match() -> None:
    assert matches(REGISTERED, REGISTERED)


def test_loopback_port_may_vary_but_nothing_else() -> None:
    registered = "http://127.0.0.1:13524/cb"
    assert matches("http://127.0.0.1:50000/cb", registered)
    assert matches("http://127.0.0.1/cb", registered)
    assert not matches("http://localhost:50000/cb", registered)
    assert not matches("http://127.0.0.1:50000/cb2", registered)
    assert not matches("http://127.0.0.1:50000/cb?x", registered)
    assert not matches("https://127.0.0.1:50000/cb", registered)
    assert not matches("http://127.0.0.1:50000@evil.com/cb", registered)
