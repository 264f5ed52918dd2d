"""Two-factor sign-in over HTTP, on SQLite and on PostgreSQL with Redis: enrolment, the
half-signed-in state and its time limit, recovery codes (once each, under a burst), throttled
guessing, turning it off, and what the ID token says (amr, acr, auth_time)."""

from __future__ import annotations

import base64
import time
from urllib.parse import parse_qs, urlsplit

import httpx

from openplate.accounts import totp
from tests.support import jwt_check
from tests.support.browser_flow import authorize, hidden_fields, redirect_params, sign_in
from tests.support.burst import Post, post_together, statuses
from tests.support.seed import Seeder
from tests.support.server import LiveServer
from tests.support.tokens import exchange
from tests.support.two_factor import code_step, enrol, enrolled_account, secret_on

MFA_ACR = "urn:openplate:acr:mfa"
PWD_ACR = "urn:openplate:acr:pwd"


def _params(client_id: str, redirect_uri: str, **extra: str) -> dict[str, str]:
    return {"client_id": client_id, "redirect_uri": redirect_uri, "response_type": "code",
            "state": "st", "scope": "openid account", "nonce": "n1", **extra}


def _signed_in(browser: httpx.Client) -> bool:
    return browser.get("/account/apps").status_code == 200


def test_enrolment_shows_a_qr_code_and_the_key_and_needs_a_first_code(
    server: LiveServer, seeder: Seeder
) -> None:
    account = seeder.user("tf")
    with httpx.Client(base_url=server.url, timeout=30) as browser:
        assert sign_in(browser, account).status_code == 303
        page = browser.get("/account/two-factor")
        assert "is <strong>off</strong>" in page.text
        assert browser.post("/account/two-factor/setup",
                            data=hidden_fields(page.text)).status_code == 303
        page = browser.get("/account/two-factor")
        assert "<svg" in page.text and 'class="qr"' in page.text  # inline, made server-side
        secret = secret_on(page.text)
        assert len(secret) == 20
        # A wrong code: the field says so, and nothing is turned on.
        wrong = browser.post("/account/two-factor/confirm",
                             data={**hidden_fields(page.text), "code": "12345"})
        assert wrong.status_code == 400
        assert 'aria-invalid="true" aria-describedby="f-code-error"' in wrong.text
        assert 'id="f-code-error"' in wrong.text
        assert seeder.scalar("select confirmed_at from totp_authenticators where user_id = :u",
                             u=account.id) is None
        code = totp.totp(secret, int(time.time()))
        done = browser.post("/account/two-factor/confirm",
                            data={**hidden_fields(page.text), "code": code})
        assert done.status_code == 303 and done.headers["location"] == "/account/two-factor"
        shown = browser.get("/account/two-factor")
        assert "is <strong>on</strong>" in shown.text
        assert shown.text.count("<li><code>") == 10
        again = browser.get("/account/two-factor")  # shown once: a reload does not show them
        assert "<li><code>" not in again.text and "Recovery codes left: <strong>10</strong>" in again.text
    # Nothing of the secret or the codes rests in plaintext.
    at_rest = seeder.at_rest(server)
    encoded = base64.b32encode(secret).decode().rstrip("=")
    assert encoded.encode() not in at_rest and secret not in at_rest
    for line in shown.text.split("<li><code>")[1:]:
        recovery = line.split("<")[0]
        assert recovery.encode() not in at_rest and recovery.replace("-", "").encode() not in at_rest
    assert encoded not in server.log()
    kinds = seeder.scalar("select count(*) from security_events where user_id = :u and "
                          "kind = 'two_factor.enabled'", u=account.id)
    assert kinds == 1


