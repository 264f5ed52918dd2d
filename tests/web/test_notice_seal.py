"""Sealed one-time notices and form tokens, without a server: what they bind to and refuse."""

from __future__ import annotations

import base64

from openplate.web.notices import Notice, NoticeSeal
from openplate.web.sessions import FormTokens, new_form_key

KEY = b"instance key " * 3
NOTICE = Notice("New secret made.", "opcs_" + "s" * 43, "opc_app")


def test_a_notice_opens_only_in_its_session_under_its_key() -> None:
    seal = NoticeSeal(KEY)
    sealed = seal.seal(NOTICE, session_id=7)
    assert seal.open(sealed, session_id=7) == NOTICE
    assert NOTICE.secret is not None and NOTICE.secret not in sealed and "opcs_" not in sealed
    assert seal.seal(NOTICE, session_id=7) != sealed  # a fresh nonce each time
    assert seal.open(sealed, session_id=8) is None  # moved to another session's row
    assert NoticeSeal(KEY + b"!").open(sealed, session_id=7) is None  # another instance key
    raw = bytearray(base64.urlsafe_b64decode(sealed[3:]))
    raw[-1] ^= 1
    assert seal.open("n1." + base64.urlsafe_b64encode(bytes(raw)).decode(), session_id=7) is None
    for junk in ("", "n1.", "n1.!!!", "n2." + sealed[3:], sealed[:-4], '{"text": "x"}'):
        assert seal.open(junk, session_id=7) is None


def test_form_tokens_are_keyed_digests_of_the_cookie() -> None:
    tokens = FormTokens(KEY)
    cookie = new_form_key()
    token = tokens.token(cookie)
    assert token == tokens.token(cookie) and token != cookie
    assert token != tokens.token(new_form_key())
    assert token != FormTokens(KEY + b"!").token(cookie)
    assert len(cookie) == 43 and len(token) == 43
