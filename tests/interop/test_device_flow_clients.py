"""RFC 8628 with strict third-party clients: openid-client 6.9.0 (initiateDeviceAuthorization,
then pollDeviceAuthorizationGrant, which follows authorization_pending and slow_down by itself)
and oauth4webapi 3.8.8 (deviceAuthorizationRequest / processDeviceAuthorizationResponse,
deviceCodeGrantRequest / processDeviceCodeResponse, one poll at a time). The user's side is
driven through the real /device pages (sign-in, the code, Allow or Deny) over HTTP."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from tests.interop.support import NodeClient, Site
from tests.support.device_flow import DEVICE_GRANTS, approve
from tests.support.seed import App
from tests.support.waiting import wait_until


def _device_app(site: Site, *, public: bool) -> App:
    return site.seeder.app(site.seeder.user("tvdev"), public=public, name="Interop TV",
                           grant_types=DEVICE_GRANTS)


def _approve_once(site: Site, started: dict[str, Any], when: str, *, decision: str = "allow",
                  ) -> tuple[threading.Thread, list[str]]:
    """Approve (or deny) through the pages once ``when`` (SQL, a boolean of the newest device
    row) holds, in a thread: the library is polling meanwhile."""
    pages: list[str] = []

    def run() -> None:
        sql = f"SELECT {when} FROM device_codes ORDER BY id DESC LIMIT 1"
        wait_until(lambda: bool(site.seeder.scalar(sql)), f"the device row to show {when}")
        pages.append(approve(site.url, site.seeder.user("couch"), started,
                             decision=decision).text)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, pages


@pytest.mark.parametrize("public", [False, True], ids=["confidential", "public"])
def test_openid_client_polls_through_pending_and_slow_down(
    js: NodeClient, site: Site, public: bool,
) -> None:
    app = _device_app(site, public=public)
    creds = site.creds(app)
    started = js.ok("device_initiate", **creds, scope="openid profile account")
    assert set(started) >= {"device_code", "user_code", "verification_uri",
                            "verification_uri_complete", "expires_in", "interval"}
    assert started["verification_uri"] == site.url + "/device" and started["interval"] == 5
    # Told to poll every second, the library is too fast for the server: slow_down (the server
    # grows the interval by 5 s) before the user has even decided; the user allows after that.
    thread, pages = _approve_once(site, started, "poll_interval > 5")
    grant = js.ok("device_poll", **creds, device_authorization={**started, "interval": 1})
    thread.join(timeout=120)
    assert pages and "You can go back to your device" in pages[0]
    tokens = grant["tokens"]
    assert tokens["scope"] == "openid profile account" and tokens["token_type"] == "bearer"
    assert grant["claims"]["aud"] == app.client_id and grant["claims"]["iss"] == site.url
    assert ("refresh_token" in tokens) is True
    userinfo = js.ok("userinfo", **creds, access_token=tokens["access_token"],
                     expected_sub=grant["claims"]["sub"])
    assert userinfo["sub"] == grant["claims"]["sub"]


def test_openid_client_is_told_access_denied(js: NodeClient, site: Site) -> None:
    app = _device_app(site, public=True)
    creds = site.creds(app)
    started = js.ok("device_initiate", **creds)
    thread, _pages = _approve_once(site, started, "last_polled_at IS NOT NULL", decision="deny")
    refused = js.refused("device_poll", **creds, device_authorization=started)
    thread.join(timeout=120)
    assert refused["error"] == "access_denied", refused


def test_oauth4webapi_sees_every_answer(js: NodeClient, site: Site) -> None:
    app = _device_app(site, public=False)
    creds = site.creds(app)
    started = js.ok("o4w_device_start", **creds, scope="openid account")
    assert started["user_code"][4] == "-" and started["expires_in"] == 600
    code = started["device_code"]
    pending = js.refused("o4w_device_poll", **creds, device_code=code)
    assert pending["error"] == "authorization_pending", pending
    fast = js.refused("o4w_device_poll", **creds, device_code=code)
    assert fast["error"] == "slow_down", fast
    page = approve(site.url, site.seeder.user("sofa"), started)
    assert "Device connected" in page.text
    time.sleep(10)  # the interval after one slow_down: 5 + 5 seconds
    grant = js.ok("o4w_device_poll", **creds, device_code=code)
    assert grant["tokens"]["scope"] == "openid account"
    assert grant["id_token_claims"]["aud"] == app.client_id
    replay = js.refused("o4w_device_poll", **creds, device_code=code)
    assert replay["error"] == "invalid_grant", replay


def test_oauth4webapi_is_told_expired_token(js: NodeClient, site: Site) -> None:
    app = _device_app(site, public=True)
    creds = site.creds(app)
    started = js.ok("o4w_device_start", **creds)
    site.seeder.execute("UPDATE device_codes SET expires_at = expires_at - 600"
                        " WHERE id = (SELECT max(id) FROM device_codes)")
    expired = js.refused("o4w_device_poll", **creds, device_code=started["device_code"])
    assert expired["error"] == "expired_token", expired
