"""OpenID Connect Core and discovery, RFC 8414 metadata and RFC 9207 iss, against a live server."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from openplate.oauth.pkce import s256
from tests.support import jwt_check
from tests.support.browser_flow import authorize, hidden_fields, obtain_code, redirect_params, sign_in
from tests.support.seed import Account, App, Seeder
from tests.support.server import LiveServer, start_server
from tests.support.tokens import exchange, tokens_for


def _params(app: App, **extra: str) -> dict[str, str]:
    return {"client_id": app.client_id, "redirect_uri": app.redirect_uris[0],
            "response_type": "code", "state": "st", **extra}


def test_metadata_is_true_to_the_server(server: LiveServer) -> None:
    oauth = httpx.get(server.url + "/.well-known/oauth-authorization-server")
    oidc = httpx.get(server.url + "/.well-known/openid-configuration")
    assert oauth.status_code == oidc.status_code == 200
    meta = oidc.json()
    assert oauth.json() == meta
    assert meta["issuer"] == server.url
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["response_types_supported"] == ["code"]
    assert set(meta["grant_types_supported"]) == {
        "authorization_code", "refresh_token", "client_credentials",
        "urn:ietf:params:oauth:grant-type:device_code"}
    assert "password" not in meta["grant_types_supported"]
    assert meta["authorization_response_iss_parameter_supported"] is True
    assert meta["request_uri_parameter_supported"] is False
    assert meta["id_token_signing_alg_values_supported"] == ["RS256", "ES256", "EdDSA"]
    for key in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri",
                "revocation_endpoint", "introspection_endpoint", "device_authorization_endpoint"):
        assert meta[key].startswith(server.url + "/")
    jwks = httpx.get(meta["jwks_uri"]).json()
    assert len(jwks["keys"]) >= 2  # the current key and the published next one
    assert all("d" not in key and "p" not in key for key in jwks["keys"])  # public halves only


def test_iss_in_every_authorization_response(server: LiveServer, seeder: Seeder) -> None:
    app, account = seeder.app(seeder.user("dev")), seeder.user("u")
    with httpx.Client(base_url=server.url, timeout=20) as browser:
        allowed = redirect_params(authorize(browser, account, _params(app, scope="account")))
        assert allowed["iss"] == server.url and "code" in allowed
        denied = redirect_params(authorize(browser, account, _params(app, scope="maps"),
                                           decision="deny"))
        assert denied["iss"] == server.url and denied["error"] == "access_denied"
        error = browser.get("/oauth/auth", params=_params(app, scope="nope"))
        assert parse_qs(urlsplit(error.headers["location"]).query)["iss"] == [server.url]


def test_id_token_and_userinfo(server: LiveServer, seeder: Seeder) -> None:
    app, account = seeder.app(seeder.user("dev")), seeder.user("oidc")
    before = int(time.time())
    code = obtain_code(server.url, account, app.client_id, app.redirect_uris[0],
                       scope="openid profile email", nonce="n-0S6_WzA2Mj")
    tokens = exchange(server.url, app, code).json()
    claims = jwt_check.verify(tokens["id_token"], server.url)
    assert claims["iss"] == server.url and claims["aud"] == app.client_id
    assert claims["sub"] == str(account.id)
    assert claims["nonce"] == "n-0S6_WzA2Mj"
    assert claims["at_hash"] == jwt_check.at_hash(tokens["access_token"])
    assert before - 5 <= claims["auth_time"] <= claims["iat"] <= int(time.time()) + 5
    assert claims["exp"] > claims["iat"]
    assert claims["preferred_username"] == account.username and claims["email"] == account.email
    info = httpx.get(server.url + "/oauth/userinfo",
                     headers={"Authorization": f"Bearer {tokens['access_token']}"}).json()
    assert info == {"sub": str(account.id), "preferred_username": account.username,
                    "name": account.username, "email": account.email, "email_verified": False}
    # A refresh returns a fresh ID token for the same user, with the original auth_time.
    refreshed = httpx.post(server.url + "/oauth/token", data={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
        "client_id": app.client_id, "client_secret": app.client_secret}).json()
    again = jwt_check.verify(refreshed["id_token"], server.url)
    assert again["sub"] == claims["sub"] and again["auth_time"] == claims["auth_time"]
    assert "nonce" not in again


def test_userinfo_takes_the_token_from_a_form_body(server: LiveServer, seeder: Seeder) -> None:
    """RFC 6750 §2.2: a form-encoded POST body may carry ``access_token``, instead of the header
    and never beside it; only a single-part form body is read for it, and never a query string."""
    app, account = seeder.app(seeder.user("dev")), seeder.user("form")
    token = exchange(server.url, app, obtain_code(server.url, account, app.client_id,
                                                  app.redirect_uris[0], scope="openid")).json()[
        "access_token"]
    url = server.url + "/oauth/userinfo"
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    in_body = httpx.post(url, content=f"access_token={token}".encode(), headers=form)
    assert in_body.status_code == 200, in_body.text
    assert in_body.json() == {"sub": str(account.id)}
    charset = httpx.post(url, content=f"access_token={token}".encode(),
                         headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    assert charset.status_code == 200
    both = httpx.post(url, data={"access_token": token}, headers={"Authorization": f"Bearer {token}"})
    assert (both.status_code, both.json()["error"]) == (400, "invalid_request")
    twice = httpx.post(url, content=f"access_token={token}&access_token={token}".encode(),
                       headers=form)
    assert (twice.status_code, twice.json()["error"]) == (400, "invalid_request")
    wrong = httpx.post(url, data={"access_token": "opat_not-a-real-token"})
    assert (wrong.status_code, wrong.json()["error"]) == (401, "invalid_token")
    assert 'error="invalid_token"' in wrong.headers["www-authenticate"]
    # Not a single-part form body, or not a POST: the token there is not read at all.
    multipart = httpx.post(url, files={"access_token": (None, token)})
    assert multipart.status_code == 401 and "error=" not in multipart.headers["www-authenticate"]
    as_json = httpx.post(url, json={"access_token": token})
    assert as_json.status_code == 401
    in_query = httpx.get(url, params={"access_token": token})
    assert in_query.status_code == 401
    # The header alone still works with any body the client happens to send.
    header = httpx.post(url, data={"other": "x"}, headers={"Authorization": f"Bearer {token}"})
    assert header.status_code == 200


def test_no_id_token_or_userinfo_without_openid(server: LiveServer, seeder: Seeder) -> None:
    app, account = seeder.app(seeder.user("dev")), seeder.user("u")
    tokens = exchange(server.url, app, obtain_code(server.url, account, app.client_id,
                                                   app.redirect_uris[0])).json()
    assert "id_token" not in tokens
    info = httpx.get(server.url + "/oauth/userinfo",
                     headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert info.status_code == 403 and info.json()["error"] == "insufficient_scope"


def test_prompt_none(server: LiveServer, seeder: Seeder) -> None:
    app, account = seeder.app(seeder.user("dev")), seeder.user("u")
    with httpx.Client(base_url=server.url, timeout=20) as browser:
        signed_out = browser.get("/oauth/auth", params=_params(app, prompt="none"))
        assert redirect_params(signed_out)["error"] == "login_required"
        sign_in(browser, account)
        no_consent = browser.get("/oauth/auth", params=_params(app, prompt="none"))
        assert redirect_params(no_consent)["error"] == "consent_required"
        authorize(browser, account, _params(app))
        silent = browser.get("/oauth/auth", params=_params(app, prompt="none"))
        assert "code" in redirect_params(silent)
        mixed = browser.get("/oauth/auth", params=_params(app, prompt="none login"))
        assert redirect_params(mixed)["error"] == "invalid_request"


def test_prompt_login_and_max_age_force_a_new_sign_in(server: LiveServer, seeder: Seeder) -> None:
    app, account = seeder.app(seeder.user("dev")), seeder.user("u")
    with httpx.Client(base_url=server.url, timeout=20) as browser:
        authorize(browser, account, _params(app))  # signed in, consent remembered
        for extra in ({"prompt": "login"}, {"max_age": "0"}):
            # No wait for the clock: the server itself marks the request as signed in for.
            forced = browser.get("/oauth/auth", params=_params(app, scope="openid", **extra))
            assert forced.status_code == 303 and forced.headers["location"].startswith("/signin")
            page = browser.get(forced.headers["location"])
            assert page.status_code == 200 and 'name="password"' in page.text  # asked again
            fields = hidden_fields(page.text)
            signing_in = int(time.time())
            done = browser.post("/signin", data={**fields, "login": account.username,
                                                 "password": account.password})
            signed_in = time.time()
            back = browser.get(done.headers["location"])
            if back.status_code == 200:  # openid is a new scope for this app: consent once
                back = browser.post("/oauth/auth/decision",
                                    data={**hidden_fields(back.text), "decision": "allow"})
            code = redirect_params(back)["code"]
            tokens = exchange(server.url, app, code).json()
            claims = jwt_check.verify(tokens["id_token"], server.url)
            assert signing_in <= claims["auth_time"] <= signed_in  # this sign-in, not the first


def test_login_hint_prefills_the_sign_in_form(server: LiveServer, seeder: Seeder) -> None:
    app = seeder.app(seeder.user("dev"))
    with httpx.Client(base_url=server.url, timeout=20) as browser:
        first = browser.get("/oauth/auth", params=_params(app, login_hint="ann@example.org"))
        page = browser.get(first.headers["location"])
        assert 'value="ann@example.org"' in page.text


def test_public_client_pkce_flow_issues_id_token(server: LiveServer, seeder: Seeder) -> None:
    app = seeder.app(seeder.user("dev"), redirect_uris=("http://127.0.0.1/cb",), public=True)
    verifier = "p" * 60
    code = obtain_code(server.url, seeder.user("u"), app.client_id, app.redirect_uris[0],
                       scope="openid", code_challenge=s256(verifier), code_challenge_method="S256")
    tokens = exchange(server.url, app, code, code_verifier=verifier).json()
    assert jwt_check.verify(tokens["id_token"], server.url)["aud"] == app.client_id


@pytest.fixture(scope="module")
def eddsa_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A deployment whose default signing algorithm is not RS256."""
    folder: Path = tmp_path_factory.mktemp("eddsa")
    live = start_server(folder, extra_env={"OPENPLATE_SIGNING_ALG": "EdDSA"})
    yield live
    live.stop()


