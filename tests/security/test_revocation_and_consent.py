"""Remembered consent, and everything that ends tokens: revoking the app, a new password,
deleting the app, rotating its secret."""

from __future__ import annotations

import httpx

from tests.support.browser_flow import (
    authorize,
    hidden_fields,
    obtain_code,
    redirect_params,
    rotate_secret,
    sign_in,
)
from tests.support.seed import Account, App, Seeder
from tests.support.server import LiveServer
from tests.support.tokens import exchange, me, refresh, tokens_for


def _params(app: App, scope: str | None = None) -> dict[str, str]:
    params = {"client_id": app.client_id, "redirect_uri": app.redirect_uris[0],
              "response_type": "code", "state": "s"}
    if scope:
        params["scope"] = scope
    return params


def _tokens(server: LiveServer, app: App, account: Account) -> dict[str, str]:
    return tokens_for(server.url, account, app)


def test_remembered_consent_skips_the_page_until_new_scopes(server: LiveServer, seeder: Seeder) -> None:
    app, account = seeder.app(seeder.user("dev")), seeder.user("u")
    with httpx.Client(base_url=server.url, timeout=20) as browser:
        first = authorize(browser, account, _params(app, "account"))
        assert "code" in redirect_params(first)
        again = browser.get("/oauth/auth", params=_params(app, "account"))
        assert again.status_code == 303 and "code=" in again.headers["location"]  # no page
        wider = browser.get("/oauth/auth", params=_params(app, "account maps"))
        assert wider.status_code == 200 and "Allow" in wider.text  # a new scope asks again


def _revoke_on_account_page(browser: httpx.Client, app: App) -> httpx.Response:
    page = browser.get("/account/apps")
    assert page.status_code == 200 and app.name in page.text
    confirm = browser.get(f"/account/apps/{app.client_id}/revoke")
    assert confirm.status_code == 200 and app.name in confirm.text
    return browser.post(f"/account/apps/{app.client_id}/revoke", data=hidden_fields(confirm.text))


def test_revoking_the_app_ends_its_tokens_and_consent(server: LiveServer, seeder: Seeder) -> None:
    app, account = seeder.app(seeder.user("dev"), name="Revocable"), seeder.user("u")
    tokens = _tokens(server, app, account)
    with httpx.Client(base_url=server.url, timeout=20) as browser:
        assert sign_in(browser, account).status_code == 303
        assert _revoke_on_account_page(browser, app).status_code == 303
        after = browser.get("/account/apps").text
        assert f"Revoked access for {app.name}." in after  # said once, then the list without it
        assert app.name not in browser.get("/account/apps").text
        asked = browser.get("/oauth/auth", params=_params(app))
        assert asked.status_code == 200 and "Allow" in asked.text
        log = browser.get("/account/security").text
        for said in ("You took back the access you gave <bdi>Revocable</bdi>.",
                     "You allowed <bdi>Revocable</bdi>.", "You signed in."):
            assert said in log, said
    assert me(server.url, tokens["access_token"]).status_code == 401
    assert refresh(server.url, app, tokens["refresh_token"]).json()["error"] == "invalid_grant"


def test_a_new_password_ends_every_grant(server: LiveServer, seeder: Seeder) -> None:
    app, account = seeder.app(seeder.user("dev")), seeder.user("u")
    tokens = _tokens(server, app, account)
    with httpx.Client(base_url=server.url, timeout=20) as browser:
        assert sign_in(browser, account).status_code == 303
        page = browser.get("/account/password")
        wrong = browser.post("/account/password", data={**hidden_fields(page.text),
                             "current_password": "nope-nope", "new_password": "another pass 123"})
        assert wrong.status_code == 401
        done = browser.post("/account/password", data={**hidden_fields(page.text),
                            "current_password": account.password, "new_password": "another pass 123"})
        assert done.status_code == 303 and done.headers["location"] == "/account/password"
        assert "Password changed." in browser.get("/account/password").text
        assert browser.get("/account/apps").status_code == 200  # this browser stays signed in
    assert me(server.url, tokens["access_token"]).status_code == 401
    assert refresh(server.url, app, tokens["refresh_token"]).json()["error"] == "invalid_grant"


def test_deleting_the_app_ends_access_tokens_at_once(server: LiveServer, seeder: Seeder) -> None:
    developer = seeder.user("dev")
    app, account = seeder.app(developer), seeder.user("u")
    tokens = _tokens(server, app, account)
    with httpx.Client(base_url=server.url, timeout=20) as browser:
        assert sign_in(browser, developer).status_code == 303
        page = browser.get(f"/applications/{app.client_id}")
        fields = hidden_fields(page.text)
        assert browser.post(f"/applications/{app.client_id}/delete", data=fields).status_code == 303
    assert me(server.url, tokens["access_token"]).status_code == 401
    assert refresh(server.url, app, tokens["refresh_token"]).status_code == 401  # client is gone


