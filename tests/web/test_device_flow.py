"""RFC 8628 on a real server, SQLite and PostgreSQL with Redis: a device starts, the user signs
in on /device, types (or is given) the code, sees the app and its developer, allows or denies;
the device polls /oauth/token. Pages say plainly what happened or what is wrong."""

from __future__ import annotations

import html

import httpx
import pytest
from defusedxml import ElementTree

from openplate.web.routes.device import qr_svg
from tests.support.browser_flow import hidden_fields, sign_in
from tests.support.burst import Post, post_together, statuses
from tests.support.device_flow import (
    DEVICE_GRANT,
    DEVICE_GRANTS,
    GO_BACK,
    approve,
    decide,
    enter,
    open_link,
    poll,
    poll_until_tokens,
    prefilled,
    start,
)
from tests.support.seed import Account, App, Seeder
from tests.support.server import LiveServer


def _app(seeder: Seeder, *, public: bool = False) -> tuple[Account, App]:
    developer = seeder.user("devdev")
    app = seeder.app(developer, public=public, name="Living-room TV", grant_types=DEVICE_GRANTS)
    return developer, app


def test_discovery_names_the_endpoint_and_the_grant(server: LiveServer) -> None:
    meta = httpx.get(server.url + "/.well-known/openid-configuration").json()
    assert meta["device_authorization_endpoint"] == server.url + "/oauth/device_authorization"
    assert DEVICE_GRANT in meta["grant_types_supported"]
    operations = httpx.get(server.url + "/openapi.json").json()["paths"]
    assert "post" in operations["/oauth/device_authorization"]