def test_sign_in_asks_for_the_code_and_the_browser_is_not_signed_in_meanwhile(
    server: LiveServer, seeder: Seeder
) -> None:
    account = seeder.user("tf")
    app, _codes = enrolled_account(server.url, account)
    with httpx.Client(base_url=server.url, timeout=30) as browser:
        first = sign_in(browser, account, next_path="/account/apps")
        assert first.status_code == 303
        assert first.headers["location"] == "/signin/two-factor"  # nothing of the state in the URL
        assert not _signed_in(browser)
        page = browser.get("/signin/two-factor")
        assert 'name="code"' in page.text
        wrong = code_step(browser, app.wrong_code())
        assert wrong.status_code == 401 and 'aria-invalid="true"' in wrong.text
        assert not _signed_in(browser)
        right = code_step(browser, app.code())
        assert right.status_code == 303 and right.headers["location"] == "/account/apps"
        assert _signed_in(browser)
        assert seeder.scalar("select amr from sessions where user_id = :u order by id desc",
                             u=account.id) == "pwd otp mfa"


def test_a_code_is_accepted_once(server: LiveServer, seeder: Seeder) -> None:
    account = seeder.user("tf")
    app, _codes = enrolled_account(server.url, account)
    code = app.code()
    with httpx.Client(base_url=server.url, timeout=30) as one, \
            httpx.Client(base_url=server.url, timeout=30) as two:
        assert sign_in(one, account).status_code == 303
        assert sign_in(two, account).status_code == 303
        assert code_step(one, code).status_code == 303
        assert code_step(two, code).status_code == 401
        assert not _signed_in(two)


def test_the_half_signed_in_state_has_a_time_limit(server: LiveServer, seeder: Seeder) -> None:
    account = seeder.user("tf")
    app, _codes = enrolled_account(server.url, account)
    with httpx.Client(base_url=server.url, timeout=30) as browser:
        assert sign_in(browser, account).status_code == 303
        page = browser.get("/signin/two-factor")
        # The clock moves past the limit (the row's expiry is set in the past).
        seeder.execute("update second_factor_waits set expires_at = :t where user_id = :u",
                       t=int(time.time()) - 1, u=account.id)
        late = browser.post("/signin/two-factor",
                            data={**hidden_fields(page.text), "code": app.code()})
        assert late.status_code == 400 and "Sign in again" in late.text
        assert not _signed_in(browser)
        # And the page itself sends the browser back to the password.
        assert browser.get("/signin/two-factor").headers["location"].startswith("/signin?")


def test_the_half_signed_in_state_is_bound_to_its_browser(server: LiveServer, seeder: Seeder) -> None:
    account = seeder.user("tf")
    app, _codes = enrolled_account(server.url, account)
    with httpx.Client(base_url=server.url, timeout=30) as browser, \
            httpx.Client(base_url=server.url, timeout=30) as other:
        assert sign_in(browser, account).status_code == 303
        page = other.get("/signin/two-factor")
        assert page.status_code == 303  # another browser has nothing to finish
        form = other.get("/signin")
        stolen = other.post("/signin/two-factor",
                            data={**hidden_fields(form.text), "code": app.code()})
        assert stolen.status_code == 400
        assert not _signed_in(other)


def test_a_recovery_code_signs_in_once(server: LiveServer, seeder: Seeder) -> None:
    account = seeder.user("tf")
    _app, codes = enrolled_account(server.url, account)
    with httpx.Client(base_url=server.url, timeout=30) as browser:
        assert sign_in(browser, account).status_code == 303
        assert code_step(browser, codes[0].upper().replace("-", " ")).status_code == 303
    with httpx.Client(base_url=server.url, timeout=30) as browser:
        assert sign_in(browser, account).status_code == 303
        assert code_step(browser, codes[0]).status_code == 401
    assert seeder.scalar("select count(*) from security_events where user_id = :u and "
                         "kind = 'recovery_code.used'", u=account.id) == 1


def test_a_recovery_code_is_used_once_under_a_burst(server: LiveServer, seeder: Seeder) -> None:
    """Eight browsers, each past the password, send the same recovery code at once: one gets in."""
    account = seeder.user("tf")
    _app, codes = enrolled_account(server.url, account)
    posts = []
    for _ in range(8):
        with httpx.Client(base_url=server.url, timeout=60) as browser:
            assert sign_in(browser, account).status_code == 303
            page = browser.get("/signin/two-factor")
            posts.append(Post(server.url + "/signin/two-factor",
                              {**hidden_fields(page.text), "code": codes[3]},
                              cookies=dict(browser.cookies)))
    answers = post_together(posts)
    assert statuses(answers) == {303: 1, 401: 7}, statuses(answers)
    assert seeder.scalar("select count(*) from recovery_codes where user_id = :u and "
                         "used_at is not null", u=account.id) == 1