def test_rotating_the_secret_ends_refresh_tokens(server: LiveServer, seeder: Seeder) -> None:
    developer = seeder.user("dev")
    app, account = seeder.app(developer), seeder.user("u")
    tokens = _tokens(server, app, account)
    new_secret = rotate_secret(server.url, developer, app.client_id)
    assert new_secret.startswith("opcs_") and new_secret != app.client_secret
    old = refresh(server.url, app, tokens["refresh_token"])
    assert old.status_code == 401  # the old secret no longer authenticates
    renewed = App(app.client_id, new_secret, app.redirect_uris, app.name)
    assert refresh(server.url, renewed, tokens["refresh_token"]).json()["error"] == "invalid_grant"


def test_pkce_rules_over_http(server: LiveServer, seeder: Seeder) -> None:
    from openplate.oauth.pkce import s256

    app, account = seeder.app(seeder.user("dev")), seeder.user("u")
    verifier = "v" * 50
    challenge = {"code_challenge": s256(verifier), "code_challenge_method": "S256"}
    code = obtain_code(server.url, account, app.client_id, app.redirect_uris[0], **challenge)
    assert exchange(server.url, app, code).json()["error"] == "invalid_grant"  # missing verifier
    code = obtain_code(server.url, account, app.client_id, app.redirect_uris[0], **challenge)
    assert exchange(server.url, app, code, code_verifier="w" * 50).json()["error"] == "invalid_grant"
    code = obtain_code(server.url, account, app.client_id, app.redirect_uris[0], **challenge)
    assert exchange(server.url, app, code, code_verifier=verifier).status_code == 200
    # Downgrade: a verifier for a code issued without a challenge is refused.
    code = obtain_code(server.url, account, app.client_id, app.redirect_uris[0])
    assert exchange(server.url, app, code, code_verifier=verifier).json()["error"] == "invalid_grant"


def test_require_pkce_switch_for_a_confidential_client(server: LiveServer, seeder: Seeder) -> None:
    developer = seeder.user("dev")
    app = seeder.app(developer)
    params = _params(app)
    assert httpx.get(server.url + "/oauth/auth", params=params).status_code == 303  # fine without
    with httpx.Client(base_url=server.url, timeout=20) as browser:
        sign_in(browser, developer)
        page = browser.get(f"/applications/{app.client_id}")
        saved = browser.post(f"/applications/{app.client_id}", data={
            **hidden_fields(page.text), "name": app.name, "redirect_uris": app.redirect_uris[0],
            "require_pkce": "1"})
        assert saved.status_code == 303
    refused = httpx.get(server.url + "/oauth/auth", params=params)
    assert refused.status_code == 303
    assert "error=invalid_request" in refused.headers["location"]


def test_public_clients_always_ask(server: LiveServer, seeder: Seeder) -> None:
    """RFC 6749 §10.2: no automatic approval for a client that cannot authenticate."""
    from openplate.oauth.pkce import s256

    app = seeder.app(seeder.user("dev"), redirect_uris=("http://127.0.0.1/cb",), public=True)
    params = {**_params(app), "code_challenge": s256("x" * 43), "code_challenge_method": "S256"}
    with httpx.Client(base_url=server.url, timeout=20) as browser:
        assert "code" in redirect_params(authorize(browser, seeder.user("u"), params))
        again = browser.get("/oauth/auth", params=params)
        assert again.status_code == 200 and "Allow" in again.text


def test_edited_redirect_uris_apply_at_once(server: LiveServer, seeder: Seeder) -> None:
    """Clients are cached for a second (store/client_cache.py); an edit made through this server
    must not wait for that: the removed redirect URI is refused by the very next request."""
    developer = seeder.user("dev")
    app, account = seeder.app(developer), seeder.user("u")
    old_uri, new_uri = app.redirect_uris[0], "https://moved.example/callback"
    assert obtain_code(server.url, account, app.client_id, old_uri)  # the client is now cached
    with httpx.Client(base_url=server.url, timeout=20) as browser:
        assert sign_in(browser, developer).status_code == 303
        page = browser.get(f"/applications/{app.client_id}")
        edited = browser.post(f"/applications/{app.client_id}", data={
            **hidden_fields(page.text), "name": app.name, "redirect_uris": new_uri})
        assert edited.status_code == 303
    with httpx.Client(base_url=server.url, timeout=20) as browser:
        refused = browser.get("/oauth/auth", params={**_params(app), "redirect_uri": old_uri})
        assert refused.status_code == 400  # shown to the user, never redirected to
        assert "location" not in refused.headers
    assert obtain_code(server.url, account, app.client_id, new_uri)
