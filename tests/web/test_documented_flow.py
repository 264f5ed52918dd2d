"""The Biggerplate flow end to end, driven by a real OAuth client library (requests-oauthlib)."""

from __future__ import annotations

import os
import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import requests
from requests_oauthlib import OAuth2Session

from tests.support.browser_flow import authorize, obtain_code
from tests.support.mindmaps import make_xmind_json
from tests.support.seed import Seeder
from tests.support.server import LiveServer

# Our server runs on plain-http loopback in tests; oauthlib refuses that unless told.
os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"

REDIRECT = "http://localhost:13524/"


def _callback(server: LiveServer, oauth: OAuth2Session, account, decision="allow"):  # type: ignore[no-untyped-def]
    url, state = oauth.authorization_url(server.url + "/oauth/auth")
    params = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    with httpx.Client(base_url=server.url, timeout=20) as browser:
        response = authorize(browser, account, params, decision=decision)
    return response.headers["location"], state


def test_full_documented_flow(server: LiveServer, seeder: Seeder) -> None:
    developer, user = seeder.user("dev"), seeder.user("alice")
    app = seeder.app(developer, redirect_uris=(REDIRECT,))
    oauth = OAuth2Session(app.client_id, redirect_uri=REDIRECT, scope=["account", "maps"])

    callback, state = _callback(server, oauth, user)
    assert callback.startswith(REDIRECT + "?")
    assert parse_qs(urlsplit(callback).query)["state"] == [state]

    asked = time.time()
    token = oauth.fetch_token(
        server.url + "/oauth/token", authorization_response=callback,
        client_secret=app.client_secret, include_client_id=True,
    )
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == 3600
    assert int(asked) + 3600 <= token["expires"] <= time.time() + 3600  # an hour from the answer
    assert token["access_token"].startswith("opat_") and token["refresh_token"].startswith("oprt_")
    assert token["scope"] == ["account", "maps"]

    me = oauth.get(server.url + "/users/me")
    assert me.status_code == 200
    assert me.json()["UserName"] == user.username

    xmind = make_xmind_json("Project plan", ["Goals", "Risks"])
    upload = oauth.post(
        server.url + "/maps",
        data={"title": "Project plan", "description": "Our Q3 plan"},
        files={"map": ("plan.xmind", xmind, "application/octet-stream")},
    )
    assert upload.status_code == 201, upload.text
    page_url = upload.json()["url"]
    assert page_url.startswith(server.url + "/mindmaps/")
    page = requests.get(page_url, timeout=20)
    assert page.status_code == 200
    assert "Project plan" in page.text and "Goals" in page.text and user.username in page.text
    download = requests.get(upload.json()["download_url"], timeout=20)
    assert download.content == xmind

    old_access = token["access_token"]
    refreshed = oauth.refresh_token(
        server.url + "/oauth/token", client_id=app.client_id, client_secret=app.client_secret
    )
    assert refreshed["access_token"] != old_access
    assert refreshed["refresh_token"] != token["refresh_token"]
    assert oauth.get(server.url + "/users/me").json()["UserName"] == user.username


def test_deny_returns_access_denied_with_state(server: LiveServer, seeder: Seeder) -> None:
    developer, user = seeder.user("dev"), seeder.user("bob")
    app = seeder.app(developer, redirect_uris=(REDIRECT,))
    oauth = OAuth2Session(app.client_id, redirect_uri=REDIRECT)
    callback, state = _callback(server, oauth, user, decision="deny")
    query = parse_qs(urlsplit(callback).query)
    assert query["error"] == ["access_denied"]
    assert query["state"] == [state]
    assert "code" not in query


def _code(server: LiveServer, seeder: Seeder, app, scope: str | None = None) -> str:  # type: ignore[no-untyped-def]
    extra = {"scope": scope} if scope else {}
    return obtain_code(server.url, seeder.user("carol"), app.client_id, app.redirect_uris[0], **extra)


def test_doc_literal_token_request_and_bare_token(server: LiveServer, seeder: Seeder) -> None:
    """The page's table: response_type=token and no grant_type; then the bare Authorization header."""
    app = seeder.app(seeder.user("dev"))
    code = _code(server, seeder, app)
    response = httpx.post(server.url + "/oauth/token", data={
        "client_id": app.client_id, "client_secret": app.client_secret,
        "redirect_uri": app.redirect_uris[0], "response_type": "token", "code": code,
    })
    assert response.status_code == 200, response.text
    body = response.json()
    assert list(body)[:5] == ["access_token", "token_type", "expires", "expires_in", "refresh_token"]
    assert response.headers["cache-control"] == "no-store"
    me = httpx.get(server.url + "/users/me", headers={"Authorization": body["access_token"]})
    assert me.status_code == 200 and me.json()["UserName"]

    refreshed = httpx.post(server.url + "/oauth/token", data={
        "client_id": app.client_id, "client_secret": app.client_secret,
        "grant_type": "refresh_token", "refresh_token": body["refresh_token"],
        "scope": "account+maps", "redirect_uri": app.redirect_uris[0],
    })
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.json()["scope"] == "account maps"
    # The literal string as a form-encoder sends it (a real client did this): %2B.
    again = httpx.post(
        server.url + "/oauth/token",
        content=(
            f"client_id={app.client_id}&client_secret={app.client_secret}&grant_type=refresh_token"
            f"&refresh_token={refreshed.json()['refresh_token']}&scope=account%2Bmaps"
        ),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert again.status_code == 200, again.text


def test_code_is_single_use_and_replay_revokes(server: LiveServer, seeder: Seeder) -> None:
    app = seeder.app(seeder.user("dev"))
    code = _code(server, seeder, app)
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": app.redirect_uris[0],
            "client_id": app.client_id, "client_secret": app.client_secret}
    first = httpx.post(server.url + "/oauth/token", data=form)
    assert first.status_code == 200
    second = httpx.post(server.url + "/oauth/token", data=form)
    assert second.status_code == 400 and second.json()["error"] == "invalid_grant"
    me = httpx.get(server.url + "/users/me",
                   headers={"Authorization": "Bearer " + first.json()["access_token"]})
    assert me.status_code == 401  # tokens from the replayed code were revoked


@pytest.mark.parametrize("scope,status", [("account", 200), ("maps", 403)])
def test_scope_is_enforced(server: LiveServer, seeder: Seeder, scope: str, status: int) -> None:
    app = seeder.app(seeder.user("dev"))
    code = _code(server, seeder, app, scope=scope)
    token = httpx.post(server.url + "/oauth/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": app.redirect_uris[0],
        "client_id": app.client_id, "client_secret": app.client_secret,
    }).json()
    assert token["scope"] == scope
    me = httpx.get(server.url + "/users/me",
                   headers={"Authorization": "Bearer " + token["access_token"]})
    assert me.status_code == status
    if status == 403:
        assert me.json()["error"] == "insufficient_scope"
        assert 'error="insufficient_scope"' in me.headers["www-authenticate"]
