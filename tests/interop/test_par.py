"""RFC 9126 with npm openid-client 6.9.0 (``buildAuthorizationUrlWithPAR``) and oauth4webapi 3.8.8
(``pushedAuthorizationRequest`` + ``processPushedAuthorizationResponse``, then its own callback
checks and code exchange), through the real sign-in and consent pages to tokens; and an app that
requires PAR, refused when it sends a plain request."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from tests.interop.support import (
    REDIRECT_URI,
    NodeClient,
    Site,
    browser_callback,
    callback_params,
)

SCOPE = "openid profile account"


def _only_client_id_and_request_uri(url: str, site: Site, client_id: str) -> str:
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == site.url + "/oauth/auth"
    query = dict(parse_qsl(parts.query))
    assert set(query) == {"client_id", "request_uri"} and query["client_id"] == client_id
    assert query["request_uri"].startswith("urn:ietf:params:oauth:request_uri:")
    return query["request_uri"]


@pytest.mark.parametrize(("public", "auth"), [(False, "basic"), (False, "post"), (True, None)])
def test_openid_client_build_authorization_url_with_par(js: NodeClient, site: Site, public: bool,
                                                        auth: str | None) -> None:
    account, app = site.account_and_app("par", public=public)
    creds = site.creds(app, auth)
    meta = js.ok("discover", **creds)
    assert meta["pushed_authorization_request_endpoint"] == site.url + "/oauth/par"
    request = js.ok("par_authorization_url", **creds, redirect_uri=REDIRECT_URI, scope=SCOPE)
    _only_client_id_and_request_uri(request["url"], site, app.client_id)
    callback = browser_callback(site, account, request["url"])
    assert callback_params(callback)["state"] == request["state"]
    grant = js.ok("code_grant", **creds, callback_url=callback, state=request["state"],
                  nonce=request["nonce"], code_verifier=request["code_verifier"])
    assert grant["tokens"]["scope"] == SCOPE and grant["tokens"]["access_token"]
    assert grant["claims"]["aud"] == app.client_id and grant["claims"]["nonce"] == request["nonce"]
    assert grant["claims"]["sub"] == str(account.id)
    # The request_uri was used once: the same URL again is refused with a page.
    again = httpx.get(request["url"], timeout=20)
    assert again.status_code == 400 and "location" not in again.headers
    assert "invalid_request_uri" in again.text and "already used" in again.text


@pytest.mark.parametrize("auth", ["basic", "post"])
def test_oauth4webapi_pushed_authorization_request(js: NodeClient, site: Site, auth: str) -> None:
    account, app = site.account_and_app("o4wpar")
    creds = site.creds(app, auth)
    pushed = js.ok("o4w_par", **creds, redirect_uri=REDIRECT_URI, scope=SCOPE)
    assert pushed["status"] == 201 and pushed["endpoint"] == site.url + "/oauth/par"
    assert pushed["pushed"]["expires_in"] == 60
    request_uri = _only_client_id_and_request_uri(pushed["url"], site, app.client_id)
    assert pushed["pushed"]["request_uri"] == request_uri
    callback = browser_callback(site, account, pushed["url"])
    grant = js.ok("o4w_code_grant", **creds, callback_url=callback, state=pushed["state"],
                  nonce=pushed["nonce"], code_verifier=pushed["code_verifier"],
                  redirect_uri=REDIRECT_URI)
    assert grant["tokens"]["token_type"].lower() == "bearer" and grant["tokens"]["id_token"]
    assert grant["claims"]["iss"] == site.url and grant["claims"]["aud"] == app.client_id
    assert grant["claims"]["nonce"] == pushed["nonce"]


def test_oauth4webapi_reports_a_refused_push(js: NodeClient, site: Site) -> None:
    """A push the server refuses is a JSON error oauth4webapi reads (RFC 9126 §2.3)."""
    _, app = site.account_and_app("o4wbad")
    error = js.refused("o4w_par", **site.creds(app), redirect_uri="http://localhost:9/elsewhere",
                       scope=SCOPE)
    assert error["error"] == "invalid_request" and error["status"] == 400
    wrong = js.refused("o4w_par", **{**site.creds(app), "client_secret": "opcs_wrong"},
                       redirect_uri=REDIRECT_URI, scope=SCOPE)
    assert wrong["name"] == "WWWAuthenticateChallengeError" and wrong["status"] == 401
    assert wrong["response_body"]["error"] == "invalid_client"


def test_an_app_that_requires_par(js: NodeClient, site: Site) -> None:
    """A plain request of an app that requires PAR comes back as an error (the operator's app
    is trusted for automatic redirects), which openid-client reports; the pushed one works."""
    account, app = site.account_and_app("mustpar")
    site.seeder.execute("update clients set require_pushed_authorization_requests = :on "
                        "where client_id = :cid", on=True, cid=app.client_id)
    creds = site.creds(app)
    plain = js.ok("authorization_url", **creds, redirect_uri=REDIRECT_URI, scope=SCOPE)
    refused_at = browser_callback(site, account, plain["url"])
    error = js.refused("code_grant", **creds, callback_url=refused_at, state=plain["state"],
                       nonce=plain["nonce"], code_verifier=plain["code_verifier"])
    assert error["error"] == "invalid_request" and "/oauth/par" in error["error_description"]
    request = js.ok("par_authorization_url", **creds, redirect_uri=REDIRECT_URI, scope=SCOPE)
    callback = browser_callback(site, account, request["url"])
    grant = js.ok("code_grant", **creds, callback_url=callback, state=request["state"],
                  nonce=request["nonce"], code_verifier=request["code_verifier"])
    assert grant["tokens"]["access_token"]
