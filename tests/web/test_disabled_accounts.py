"""A disabled user or application, over HTTP, on SQLite and on PostgreSQL with Redis: the
operator's ``openplate user disable`` / ``app disable`` (a real process beside the server) ends
sessions and tokens at once, and ``enable`` lets new ones be made while the old stay dead."""

from __future__ import annotations

import httpx

from tests.support.browser_flow import hidden_fields, obtain_code, sign_in
from tests.support.operator_cli import operator_json
from tests.support.seed import Account, App, Seeder
from tests.support.server import LiveServer
from tests.support.tokens import exchange, me, refresh, tokens_for
from tests.support.two_factor import enrolled_account, password_step
from tests.support.waiting import wait_until


def introspect(server: LiveServer, app: App, token: str) -> dict[str, object]:
    response = httpx.post(server.url + "/oauth/introspect", timeout=30, data={
        "token": token, "client_id": app.client_id, "client_secret": app.client_secret or ""})
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def userinfo(server: LiveServer, token: str) -> httpx.Response:
    return httpx.get(server.url + "/oauth/userinfo", timeout=30,
                     headers={"Authorization": f"Bearer {token}"})


def upload(server: LiveServer, token: str, title: str = "A map") -> httpx.Response:
    from tests.support.mindmaps import make_xmind_json

    return httpx.post(server.url + "/maps", timeout=30, headers={"Authorization": f"Bearer {token}"},
                      data={"title": title, "description": ""},
                      files={"map": ("m.xmind", make_xmind_json(title, ["a"]))})


def client_token(server: LiveServer, app: App) -> httpx.Response:
    return httpx.post(server.url + "/oauth/token", timeout=30, data={
        "grant_type": "client_credentials", "scope": "maps", "client_id": app.client_id,
        "client_secret": app.client_secret or ""})


def signed_in(browser: httpx.Client) -> bool:
    return browser.get("/account/apps").status_code == 200


def test_a_disabled_user_is_signed_out_and_every_token_of_theirs_ends(
        server: LiveServer, seeder: Seeder) -> None:
    app = seeder.app(seeder.user("dev"), grant_types=("authorization_code", "refresh_token"))
    account = seeder.user("frozen")
    tokens = tokens_for(server.url, account, app, scope="openid account maps")
    unredeemed = obtain_code(server.url, account, app.client_id, app.redirect_uris[0])
    access = tokens["access_token"]
    assert me(server.url, access).status_code == 200
    assert introspect(server, app, access)["active"] is True
    with httpx.Client(base_url=server.url, timeout=20) as browser:
        assert sign_in(browser, account).status_code == 303 and signed_in(browser)

        done = operator_json(server, "user", "disable", account.username)
        assert done == {"id": account.id, "username": account.username, "disabled": True,
                        "changed": True}

        # At once: no wait, on the very next request.
        assert not signed_in(browser)
    refused = me(server.url, access)
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_token"
    assert userinfo(server, access).status_code == 401
    assert upload(server, access).status_code == 401
    assert introspect(server, app, access) == {"active": False}
    assert introspect(server, app, tokens["refresh_token"]) == {"active": False}
    again = refresh(server.url, app, tokens["refresh_token"])
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    late = exchange(server.url, app, unredeemed)
    assert late.status_code == 400 and late.json()["error"] == "invalid_grant"

    # The sign-in page says the account is disabled only to someone who knows the password.
    with httpx.Client(base_url=server.url, timeout=20) as browser:
        wrong = browser.post("/signin", data={**hidden_fields(browser.get("/signin").text),
                                              "login": account.username, "password": "not it!!"})
        assert wrong.status_code == 401 and "disabled" not in wrong.text
        right = sign_in(browser, account)
        assert right.status_code == 403 and "This account is disabled." in right.text
        assert not signed_in(browser)

    shown = operator_json(server, "user", "show", account.email)
    assert shown["disabled_at"] is not None and shown["active_grants"] == 0
    assert shown["sessions"] == 0

    # Enabled again: sign-in and new tokens work; the old tokens stay ended.
    assert operator_json(server, "user", "enable", account.username)["changed"] is True
    with httpx.Client(base_url=server.url, timeout=20) as browser:
        assert sign_in(browser, account).status_code == 303 and signed_in(browser)
    assert me(server.url, access).status_code == 401
    fresh = tokens_for(server.url, account, app)
    assert me(server.url, fresh["access_token"]).status_code == 200

    kinds = [e["kind"] for e in _log(server, account)]
    assert "account.disabled" in kinds and "account.enabled" in kinds