def test_allow_gives_tokens_once_and_the_pages_say_what_happens(
    server: LiveServer, seeder: Seeder,
) -> None:
    developer, app = _app(seeder)
    user = seeder.user("viewer")
    started = start(server.url, app, "openid profile account")
    assert started["verification_uri"] == server.url + "/device"
    assert started["interval"] == 5 and started["expires_in"] == 600
    pending = poll(server.url, app, started["device_code"])
    assert pending.status_code == 400 and pending.json()["error"] == "authorization_pending"
    with httpx.Client(base_url=server.url, timeout=30) as browser:
        page = open_link(browser, user, started["verification_uri_complete"])
        # §5.4: the link only fills the code in; nothing is decided until the user confirms.
        assert prefilled(page) == started["user_code"]
        entered = enter(browser, page, started["user_code"].lower().replace("-", " "))
        assert entered.status_code == 303
        confirm = browser.get(entered.headers["location"])
        text = html.unescape(confirm.text)
        assert "Living-room TV" in text and developer.username in text
        assert "See your username" in text and "See your account details" in text
        assert "Allow" in text and "Deny" in text
        newest = "SELECT status FROM device_codes ORDER BY id DESC LIMIT 1"
        assert seeder.scalar(newest) == "pending"  # typed and shown, not yet allowed
        result = decide(browser, confirm, "allow")
    assert "Device connected" in result.text and GO_BACK in result.text
    tokens = poll_until_tokens(server.url, app, started["device_code"])
    assert tokens["scope"] == "openid profile account" and tokens["token_type"] == "Bearer"
    assert "id_token" in tokens and "refresh_token" in tokens
    me = httpx.get(server.url + "/users/me",
                   headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.status_code == 200 and me.json()["UserName"] == user.username
    again = poll(server.url, app, started["device_code"])
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_deny_is_told_to_the_device(server: LiveServer, seeder: Seeder) -> None:
    _developer, app = _app(seeder, public=True)
    started = start(server.url, app)
    result = approve(server.url, seeder.user("denier"), started, decision="deny")
    assert "Device not connected" in result.text and GO_BACK in result.text
    answer = poll(server.url, app, started["device_code"])
    assert answer.status_code == 400 and answer.json()["error"] == "access_denied"


def test_wrong_and_expired_codes_are_said_plainly(server: LiveServer, seeder: Seeder) -> None:
    _developer, app = _app(seeder)
    user = seeder.user("typist")
    started = start(server.url, app)
    with httpx.Client(base_url=server.url, timeout=30) as browser:
        page = open_link(browser, user, server.url + "/device")
        assert prefilled(page) == ""
        wrong = "BCDF-GHJK" if started["user_code"] != "BCDF-GHJK" else "ZZZZ-ZZZZ"
        answer = enter(browser, page, wrong)
        assert answer.status_code == 400 and "That code is not right" in answer.text
        assert 'aria-invalid="true"' in answer.text
        nonsense = enter(browser, page, "hello")
        assert nonsense.status_code == 400 and "That code is not right" in nonsense.text
        seeder.execute("UPDATE device_codes SET expires_at = expires_at - 601"
                       " WHERE id = (SELECT max(id) FROM device_codes)")
        expired = enter(browser, page, started["user_code"])
        assert expired.status_code == 400 and "That code has expired" in expired.text
    answer = poll(server.url, app, started["device_code"])
    assert answer.status_code == 400 and answer.json()["error"] == "expired_token"


def test_a_used_code_and_another_users_confirmation(server: LiveServer, seeder: Seeder) -> None:
    _developer, app = _app(seeder)
    alice, mallory = seeder.user("alice"), seeder.user("mallory")
    started = start(server.url, app)
    with httpx.Client(base_url=server.url, timeout=30) as browser:
        page = open_link(browser, alice, started["verification_uri_complete"])
        confirm_path = enter(browser, page, started["user_code"]).headers["location"]
    with httpx.Client(base_url=server.url, timeout=30) as other:
        assert sign_in(other, mallory).status_code == 303
        # Mallory knows the confirmation's address but never typed the code.
        seen = other.get(confirm_path)
        assert seen.status_code == 400 and "Living-room TV" not in seen.text
        forged = other.post("/device/decision", data={
            **hidden_fields(seen.text), "request": confirm_path.rsplit("=", 1)[1],
            "decision": "allow"})
        assert forged.status_code == 400
    approve(server.url, alice, started)
    with httpx.Client(base_url=server.url, timeout=30) as browser:
        page = open_link(browser, alice, server.url + "/device")
        used = enter(browser, page, started["user_code"])
        assert used.status_code == 400 and "already used" in used.text


def test_forms_need_csrf_and_a_sign_in(server: LiveServer, seeder: Seeder) -> None:
    _developer, app = _app(seeder)
    started = start(server.url, app)
    with httpx.Client(base_url=server.url, timeout=30) as browser:
        signed_out = browser.get("/device", params={"user_code": started["user_code"]})
        assert signed_out.status_code == 303
        assert signed_out.headers["location"].startswith("/signin?next=%2Fdevice%3Fuser_code%3D")
        page = open_link(browser, seeder.user("csrf"), started["verification_uri_complete"])
        no_token = browser.post("/device", data={"user_code": started["user_code"]})
        assert no_token.status_code == 403
        bad = browser.post("/device/decision", data={**hidden_fields(page.text),
                                                     "request": "1", "decision": "maybe"})
        assert bad.status_code == 400
    for path in ("/device/confirm?request=1", "/device/done?request=1"):
        assert httpx.get(server.url + path).status_code == 303  # to sign-in


def test_the_qr_code_draws_verification_uri_complete(server: LiveServer, seeder: Seeder) -> None:
    _developer, app = _app(seeder)
    started = start(server.url, app)
    drawn = httpx.get(server.url + "/device/qr", params={"user_code": started["user_code"]})
    assert drawn.status_code == 200 and drawn.headers["content-type"] == "image/svg+xml"
    svg = ElementTree.fromstring(drawn.content)
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"  # a document an <img> can show
    uri = started["verification_uri_complete"]
    assert svg.findtext("{http://www.w3.org/2000/svg}title") == f"Open {uri}"
    # The modules drawn are those of exactly this URI (segno's matrix, drawn the same way).
    assert drawn.content == qr_svg(uri)
    assert drawn.content != qr_svg(uri.replace(started["user_code"], "BCDF-GHJK"))
    lower = httpx.get(server.url + "/device/qr",
                      params={"user_code": started["user_code"].lower().replace("-", "")})
    assert lower.content == drawn.content
    for bad in ({"user_code": "AAAA-AAAA"}, {}, {"user_code": "x" * 5000}):
        assert httpx.get(server.url + "/device/qr", params=bad).status_code == 400


@pytest.mark.parametrize("form", [
    {}, {"client_id": "opc_nobody"}, {"scope": "account"},
])
def test_the_endpoint_refuses_unknown_clients(server: LiveServer, form: dict[str, str]) -> None:
    answer = httpx.post(server.url + "/oauth/device_authorization", data=form)
    assert answer.status_code in (400, 401) and answer.json()["error"] in (
        "invalid_client", "invalid_request")


def test_an_app_that_did_not_opt_in_is_refused(server: LiveServer, seeder: Seeder) -> None:
    app = seeder.app(seeder.user("plain"))
    answer = httpx.post(server.url + "/oauth/device_authorization",
                        data={"client_id": app.client_id, "client_secret": app.client_secret})
    assert answer.status_code == 400 and answer.json()["error"] == "unauthorized_client"
    duplicated = httpx.post(server.url + "/oauth/device_authorization",
                            content=f"client_id={app.client_id}&client_id={app.client_id}",
                            headers={"content-type": "application/x-www-form-urlencoded"})
    assert duplicated.status_code in (400, 401)
    assert httpx.get(server.url + "/oauth/device_authorization").status_code == 405


def test_a_burst_of_polls_after_approval_gets_one_token(server: LiveServer, seeder: Seeder) -> None:
    _developer, app = _app(seeder)
    started = start(server.url, app)
    approve(server.url, seeder.user("burst"), started)
    form = {"grant_type": DEVICE_GRANT, "device_code": started["device_code"],
            "client_id": app.client_id, "client_secret": app.client_secret or ""}
    answers = post_together([Post(server.url + "/oauth/token", form) for _ in range(40)])
    assert statuses(answers).get(200) == 1, statuses(answers)
    errors = {a.json()["error"] for a in answers if a.status_code != 200}
    assert errors <= {"slow_down", "invalid_grant"}, errors
    # Whatever the pace, the code never gives a second token.
    seeder.execute("UPDATE device_codes SET last_polled_at = NULL"
                   " WHERE id = (SELECT max(id) FROM device_codes)")
    again = poll(server.url, app, started["device_code"])
    assert again.json()["error"] == "invalid_grant"


def test_the_developer_turns_the_grant_on_and_off_on_the_app_page(
    server: LiveServer, seeder: Seeder,
) -> None:
    developer = seeder.user("switcher")
    app = seeder.app(developer, by_operator=False)
    form = {"name": app.name, "redirect_uris": "\n".join(app.redirect_uris),
            "homepage": "https://tv.example/"}
    refused = httpx.post(server.url + "/oauth/device_authorization",
                         data={"client_id": app.client_id, "client_secret": app.client_secret})
    assert refused.json()["error"] == "unauthorized_client"
    with httpx.Client(base_url=server.url, timeout=30) as browser:
        assert sign_in(browser, developer).status_code == 303
        page = browser.get(f"/applications/{app.client_id}")
        assert 'name="device_code"' in page.text and "device authorization grant" in page.text
        saved = browser.post(f"/applications/{app.client_id}",
                             data={**hidden_fields(page.text), **form, "device_code": "1"})
        assert saved.status_code == 303, saved.text[:500]
        page = browser.get(f"/applications/{app.client_id}")
        assert 'name="device_code" value="1" checked' in page.text
        assert start(server.url, app)["user_code"]  # now allowed
        cleared = browser.post(f"/applications/{app.client_id}",
                               data={**hidden_fields(page.text), **form})
        assert cleared.status_code == 303
    refused = httpx.post(server.url + "/oauth/device_authorization",
                         data={"client_id": app.client_id, "client_secret": app.client_secret})
    assert refused.json()["error"] == "unauthorized_client"