def test_code_guessing_is_throttled_under_a_burst(server: LiveServer, seeder: Seeder) -> None:
    """Twenty wrong codes at once: at most ten (the account's budget) are even compared."""
    account = seeder.user("tf")
    app, _codes = enrolled_account(server.url, account)
    with httpx.Client(base_url=server.url, timeout=60) as browser:
        assert sign_in(browser, account).status_code == 303
        page = browser.get("/signin/two-factor")
        post = Post(server.url + "/signin/two-factor",
                    {**hidden_fields(page.text), "code": app.wrong_code()},
                    cookies=dict(browser.cookies))
    answers = post_together([post] * 20)
    assert statuses(answers) == {401: 10, 429: 10}, statuses(answers)
    assert all("Retry-After" in a.headers for a in answers if a.status_code == 429)
    # The right code is refused too while the budget is spent: guessing cannot continue.
    with httpx.Client(base_url=server.url, timeout=30, cookies=post.cookies) as browser:
        assert code_step(browser, app.code()).status_code == 429


def test_turning_it_off_needs_the_password_and_a_code(server: LiveServer, seeder: Seeder) -> None:
    account = seeder.user("tf")
    with httpx.Client(base_url=server.url, timeout=30) as browser:
        assert sign_in(browser, account).status_code == 303
        app, codes = enrol(browser)
        page = browser.get("/account/two-factor")
        fields = hidden_fields(page.text)
        bad_password = browser.post("/account/two-factor/disable", data={
            **fields, "password": "not it", "off_code": app.code()})
        assert bad_password.status_code == 401 and 'aria-describedby="f-password-error"' in bad_password.text
        bad_code = browser.post("/account/two-factor/disable", data={
            **fields, "password": account.password, "off_code": "nope"})
        assert bad_code.status_code == 401 and 'aria-describedby="f-off_code-error"' in bad_code.text
        assert "is <strong>on</strong>" in browser.get("/account/two-factor").text
        off = browser.post("/account/two-factor/disable", data={
            **fields, "password": account.password, "off_code": codes[1]})
        assert off.status_code == 303
        assert "is <strong>off</strong>" in browser.get("/account/two-factor").text
    assert seeder.scalar("select count(*) from recovery_codes where user_id = :u",
                         u=account.id) == 0
    with httpx.Client(base_url=server.url, timeout=30) as browser:
        signed = sign_in(browser, account)
        assert signed.status_code == 303 and signed.headers["location"] == "/"
        assert _signed_in(browser)


def test_new_recovery_codes_replace_the_old(server: LiveServer, seeder: Seeder) -> None:
    account = seeder.user("tf")
    with httpx.Client(base_url=server.url, timeout=30) as browser:
        assert sign_in(browser, account).status_code == 303
        app, old = enrol(browser)
        page = browser.get("/account/two-factor")
        renewed = browser.post("/account/two-factor/recovery-codes",
                               data={**hidden_fields(page.text), "renew_code": app.code()})
        assert renewed.status_code == 303
        new = browser.get("/account/two-factor").text.split("<li><code>")[1:]
        assert len(new) == 10
    with httpx.Client(base_url=server.url, timeout=30) as browser:
        assert sign_in(browser, account).status_code == 303
        assert code_step(browser, old[0]).status_code == 401


