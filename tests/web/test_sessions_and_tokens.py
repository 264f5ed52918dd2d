"""Sessions end for real, tokens expire, secrets rest only as digests, PKCE works with Authlib."""

from __future__ import annotations

import time

import httpx
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import OAuth2Client

from tests.support.browser_flow import authorize, obtain_code, sign_in
from tests.support.seed import Seeder
from tests.support.server import LiveServer


def _exchange(server: LiveServer, app, code: str) -> dict[str, object]:  # type: ignore[no-untyped-def]
    response = httpx.post(server.url + "/oauth/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": app.redirect_uris[0],
        "client_id": app.client_id, "client_secret": app.client_secret or ""})
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def test_sign_out_ends_the_session_server_side(server: LiveServer, seeder: Seeder) -> None:
    account = seeder.user("leaver")
    with httpx.Client(base_url=server.url, timeout=20) as browser:
        anonymous_cookie = browser.get("/signin").cookies.get("openplate_session") or \
            browser.cookies.get("openplate_session")
        assert sign_in(browser, account).status_code == 303
        signed_cookie = browser.cookies.get("openplate_session")
        assert signed_cookie and signed_cookie != anonymous_cookie  # a new id at sign-in
        page = browser.get("/applications")
        assert page.status_code == 200
        csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        assert browser.post("/signout", data={"csrf_token": csrf}).status_code == 303
    # Replaying the old cookie after sign-out gets nowhere.
    with httpx.Client(base_url=server.url, timeout=20,
                      cookies={"openplate_session": signed_cookie}) as thief:
        response = thief.get("/applications")
        assert response.status_code == 303 and response.headers["location"].startswith("/signin")


def test_expired_access_token_is_refused(server: LiveServer, seeder: Seeder) -> None:
    app = seeder.app(seeder.user("dev"))
    tokens = _exchange(server, app, obtain_code(server.url, seeder.user("u"), app.client_id,
                                                app.redirect_uris[0]))
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert httpx.get(server.url + "/users/me", headers=headers).status_code == 200
    digest = seeder.digester.digest(str(tokens["access_token"]))
    seeder.execute("update access_tokens set expires_at = :t where digest = :d",
                   t=int(time.time()) - 1, d=digest)
    expired = httpx.get(server.url + "/users/me", headers=headers)
    assert expired.status_code == 401 and expired.json()["error"] == "invalid_token"
    # The refresh token still gets a new one.
    refreshed = httpx.post(server.url + "/oauth/token", data={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
        "client_id": app.client_id, "client_secret": app.client_secret or ""})
    assert refreshed.status_code == 200
    new_headers = {"Authorization": f"Bearer {refreshed.json()['access_token']}"}
    assert httpx.get(server.url + "/users/me", headers=new_headers).status_code == 200


def test_expired_code_is_refused(server: LiveServer, seeder: Seeder) -> None:
    app = seeder.app(seeder.user("dev"))
    code = obtain_code(server.url, seeder.user("u"), app.client_id, app.redirect_uris[0])
    seeder.execute("update authorization_codes set expires_at = :t where digest = :d",
                   t=int(time.time()) - 1, d=seeder.digester.digest(code))
    response = httpx.post(server.url + "/oauth/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": app.redirect_uris[0],
        "client_id": app.client_id, "client_secret": app.client_secret or ""})
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_secrets_rest_only_as_digests(server: LiveServer, seeder: Seeder) -> None:
    app = seeder.app(seeder.user("dev"))
    code = obtain_code(server.url, seeder.user("u"), app.client_id, app.redirect_uris[0])
    tokens = _exchange(server, app, code)
    raw = seeder.at_rest(server)
    for secret in (code, tokens["access_token"], tokens["refresh_token"], app.client_secret):
        assert str(secret).encode() not in raw
    # ... and never in the server's log.
    log = server.log()
    for secret in (code, tokens["access_token"], tokens["refresh_token"], app.client_secret):
        assert str(secret) not in log


def test_public_client_with_pkce_through_authlib(server: LiveServer, seeder: Seeder) -> None:
    redirect = "http://127.0.0.1:13524/callback"
    app = seeder.app(seeder.user("dev"), redirect_uris=(redirect,), public=True)
    assert app.client_secret is None
    user = seeder.user("desk")
    port_redirect = "http://127.0.0.1:61000/callback"  # any loopback port (RFC 8252 §7.3)
    client = OAuth2Client(app.client_id, redirect_uri=port_redirect, scope="account maps",
                          code_challenge_method="S256", token_endpoint_auth_method="none")
    verifier = generate_token(64)
    url, state = client.create_authorization_url(server.url + "/oauth/auth", code_verifier=verifier)
    query = dict(httpx.URL(url).params)
    with httpx.Client(base_url=server.url, timeout=20) as browser:
        callback = authorize(browser, user, query).headers["location"]
    assert dict(httpx.URL(callback).params)["state"] == state
    token = client.fetch_token(server.url + "/oauth/token", authorization_response=callback,
                               code_verifier=verifier)
    assert token["token_type"] == "Bearer"
    me = client.get(server.url + "/users/me")
    assert me.status_code == 200 and me.json()["UserName"] == user.username


def test_public_client_without_pkce_is_refused(server: LiveServer, seeder: Seeder) -> None:
    app = seeder.app(seeder.user("dev"), redirect_uris=("http://127.0.0.1/cb",), public=True)
    response = httpx.get(server.url + "/oauth/auth", params={
        "client_id": app.client_id, "redirect_uri": "http://127.0.0.1/cb",
        "response_type": "code", "state": "a"})
    assert response.status_code == 303
    assert "error=invalid_request" in response.headers["location"]
