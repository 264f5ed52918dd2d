"""OIDC RP-Initiated Logout and Back-Channel Logout over HTTP, on SQLite and on PostgreSQL with
Redis: /oauth/logout asks before it signs out, goes back only to a registered URI, answers bad
requests with a 400 page; every way a session ends sends each of its applications a logout token
that a real receiver validates with joserfc; failures are retried and then given up; the
id_token_hint at /oauth/auth is compared with the person signed in."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from tests.conftest import _backend_server
from tests.support.browser_flow import authorize, hidden_fields, redirect_params, sign_in
from tests.support.logout_receiver import Receiver, logout_receiver
from tests.support.operator_cli import operator_json
from tests.support.seed import Account, App, Seeder
from tests.support.server import LiveServer
from tests.support.tokens import exchange, refresh
from tests.support.waiting import wait_until

#: Loopback receivers need the development setting; short retries and give-up for the tests.
LOGOUT_ENV = {"OPENPLATE_ALLOW_PRIVATE_CLIENT_URLS": "1",
              "OPENPLATE_BACKCHANNEL_LOGOUT_GIVE_UP": "10",
              "OPENPLATE_BACKCHANNEL_LOGOUT_TIMEOUT": "2",
              "OPENPLATE_MAIL_POLL_INTERVAL": "1"}
BACK = "https://rp.example/signed-out"
CALLBACK = "https://rp.example/cb"


@pytest.fixture(scope="module", params=["sqlite", "postgresql+redis"])
def server(request: pytest.FixtureRequest,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from _backend_server(request.param, tmp_path_factory, extra_env=LOGOUT_ENV)


@pytest.fixture(scope="module")
def receiver(server: LiveServer) -> Iterator[Receiver]:
    with logout_receiver(server.url) as live:
        yield live


@dataclass
class SignedIn:
    browser: httpx.Client
    account: Account
    app: App
    tokens: dict[str, str]

    @property
    def id_claims(self) -> dict[str, object]:
        return _claims(self.tokens["id_token"])


def _claims(token: str) -> dict[str, object]:
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def _app(seeder: Seeder, receiver: Receiver | None, *, path: str = "/bc", name: str = "Mind Mapper",
         session_required: bool = False) -> App:
    return seeder.app(seeder.user("dev"), redirect_uris=(CALLBACK,), name=name,
                      post_logout_redirect_uris=(BACK, BACK + "?lang=en"),
                      backchannel_logout_uri=receiver.url + path if receiver else None,
                      backchannel_logout_session_required=session_required)


def _sign_in_through(server: LiveServer, account: Account, app: App,
                     browser: httpx.Client | None = None) -> SignedIn:
    browser = browser or httpx.Client(base_url=server.url, timeout=20)
    got = redirect_params(authorize(browser, account, {
        "client_id": app.client_id, "redirect_uri": CALLBACK, "response_type": "code",
        "scope": "openid profile", "state": "s", "nonce": "n-1"}))
    answer = exchange(server.url, app, got["code"])
    assert answer.status_code == 200, answer.text
    return SignedIn(browser, account, app, answer.json())


def _signed_in(browser: httpx.Client) -> bool:
    return browser.get("/account").status_code == 200


def _confirm(browser: httpx.Client, params: dict[str, str]) -> httpx.Response:
    page = browser.get("/oauth/logout", params=params)
    assert page.status_code == 200, page.text[:500]
    assert "Sign out of Openplate?" in page.text
    return browser.post("/oauth/logout/confirm", data=hidden_fields(page.text))


def _logout_tokens(receiver: Receiver, app: App, count: int = 1) -> list[dict[str, object]]:
    return wait_until(lambda: (found if len(found := receiver.for_client(app.client_id)) >= count
                               else None),
                      f"{count} logout token(s) for {app.client_id} at the receiver",
                      seen=lambda: (receiver.seen, receiver.rejected))


def test_discovery_advertises_the_end_session_endpoint(server: LiveServer) -> None:
    meta = httpx.get(server.url + "/.well-known/openid-configuration", timeout=10).json()
    assert meta["end_session_endpoint"] == server.url + "/oauth/logout"
    assert meta["backchannel_logout_supported"] is True
    assert meta["backchannel_logout_session_supported"] is True
    assert meta["frontchannel_logout_supported"] is False


def test_rp_initiated_logout_asks_signs_out_goes_back_and_tells_the_app(
        server: LiveServer, seeder: Seeder, receiver: Receiver) -> None:
    app = _app(seeder, receiver)
    signed = _sign_in_through(server, seeder.user(), app)
    sid = signed.id_claims["sid"]
    assert isinstance(sid, str) and len(sid) >= 16
    # A refresh's ID token names the same session.
    renewed = refresh(server.url, app, signed.tokens["refresh_token"]).json()
    assert _claims(renewed["id_token"])["sid"] == sid
    page = signed.browser.get("/oauth/logout", params={
        "id_token_hint": signed.tokens["id_token"], "post_logout_redirect_uri": BACK,
        "state": "st 1"})
    assert page.status_code == 200 and app.name in page.text and "rp.example" in page.text
    assert 'id="other-account"' not in page.text
    assert _signed_in(signed.browser)  # looking at the question signs nobody out
    done = signed.browser.post("/oauth/logout/confirm", data=hidden_fields(page.text))
    assert done.status_code == 303
    assert done.headers["location"] == BACK + "?" + urlencode({"state": "st 1"})
    assert not _signed_in(signed.browser)
    (token,) = _logout_tokens(receiver, app)
    assert token["sub"] == signed.id_claims["sub"] and token["sid"] == sid
    assert token["aud"] == app.client_id
    signed.browser.close()


def test_a_registered_query_is_kept_and_no_state_means_none(
        server: LiveServer, seeder: Seeder) -> None:
    app = _app(seeder, None)
    signed = _sign_in_through(server, seeder.user(), app)
    done = _confirm(signed.browser, {"client_id": app.client_id,
                                     "post_logout_redirect_uri": BACK + "?lang=en"})
    assert done.headers["location"] == BACK + "?lang=en"
    signed.browser.close()


def test_without_a_session_the_browser_goes_on_at_once(server: LiveServer, seeder: Seeder) -> None:
    app = _app(seeder, None)
    with httpx.Client(base_url=server.url, timeout=20) as browser:
        gone = browser.get("/oauth/logout", params={
            "client_id": app.client_id, "post_logout_redirect_uri": BACK, "state": "x"})
        assert gone.status_code == 303 and gone.headers["location"] == BACK + "?state=x"
        ours = browser.get("/oauth/logout")
        assert ours.status_code == 303 and ours.headers["location"] == "/oauth/logout/done"
        page = browser.get("/oauth/logout/done")
        assert page.status_code == 200 and "You are signed out" in page.text


def test_a_hint_for_another_account_is_said_not_obeyed_silently(
        server: LiveServer, seeder: Seeder) -> None:
    app = _app(seeder, None)
    other = _sign_in_through(server, seeder.user(), app)
    me = _sign_in_through(server, seeder.user(), app)
    page = me.browser.get("/oauth/logout", params={"id_token_hint": other.tokens["id_token"]})
    assert page.status_code == 200 and 'id="other-account"' in page.text
    assert me.account.username in page.text
    assert _signed_in(me.browser) and _signed_in(other.browser)
    other.browser.close()
    me.browser.close()


def test_the_confirmation_needs_the_csrf_token(server: LiveServer, seeder: Seeder) -> None:
    app = _app(seeder, None)
    signed = _sign_in_through(server, seeder.user(), app)
    page = signed.browser.get("/oauth/logout", params={"client_id": app.client_id})
    fields = hidden_fields(page.text)
    for forged in ({**fields, "csrf_token": "forged"},
                   {k: v for k, v in fields.items() if k != "csrf_token"}):
        refused = signed.browser.post("/oauth/logout/confirm", data=forged)
        assert refused.status_code == 403
        assert _signed_in(signed.browser)
    signed.browser.close()


def test_a_posted_request_continues_as_a_get(server: LiveServer, seeder: Seeder) -> None:
    app = _app(seeder, None)
    signed = _sign_in_through(server, seeder.user(), app)
    posted = httpx.post(server.url + "/oauth/logout", timeout=20, data={
        "id_token_hint": signed.tokens["id_token"], "post_logout_redirect_uri": BACK,
        "state": "p", "ui_locales": "fr"})
    assert posted.status_code == 303
    location = posted.headers["location"]
    assert location.startswith("/oauth/logout?")
    assert parse_qs(urlsplit(location).query)["state"] == ["p"]
    done = _confirm(signed.browser, {k: v[0] for k, v in
                                     parse_qs(urlsplit(location).query).items()})
    assert done.headers["location"] == BACK + "?state=p"
    signed.browser.close()


def _tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = _claims(token)
    claims["sub"] = "1"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def test_bad_requests_get_a_400_page_and_never_a_redirect(
        server: LiveServer, seeder: Seeder) -> None:
    app, other_app = _app(seeder, None), _app(seeder, None, name="Other")
    signed = _sign_in_through(server, seeder.user(), app)
    hint = signed.tokens["id_token"]
    bad: list[dict[str, str] | str] = [
        {"id_token_hint": _tampered(hint), "post_logout_redirect_uri": BACK},
        {"id_token_hint": "garbage", "post_logout_redirect_uri": BACK},
        {"id_token_hint": "e" * 20_000},
        {"id_token_hint": signed.tokens["access_token"]},
        {"id_token_hint": hint, "post_logout_redirect_uri": "https://evil.example/"},
        {"client_id": app.client_id, "post_logout_redirect_uri": BACK + "/x"},
        {"post_logout_redirect_uri": BACK},
        {"id_token_hint": hint, "client_id": other_app.client_id},
        {"client_id": "opc_nobody", "post_logout_redirect_uri": BACK},
        f"client_id={app.client_id}&post_logout_redirect_uri={BACK}&post_logout_redirect_uri="
        "https://evil.example/",
        f"id_token_hint={hint}&id_token_hint={hint}",
        "state=%ff%fe&client_id=" + app.client_id,
    ]
    for params in bad:
        for browser in (signed.browser, httpx.Client(base_url=server.url, timeout=20)):
            url = "/oauth/logout" + ("?" + params if isinstance(params, str) else "")
            answer = browser.get(url, params=None if isinstance(params, str) else params)
            assert answer.status_code == 400, (params, answer.status_code, answer.text[:300])
            assert "location" not in answer.headers
            assert "This sign-out request cannot be used" in answer.text
    assert _signed_in(signed.browser)
    for body, kind in ((b'{"client_id": "x"}', "application/json"),
                       (b"a=" + b"x" * 300_000, "application/x-www-form-urlencoded")):
        answer = httpx.post(server.url + "/oauth/logout", content=body,
                            headers={"content-type": kind}, timeout=20)
        assert answer.status_code in (400, 413) and "location" not in answer.headers
    signed.browser.close()


def test_every_way_a_session_ends_tells_its_apps(
        server: LiveServer, seeder: Seeder, receiver: Receiver) -> None:
    app = _app(seeder, receiver, path="/every")
    account = seeder.user()
    # /signout, the header's button.
    first = _sign_in_through(server, account, app)
    fields = hidden_fields(first.browser.get("/account").text)
    assert first.browser.post("/signout", data={"csrf_token": fields["csrf_token"]}
                              ).status_code == 303
    assert _logout_tokens(receiver, app, 1)[0]["sid"] == first.id_claims["sid"]
    # /account/sessions: another browser signed out from this one.
    second, third = _sign_in_through(server, account, app), _sign_in_through(server, account, app)
    listing = third.browser.get("/account/sessions").text
    ids = [part.split("/sign-out")[0] for part in listing.split('action="/account/sessions/')[1:]
           if part.split("/sign-out")[0].isdigit()]
    assert len(ids) == 1, listing
    csrf = hidden_fields(listing)["csrf_token"]
    assert third.browser.post(f"/account/sessions/{ids[0]}/sign-out",
                              data={"csrf_token": csrf}).status_code == 303
    assert _logout_tokens(receiver, app, 2)[1]["sid"] == second.id_claims["sid"]
    assert not _signed_in(second.browser) and _signed_in(third.browser)
    # A second sign-in that replaces the session ends the first one too.
    tokens = [t["sid"] for t in receiver.for_client(app.client_id)]
    assert len(tokens) == len(set(tokens)) == 2
    for signed in (first, second, third):
        signed.browser.close()


def test_a_session_that_got_no_tokens_tells_no_app(
        server: LiveServer, seeder: Seeder, receiver: Receiver) -> None:
    app = _app(seeder, receiver, path="/quiet")
    account = seeder.user()
    with httpx.Client(base_url=server.url, timeout=20) as browser:
        assert sign_in(browser, account).status_code == 303
        csrf = hidden_fields(browser.get("/account").text)["csrf_token"]
        assert browser.post("/signout", data={"csrf_token": csrf}).status_code == 303
    signed = _sign_in_through(server, account, app)
    _confirm(signed.browser, {})
    assert len(_logout_tokens(receiver, app, 1)) == 1  # only the session that got tokens
    assert receiver.for_client(app.client_id)[0]["sid"] == signed.id_claims["sid"]
    signed.browser.close()


def test_a_failing_receiver_gets_the_token_again_until_it_takes_it(
        server: LiveServer, seeder: Seeder, receiver: Receiver) -> None:
    app = _app(seeder, receiver, path="/flaky")
    signed = _sign_in_through(server, seeder.user(), app)
    with receiver.lock:
        receiver.fail_first = 2
    _confirm(signed.browser, {"client_id": app.client_id})
    (token,) = _logout_tokens(receiver, app)
    attempts = [status for path, status in receiver.seen if path == "/flaky"]
    assert attempts == [500, 500, 200]
    row = seeder.scalar("SELECT attempts FROM backchannel_logouts WHERE jti = :j", j=token["jti"])
    assert row == 3
    signed.browser.close()


def test_a_token_never_taken_is_given_up_and_logged(
        server: LiveServer, seeder: Seeder, receiver: Receiver) -> None:
    app = _app(seeder, receiver, path="/down")
    signed = _sign_in_through(server, seeder.user(), app)
    with receiver.lock:
        receiver.fail_first = 1000
    _confirm(signed.browser, {})
    wait_until(lambda: seeder.scalar(
        "SELECT count(*) FROM security_events WHERE kind = 'backchannel_logout.gave_up' "
        "AND client_id = :c", c=app.client_id) == 1, "the give-up event")
    assert seeder.scalar("SELECT gave_up_at IS NOT NULL FROM backchannel_logouts b JOIN clients c "
                         "ON c.id = b.client_pk WHERE c.client_id = :c", c=app.client_id)
    with receiver.lock:
        receiver.fail_first = 0
    signed.browser.close()


def test_a_uri_that_is_never_allowed_is_not_requested(
        server: LiveServer, seeder: Seeder) -> None:
    """A multicast address is refused even with private addresses allowed: given up at once."""
    app = seeder.app(seeder.user("dev"), redirect_uris=(CALLBACK,),
                     backchannel_logout_uri="http://224.0.0.1:9/bc")
    signed = _sign_in_through(server, seeder.user(), app)
    _confirm(signed.browser, {})
    wait_until(lambda: seeder.scalar(
        "SELECT last_error FROM backchannel_logouts b JOIN clients c ON c.id = b.client_pk "
        "WHERE c.client_id = :c AND b.gave_up_at IS NOT NULL", c=app.client_id),
        "the refused delivery to be given up")
    error = seeder.scalar("SELECT last_error FROM backchannel_logouts b JOIN clients c ON "
                          "c.id = b.client_pk WHERE c.client_id = :c", c=app.client_id)
    assert isinstance(error, str) and error.startswith("refused") and "non-public" in error
    signed.browser.close()


def test_an_id_token_hint_for_someone_else_is_not_answered_for_the_signed_in_user(
        server: LiveServer, seeder: Seeder) -> None:
    app = _app(seeder, None)
    other = _sign_in_through(server, seeder.user(), app)
    me = _sign_in_through(server, seeder.user(), app)
    base = {"client_id": app.client_id, "redirect_uri": CALLBACK, "response_type": "code",
            "scope": "openid", "state": "h"}
    silent = me.browser.get("/oauth/auth", params={
        **base, "prompt": "none", "id_token_hint": other.tokens["id_token"]})
    assert redirect_params(silent)["error"] == "login_required"
    asked = me.browser.get("/oauth/auth", params={**base, "id_token_hint": other.tokens["id_token"]})
    assert asked.status_code == 303 and asked.headers["location"].startswith("/signin")
    mine = me.browser.get("/oauth/auth", params={
        **base, "prompt": "none", "id_token_hint": me.tokens["id_token"]})
    assert "code" in redirect_params(mine)
    forged = me.browser.get("/oauth/auth", params={
        **base, "prompt": "none", "id_token_hint": _tampered(me.tokens["id_token"])})
    assert redirect_params(forged)["error"] == "invalid_request"
    other.browser.close()
    me.browser.close()


def test_the_application_page_saves_the_logout_settings(
        server: LiveServer, seeder: Seeder) -> None:
    developer = seeder.user("dev")
    app = seeder.app(developer, redirect_uris=(CALLBACK,), by_operator=False)
    with httpx.Client(base_url=server.url, timeout=20) as browser:
        assert sign_in(browser, developer).status_code == 303
        page = browser.get(f"/applications/{app.client_id}")
        form = {**hidden_fields(page.text), "name": app.name, "redirect_uris": CALLBACK,
                "homepage": "https://rp.example/", "id_token_alg": "RS256",
                "post_logout_redirect_uris": f"{BACK}\n{BACK}?a=1",
                "backchannel_logout_uri": "https://rp.example/bc",
                "backchannel_logout_session_required": "1"}
        files = {"logo": ("", b"", "application/octet-stream")}
        saved = browser.post(f"/applications/{app.client_id}", data=form, files=files)
        assert saved.status_code == 303, saved.text[:500]
        shown = browser.get(f"/applications/{app.client_id}").text
        assert f"{BACK}\n{BACK}?a=1" in shown and 'value="https://rp.example/bc"' in shown
        for field, value in (("backchannel_logout_uri", "http://rp.example/bc"),
                             ("backchannel_logout_uri", "https://224.0.0.1/bc"),
                             ("post_logout_redirect_uris", "https://rp.example/#frag")):
            refused = browser.post(f"/applications/{app.client_id}",
                                   data={**form, field: value}, files=files)
            assert refused.status_code == 400 and f'id="error-{field}"' in refused.text
    assert seeder.scalar("SELECT backchannel_logout_uri FROM clients WHERE client_id = :c",
                         c=app.client_id) == "https://rp.example/bc"
    assert seeder.scalar("SELECT backchannel_logout_session_required FROM clients "
                         "WHERE client_id = :c", c=app.client_id) in (True, 1)


def test_every_logout_token_has_its_own_jti(receiver: Receiver) -> None:
    """Across every token the receiver accepted in this module (each validated with joserfc
    against the published keys), no jti repeats: no token was delivered twice."""
    everything = [claims for _, claims in receiver.accepted]
    assert everything, "the tests above delivered tokens"
    assert len({c["jti"] for c in everything}) == len(everything)


def test_the_operator_disabling_an_account_tells_its_apps(
        server: LiveServer, seeder: Seeder, receiver: Receiver) -> None:
    app = _app(seeder, receiver, path="/disabled")
    signed = _sign_in_through(server, seeder.user(), app)
    operator_json(server, "user", "disable", signed.account.username)
    (token,) = _logout_tokens(receiver, app)
    assert token["sid"] == signed.id_claims["sid"]
    assert not _signed_in(signed.browser)
    signed.browser.close()


def test_deleting_the_account_tells_its_apps(
        server: LiveServer, seeder: Seeder, receiver: Receiver) -> None:
    app = _app(seeder, receiver, path="/deleted")
    signed = _sign_in_through(server, seeder.user(), app)
    operator_json(server, "user", "delete", signed.account.username, "--yes")
    (token,) = _logout_tokens(receiver, app)
    assert token["sub"] == signed.id_claims["sub"] and token["sid"] == signed.id_claims["sid"]
    signed.browser.close()