def test_a_parked_request_continues_after_the_second_factor_and_the_id_token_says_how(
    server: LiveServer, seeder: Seeder
) -> None:
    account, dev = seeder.user("tf"), seeder.user("dev")
    client = seeder.app(dev)
    app, _codes = enrolled_account(server.url, account)
    with httpx.Client(base_url=server.url, timeout=30) as browser:
        started = int(time.time())
        asked = browser.get("/oauth/auth", params=_params(client.client_id, client.redirect_uris[0]))
        next_path = parse_qs(urlsplit(asked.headers["location"]).query)["next"][0]
        assert sign_in(browser, account, next_path=next_path).headers["location"] == \
            "/signin/two-factor"
        assert f'<strong class="app-name">{client.name}</strong>' in \
            browser.get("/signin/two-factor").text  # which application this sign-in is for
        done = code_step(browser, app.code())
        assert done.status_code == 303 and done.headers["location"] == next_path
        consent = browser.get(next_path)
        assert consent.status_code == 200, consent.text[:300]
        back = browser.post("/oauth/auth/decision",
                            data={**hidden_fields(consent.text), "decision": "allow"})
        code = redirect_params(back)["code"]
    tokens = exchange(server.url, client, code).json()
    claims = jwt_check.verify(tokens["id_token"], server.url)
    assert claims["amr"] == ["pwd", "otp", "mfa"]
    assert claims["acr"] == MFA_ACR
    assert started <= claims["auth_time"] <= int(time.time())


def test_a_password_only_sign_in_says_so(server: LiveServer, seeder: Seeder) -> None:
    account, dev = seeder.user("pw"), seeder.user("dev")
    client = seeder.app(dev)
    with httpx.Client(base_url=server.url, timeout=30) as browser:
        back = authorize(browser, account, _params(client.client_id, client.redirect_uris[0],
                                                   acr_values=MFA_ACR))
        code = redirect_params(back)["code"]  # nothing enrolled: acr_values is voluntary
    claims = jwt_check.verify(exchange(server.url, client, code).json()["id_token"], server.url)
    assert claims["amr"] == ["pwd"] and claims["acr"] == PWD_ACR


def test_acr_values_asks_a_password_only_session_for_the_second_factor(
    server: LiveServer, seeder: Seeder
) -> None:
    account, dev = seeder.user("tf"), seeder.user("dev")
    client = seeder.app(dev)
    params = _params(client.client_id, client.redirect_uris[0], acr_values=MFA_ACR)
    with httpx.Client(base_url=server.url, timeout=30) as browser:
        assert sign_in(browser, account).status_code == 303  # a password-only session
        app, _codes = enrol(browser)
        silent = browser.get("/oauth/auth", params={**params, "prompt": "none"})
        assert silent.status_code == 303
        assert redirect_params(silent)["error"] == "login_required"
        asked = browser.get("/oauth/auth", params=params)
        location = asked.headers["location"]
        assert location.startswith("/signin/two-factor?next=")
        page = browser.get(location)
        assert "Confirm it is you" in page.text
        done = browser.post("/signin/two-factor",
                            data={**hidden_fields(page.text), "code": app.code()})
        assert done.status_code == 303
        back = browser.get(done.headers["location"])
        consent_fields = hidden_fields(back.text)
        answer = browser.post("/oauth/auth/decision", data={**consent_fields, "decision": "allow"})
        code = redirect_params(answer)["code"]
        # Signed in with both now: the same request is not asked again.
        again = browser.get("/oauth/auth", params=params)
        assert "code" in redirect_params(again)
    claims = jwt_check.verify(exchange(server.url, client, code).json()["id_token"], server.url)
    assert claims["acr"] == MFA_ACR and claims["amr"] == ["pwd", "otp", "mfa"]


def test_discovery_names_the_acr_values(server: LiveServer) -> None:
    document = httpx.get(server.url + "/.well-known/openid-configuration", timeout=30).json()
    assert document["acr_values_supported"] == [PWD_ACR, MFA_ACR]
    assert {"amr", "acr"} <= set(document["claims_supported"])


