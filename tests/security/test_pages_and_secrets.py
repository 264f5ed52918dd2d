"""Consent and sign-in pages resist framing, caching, referrer leaks and CSRF; the consent is
tied to the browser session that started it; secrets are long, prefixed and never echoed."""

from __future__ import annotations

import re

import httpx
import pytest

from openplate.oauth.tokens import (
    ACCESS_TOKEN_PREFIX,
    CLIENT_SECRET_PREFIX,
    Digester,
    new_client_id,
    new_secret,
)
from tests.support.browser_flow import hidden_fields, sign_in
from tests.support.seed import Seeder
from tests.support.server import LiveServer


def _assert_protective_headers(response: httpx.Response) -> None:
    assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_signin_and_consent_pages_headers(server: LiveServer, seeder: Seeder) -> None:
    app, account = seeder.app(seeder.user("dev"), name='<img src=x onerror="alert(1)">'), seeder.user("u")
    params = {"client_id": app.client_id, "redirect_uri": app.redirect_uris[0], "response_type": "code"}
    with httpx.Client(base_url=server.url, timeout=20) as browser:
        _assert_protective_headers(browser.get("/signin"))
        signed = sign_in(browser, account, next_path="/account/apps")
        assert signed.status_code == 303  # See Other: the POST is never replayed
        consent = browser.get("/oauth/auth", params=params)
        assert consent.status_code == 200
        _assert_protective_headers(consent)
        assert '<img src=x onerror="alert(1)">' not in consent.text
        assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in consent.text


def test_consent_is_bound_to_the_browser_session(server: LiveServer, seeder: Seeder) -> None:
    app, victim, attacker = seeder.app(seeder.user("dev")), seeder.user("v"), seeder.user("a")
    params = {"client_id": app.client_id, "redirect_uri": app.redirect_uris[0], "response_type": "code"}
    with httpx.Client(base_url=server.url, timeout=20) as first, \
            httpx.Client(base_url=server.url, timeout=20) as second:
        sign_in(first, victim)
        handle = hidden_fields(first.get("/oauth/auth", params=params).text)["request"]
        sign_in(second, attacker)
        csrf = hidden_fields(second.get("/account/apps").text)["csrf_token"]
        stolen = second.post("/oauth/auth/decision",
                             data={"csrf_token": csrf, "request": handle, "decision": "allow"})
        assert stolen.status_code == 400 and "location" not in stolen.headers
        # A forged form without the victim's CSRF token is refused too.
        forged = first.post("/oauth/auth/decision", data={"request": handle, "decision": "allow"})
        assert forged.status_code == 403


def test_decision_is_taken_once(server: LiveServer, seeder: Seeder) -> None:
    app, account = seeder.app(seeder.user("dev")), seeder.user("u")
    params = {"client_id": app.client_id, "redirect_uri": app.redirect_uris[0], "response_type": "code"}
    with httpx.Client(base_url=server.url, timeout=20) as browser:
        sign_in(browser, account)
        fields = hidden_fields(browser.get("/oauth/auth", params=params).text)
        assert browser.post("/oauth/auth/decision", data={**fields, "decision": "allow"}).status_code == 303
        again = browser.post("/oauth/auth/decision", data={**fields, "decision": "allow"})
        assert again.status_code == 400


def test_secrets_have_entropy_and_prefixes() -> None:
    secret = new_secret(ACCESS_TOKEN_PREFIX)
    body = secret.removeprefix(ACCESS_TOKEN_PREFIX)
    assert re.fullmatch(r"[0-9a-f]{14}[A-Za-z0-9_\-]{43}", body)  # a stamp, then 256 random bits
    assert len({new_secret(CLIENT_SECRET_PREFIX) for _ in range(1000)}) == 1000
    assert len(new_client_id()) >= 20
    digester = Digester(b"k" * 32)
    assert digester.matches(secret, digester.digest(secret))
    assert not digester.matches(secret + "x", digester.digest(secret))
    assert digester.digest(secret) != Digester(b"j" * 32).digest(secret)  # keyed


def test_an_unknown_sign_in_name_costs_the_same_argon2id_verification(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No such account: the password is still verified, against a dummy hash made with the same
    argon2id parameters as a real one, and the answer is no (even for the dummy's own password)."""
    from argon2 import PasswordHasher, extract_parameters

    from openplate.accounts import passwords

    real = extract_parameters(passwords.hash_password("a real password"))
    assert extract_parameters(passwords._dummy_hash()) == real
    verified: list[str] = []

    class Counting(PasswordHasher):
        def verify(self, hash: str | bytes, password: str | bytes) -> bool:
            verified.append(str(hash))
            return super().verify(hash, password)

    monkeypatch.setattr(passwords, "_HASHER", Counting.from_parameters(real))
    assert passwords.verify_password("openplate-no-such-account", None) is False
    assert passwords.verify_password("a guess", None) is False
    assert verified == [passwords._dummy_hash()] * 2


def test_security_log_is_readable_by_operator_and_append_only(server: LiveServer, seeder: Seeder) -> None:
    import json
    import subprocess
    import sys

    account = seeder.user("logged")
    with httpx.Client(base_url=server.url, timeout=20) as browser:
        sign_in(browser, account)
    env = dict(server.env)
    out = subprocess.run(
        [sys.executable, "-m", "openplate.cli", "security-log", "--user", account.username],
        capture_output=True, text=True, env=env, timeout=60, check=True,
    ).stdout
    events = [json.loads(line) for line in out.splitlines()]
    assert events and events[0]["kind"] == "signin.success" and events[0]["user_id"] == account.id
    assert events[0]["ip"] == "127.0.0.1"
    for statement in ("DELETE FROM security_events", "UPDATE security_events SET kind = 'x'"):
        with pytest.raises(Exception, match="append-only"):
            seeder.execute(statement)
    assert seeder.scalar("SELECT COUNT(*) FROM security_events WHERE kind = 'x'") == 0
