"""npm openid-client v6 ends the session it started: ``buildEndSessionUrl`` from the discovered
``end_session_endpoint``, the person confirms, the browser comes back to the registered
``post_logout_redirect_uri`` with the client's state; the client's back-channel logout endpoint
gets a logout token that jose (``jwtVerify``, ``typ: logout+jwt``) and joserfc both accept, with
the ``sid`` of the ID token openid-client validated."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from tests.interop.support import REDIRECT_URI, NodeClient, Site, openid_client_login
from tests.support.browser_flow import hidden_fields
from tests.support.logout_receiver import Receiver, logout_receiver
from tests.support.seed import Seeder
from tests.support.server import start_server
from tests.support.waiting import wait_until

BACK = REDIRECT_URI + "signed-out"


@pytest.fixture(scope="module")
def logout_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    live = start_server(tmp_path_factory.mktemp("interop-logout"), extra_env={
        "OPENPLATE_ALLOW_PRIVATE_CLIENT_URLS": "1", "OPENPLATE_MAIL_POLL_INTERVAL": "1"})
    try:
        yield Site(live, Seeder(live), "RS256", "opaque")
    finally:
        assert "Traceback" not in live.log()
        live.stop()


@pytest.fixture(scope="module")
def receiver(logout_site: Site) -> Iterator[Receiver]:
    with logout_receiver(logout_site.url) as live:
        yield live


def test_openid_client_builds_the_end_session_url_and_the_app_hears_of_it(
        js: NodeClient, logout_site: Site, receiver: Receiver) -> None:
    site = logout_site
    account = site.seeder.user("rp")
    app = site.seeder.app(site.seeder.user("rpdev"), redirect_uris=(REDIRECT_URI,),
                          name="Interop logout", post_logout_redirect_uris=(BACK,),
                          backchannel_logout_uri=receiver.url + "/backchannel",
                          backchannel_logout_session_required=True)
    meta = js.ok("discover", issuer=site.url, client_id="any", auth="none")
    assert meta["end_session_endpoint"] == site.url + "/oauth/logout"
    assert meta["backchannel_logout_session_supported"] is True
    with httpx.Client(base_url=site.url, timeout=20) as browser:
        login = openid_client_login(js, site, account, app, scope="openid", browser=browser)
        sid = login.claims["sid"]
        built = js.ok("end_session_url", **site.creds(app), parameters={
            "id_token_hint": login.tokens["id_token"], "post_logout_redirect_uri": BACK,
            "state": "rp-state-1"})
        assert built["end_session_endpoint"] == site.url + "/oauth/logout"
        parts = urlsplit(built["url"])
        assert f"{parts.scheme}://{parts.netloc}{parts.path}" == site.url + "/oauth/logout"
        assert dict(parse_qsl(parts.query))["client_id"] == app.client_id
        page = browser.get(built["url"])
        assert page.status_code == 200 and "Interop logout" in page.text
        done = browser.post("/oauth/logout/confirm", data=hidden_fields(page.text))
        assert done.status_code == 303
        assert done.headers["location"] == BACK + "?state=rp-state-1"
        assert browser.get("/account").status_code == 303  # signed out
    raw = wait_until(lambda: list(receiver.raw) or None, "a logout token at the receiver",
                     seen=lambda: (receiver.seen, receiver.rejected))
    verified = js.ok("verify_logout_token", issuer=site.url, audience=app.client_id, token=raw[0])
    assert verified["header"]["typ"] == "logout+jwt"
    payload = verified["payload"]
    assert payload["sid"] == sid and payload["sub"] == login.claims["sub"]
    assert payload["exp"] - payload["iat"] <= 120
    refused = js.refused("verify_logout_token", issuer=site.url, audience="opc_someone_else",
                         token=raw[0])
    assert "aud" in refused["message"]
