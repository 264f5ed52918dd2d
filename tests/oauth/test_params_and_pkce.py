"""Strict parameter parsing (RFC 6749 §3.1) and PKCE S256 (RFC 7636)."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openplate.oauth import pkce
from openplate.oauth.bearer import token_from_header
from openplate.oauth.errors import InvalidGrant, InvalidRequest, InvalidScope, InvalidToken
from openplate.oauth.params import parse_params
from openplate.oauth.scopes import parse_scope


def test_parse_params_basic() -> None:
    params = parse_params(b"a=1&b=x+y&c=%2B&empty=")
    assert params.values == {"a": "1", "b": "x y", "c": "+"}
    assert "empty" not in params


def test_duplicates_are_flagged() -> None:
    params = parse_params(b"a=1&a=2&b=3")
    assert params.duplicated == {"a"}
    with pytest.raises(InvalidRequest):
        params.reject_duplicates()
    params.reject_duplicates(["b"])


@pytest.mark.parametrize("raw", [b"a=%ff", b"a=%00", b"a=" + b"x" * 5000, b"&".join([b"a=1"] * 65)])
def test_bad_input_is_invalid_request(raw: bytes) -> None:
    with pytest.raises(InvalidRequest):
        parse_params(raw)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])  # no wall-clock limits
@given(st.binary(max_size=300))
def test_parse_never_fails_otherwise(raw: bytes) -> None:
    try:
        parse_params(raw)
    except InvalidRequest:
        pass


def test_pkce_roundtrip_and_downgrades() -> None:
    verifier = "a" * 43
    challenge = pkce.s256(verifier)
    assert pkce.check_challenge(challenge, "S256") == (challenge, "S256")
    pkce.verify(verifier, challenge)
    with pytest.raises(InvalidGrant):
        pkce.verify("b" * 43, challenge)
    with pytest.raises(InvalidGrant):
        pkce.verify(None, challenge)
    with pytest.raises(InvalidGrant):
        pkce.verify(verifier, None)  # verifier for a code issued without PKCE
    with pytest.raises(InvalidGrant):
        pkce.verify("short", challenge)
    for method in (None, "plain", "s256"):
        with pytest.raises(InvalidRequest):
            pkce.check_challenge(challenge, method)
    with pytest.raises(InvalidRequest):
        pkce.check_challenge("tooshort", "S256")


def test_scope_parsing() -> None:
    assert parse_scope(None) is None
    assert parse_scope("maps account maps") == ("maps", "account")
    assert parse_scope("account+maps", lenient_plus=True) == ("account", "maps")
    with pytest.raises(InvalidScope):
        parse_scope("account admin")


def test_bearer_header_forms() -> None:
    assert token_from_header("Bearer opat_abc") == "opat_abc"
    assert token_from_header("bearer opat_abc") == "opat_abc"
    assert token_from_header("opat_abc") == "opat_abc"
    with pytest.raises(InvalidToken):
        token_from_header(None)
    with pytest.raises(InvalidRequest):
        token_from_header("Basic Zm9vOmJhcg==")


_WIRE_TEXT = re.compile(r"[\x20-\x21\x23-\x5b\x5d-\x7e]+")  # RFC 6749 §5.2, error_description


@given(st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), min_size=1,
               max_size=40))
def test_error_descriptions_quoting_the_request_stay_wire_text(echoed: str) -> None:
    """A description that quotes the request (a parameter's name, an unknown scope) keeps to the
    characters RFC 6749 §4.1.2.1 / §5.2 allow; anything else becomes "?"."""
    name = quote(echoed, safe="").encode()
    params = parse_params(name + b"=1&" + name + b"=2")
    with pytest.raises(InvalidRequest) as duplicated:
        params.reject_duplicates()
    with pytest.raises(InvalidScope) as unknown:
        parse_scope("x" + echoed.replace(" ", ""))
    for error in (duplicated.value, unknown.value):
        assert _WIRE_TEXT.fullmatch(error.description), error.description
        assert _WIRE_TEXT.fullmatch(error.to_json()["error_description"])
    assert InvalidRequest('a "b" \\ é\n').description == "a ?b? ? ??"