def _log(server: LiveServer, account: Account) -> list[dict[str, object]]:
    from tests.support.operator_cli import operator

    done = operator(server, "security-log", "--user", account.username, "--limit", "50")
    assert done.returncode == 0, done.stderr
    import json

    return [json.loads(line) for line in done.stdout.splitlines()]


def test_a_disabled_application_gets_no_tokens_and_its_tokens_end(
        server: LiveServer, seeder: Seeder) -> None:
    developer = seeder.user("dev")
    app = seeder.app(developer, grant_types=("authorization_code", "refresh_token",
                                             "client_credentials"))
    other = seeder.app(developer, name="Other app")
    account = seeder.user("u")
    tokens = tokens_for(server.url, account, app)
    kept = tokens_for(server.url, account, other)
    unredeemed = obtain_code(server.url, account, app.client_id, app.redirect_uris[0])
    own = client_token(server, app)
    assert own.status_code == 200, own.text

    assert operator_json(server, "app", "disable", app.client_id)["changed"] is True

    # Its tokens end at once; another application's tokens for the same user do not.
    assert me(server.url, tokens["access_token"]).status_code == 401
    assert me(server.url, kept["access_token"]).status_code == 200
    # It still authenticates to ask, and is told its tokens are not active.
    assert introspect(server, app, tokens["access_token"]) == {"active": False}
    assert introspect(server, app, own.json()["access_token"]) == {"active": False}
    assert introspect(server, app, tokens["refresh_token"]) == {"active": False}
    # The token endpoint refuses it (the server's client cache may hold it for up to a second;
    # a token let through meanwhile is dead: the check above reads the flag on every call).
    wait_until(lambda: client_token(server, app).status_code == 401,
               "the token endpoint to refuse the disabled application")
    for response in (client_token(server, app), refresh(server.url, app, tokens["refresh_token"]),
                     exchange(server.url, app, unredeemed)):
        assert response.status_code == 401 and response.json()["error"] == "invalid_client"
    # The authorisation endpoint shows an error page and sends the browser nowhere.
    with httpx.Client(base_url=server.url, timeout=20) as browser:
        page = browser.get("/oauth/auth", params={
            "client_id": app.client_id, "redirect_uri": app.redirect_uris[0],
            "response_type": "code", "state": "s"})
        assert page.status_code == 400 and "This application is disabled" in page.text
        assert "location" not in page.headers

    # Its owner is told on the application's page.
    with httpx.Client(base_url=server.url, timeout=20) as owner:
        assert sign_in(owner, developer).status_code == 303
        assert "have disabled this application" in owner.get(f"/applications/{app.client_id}").text

    assert operator_json(server, "app", "enable", app.client_id)["changed"] is True
    wait_until(lambda: client_token(server, app).status_code == 200,
               "the token endpoint to serve the enabled application again")
    assert me(server.url, tokens["access_token"]).status_code == 401  # ended for good
    fresh = tokens_for(server.url, account, app)
    assert me(server.url, fresh["access_token"]).status_code == 200
    shown = operator_json(server, "app", "show", app.client_id)
    assert shown["disabled_at"] is None and shown["active_grants"] >= 2


def test_disabled_between_the_password_and_the_second_factor_is_not_signed_in(
        server: LiveServer, seeder: Seeder) -> None:
    account = seeder.user("halfway")
    app, _codes = enrolled_account(server.url, account)
    with httpx.Client(base_url=server.url, timeout=30) as browser:
        step = password_step(browser, account)
        assert step.status_code == 303 and step.headers["location"].startswith("/signin/two-factor")
        page = browser.get("/signin/two-factor")
        assert page.status_code == 200
        operator_json(server, "user", "disable", account.username)
        # Disabling ended the half-done sign-in: the right code, on the page shown before,
        # signs nobody in, and the page now sends the browser back to sign in.
        late = browser.post("/signin/two-factor", data={**hidden_fields(page.text),
                                                       "code": app.code()})
        assert late.status_code in (303, 400, 403), late.status_code
        assert not signed_in(browser)
        again = browser.get("/signin/two-factor")
        assert again.status_code == 303 and again.headers["location"].startswith("/signin")