def test_passkey_forms_refuse_bad_input_clearly(server: LiveServer, seeder: Seeder) -> None:
    """Garbage where a passkey answer goes, a challenge asked for by another browser, a name
    too long: a clear error in the page, nothing stored, never a 500."""
    account = seeder.user("pkbad")
    with httpx.Client(base_url=server.url, timeout=30) as browser:
        page = browser.get("/signin")
        fields = hidden_fields(page.text)
        options = browser.post("/signin/passkey/options", data=fields)
        assert options.status_code == 200 and options.headers["cache-control"] == "no-store"
        body = options.json()
        assert body["userVerification"] == "required" and body["allowCredentials"] == []
        assert body["rpId"] == urlsplit(server.url).hostname
        huge = browser.post("/signin/passkey", data={**fields, "credential": "x" * 5000})
        assert huge.status_code == 400  # the form reader's limit: 4096 characters a field
        for credential in ("", "not json", "{}", '{"id": "x", "response": {"clientDataJSON": "!!"}}',
                           "x" * 4000):
            answer = browser.post("/signin/passkey", data={**fields, "credential": credential})
            assert answer.status_code == 401, credential[:20]
            assert 'id="passkey-error"' in answer.text and "passkey" in answer.text.lower()
            assert not _signed_in(browser)
        # The right shape answering a challenge this browser never asked for.
        client_data = base64.urlsafe_b64encode(
            b'{"type":"webauthn.get","challenge":"' + body["challenge"].encode()
            + b'","origin":"http://x"}').decode().rstrip("=")
        other = httpx.Client(base_url=server.url, timeout=30)
        with other:
            other_fields = hidden_fields(other.get("/signin").text)
            stolen = other.post("/signin/passkey", data={**other_fields, "credential": (
                '{"id": "abc", "rawId": "abc", "type": "public-key", "response": '
                f'{{"clientDataJSON": "{client_data}", "authenticatorData": "", "signature": ""}}}}')})
            assert stolen.status_code == 401 and "expired or was already used" in stolen.text
        # Signed in: a name too long, and an answer that is no passkey.
        assert sign_in(browser, account).status_code == 303
        page = browser.get("/account/passkeys")
        long_name = browser.post("/account/passkeys", data={
            **hidden_fields(page.text), "name": "n" * 65, "credential": "{}"})
        assert long_name.status_code == 400
        assert 'aria-describedby="f-name-error"' in long_name.text and "at most 64" in long_name.text
        garbage = browser.post("/account/passkeys", data={
            **hidden_fields(page.text), "name": "Laptop", "credential": "{}"})
        assert garbage.status_code == 400 and 'id="passkey-error"' in garbage.text
        assert browser.post("/account/passkeys/999999/rename", data={
            **hidden_fields(page.text), "name": "x"}).status_code == 404
        assert browser.get("/account/passkeys/999999/remove").status_code == 404
    assert seeder.scalar("select count(*) from passkeys where user_id = :u", u=account.id) == 0


def test_prompt_login_asks_for_both_factors_again_and_auth_time_moves(
    server: LiveServer, seeder: Seeder
) -> None:
    """prompt=login for an enrolled user: the password, then the code, then the code is issued;
    auth_time is the new sign-in's (the clock is moved back on the old one)."""
    account, dev = seeder.user("tf"), seeder.user("dev")
    client = seeder.app(dev)
    app, _codes = enrolled_account(server.url, account)
    params = _params(client.client_id, client.redirect_uris[0])
    with httpx.Client(base_url=server.url, timeout=30) as browser:
        assert sign_in(browser, account).status_code == 303
        assert code_step(browser, app.code()).status_code == 303
        assert "code" in redirect_params(authorize(browser, account, params))
        seeder.execute("update sessions set auth_time = 1000 where user_id = :u", u=account.id)
        asked = browser.get("/oauth/auth", params={**params, "prompt": "login"})
        next_path = parse_qs(urlsplit(asked.headers["location"]).query)["next"][0]
        assert sign_in(browser, account, next_path=next_path).headers["location"] == \
            "/signin/two-factor"
        assert browser.get(next_path).headers["location"].startswith("/signin?")  # not yet
        done = code_step(browser, app.code())
        assert done.headers["location"] == next_path
        code = redirect_params(browser.get(next_path))["code"]
    claims = jwt_check.verify(exchange(server.url, client, code).json()["id_token"], server.url)
    assert claims["auth_time"] > 1000 and claims["acr"] == MFA_ACR