def _app_with_alg(live: LiveServer, owner: Account, *alg: str) -> tuple[App, str]:
    made = subprocess.run(
        [sys.executable, "-m", "openplate.cli", "app", "create", "--owner", owner.username,
         "--name", "Signer", "--redirect-uri", "http://localhost:13524/", *alg, "--json"],
        env=live.env, capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    data = json.loads(made.stdout)
    return App(data["client_id"], data["client_secret"], tuple(data["redirect_uris"]),
               "Signer"), str(data["id_token_alg"])


def _id_token_alg(live: LiveServer, seeder: Seeder, app: App) -> str:
    """The algorithm of a new ID token for ``app``, after joserfc verified it with the JWKS."""
    tokens = tokens_for(live.url, seeder.user("u"), app, scope="openid")
    header = jwt_check.header(tokens["id_token"])
    claims = jwt_check.verify(tokens["id_token"], live.url)
    assert claims["aud"] == app.client_id
    assert claims["at_hash"] == jwt_check.at_hash(tokens["access_token"], header["alg"])
    return str(header["alg"])


def test_each_client_chooses_its_id_token_algorithm(eddsa_server: LiveServer) -> None:
    """RS256 is always offered; a client registers RS256, ES256 or EdDSA; OPENPLATE_SIGNING_ALG
    only picks the default for a new client."""
    live = eddsa_server
    meta = httpx.get(live.url + "/.well-known/openid-configuration").json()
    assert meta["id_token_signing_alg_values_supported"] == ["RS256", "ES256", "EdDSA"]
    seeder = Seeder(live)
    owner = seeder.user("dev")
    for flag, expected in ((("--id-token-alg", "ES256"), "ES256"),
                           (("--id-token-alg", "RS256"), "RS256"), ((), "EdDSA")):
        app, stored = _app_with_alg(live, owner, *flag)
        assert stored == expected
        assert _id_token_alg(live, seeder, app) == expected

    # On the app page: a labelled select, saved with the other settings.
    app, _ = _app_with_alg(live, owner, "--id-token-alg", "ES256")
    with httpx.Client(base_url=live.url, timeout=20) as browser:
        sign_in(browser, owner)
        page = browser.get(f"/applications/{app.client_id}").text
        assert "ID token signature" in page and '<select name="id_token_alg">' in page
        assert '<option value="ES256" selected>' in page
        form = {**hidden_fields(page), "name": "Signer", "redirect_uris": app.redirect_uris[0]}
        refused = browser.post(f"/applications/{app.client_id}", data={**form, "id_token_alg": "HS256"})
        assert refused.status_code == 400 and "ID token signature" in refused.text
        assert _id_token_alg(live, seeder, app) == "ES256"  # nothing changed
        saved = browser.post(f"/applications/{app.client_id}", data={**form, "id_token_alg": "RS256"})
        assert saved.status_code == 303, saved.text
        assert '<option value="RS256" selected>' in browser.get(f"/applications/{app.client_id}").text
    assert _id_token_alg(live, seeder, app) == "RS256"
