"""Dynamic client registration (RFC 7591) and its management API (RFC 7592) over HTTP, on each
engine: the three modes of OPENPLATE_REGISTRATION, the metadata rules (named when refused,
nothing stored), the registration access token, throttling and one-use tokens under a burst,
the consent page's words for an app that registered itself, and the purge of unused ones."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.conftest import _backend_server
from tests.support.browser_flow import authorize, hidden_fields, redirect_params, sign_in
from tests.support.burst import Post, browser, post_together, statuses
from tests.support.operator_cli import operator, operator_json
from tests.support.seed import Seeder
from tests.support.server import LiveServer

LOOPBACK = "http://127.0.0.1:43110/callback"
WEB = "https://mapper.example/callback"
PER_IP = 6


@pytest.fixture(scope="module", params=["sqlite", "postgresql+redis"])
def open_server(request: pytest.FixtureRequest,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from _backend_server(request.param, tmp_path_factory, extra_env={
        "OPENPLATE_REGISTRATION": "open", "OPENPLATE_REGISTRATIONS_PER_IP": str(PER_IP)})


@pytest.fixture(scope="module", params=["sqlite", "postgresql+redis"])
def token_server(request: pytest.FixtureRequest,
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from _backend_server(request.param, tmp_path_factory,
                               extra_env={"OPENPLATE_REGISTRATION": "token"})


_sources = iter(range(2, 250))


def _source() -> str:
    """A loopback address of the test's own: the per-address budget is not shared."""
    return f"127.0.{secrets.randbelow(200) + 20}.{next(_sources)}"


def _register(server: LiveServer, metadata: dict[str, Any], *, token: str | None = None,
              source: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with browser(server.url, source or _source()) as client:
        return client.post("/oauth/register", json=metadata, headers=headers)


def _clients(server: LiveServer) -> int:
    return int(Seeder(server).scalar("SELECT count(*) FROM clients"))  # type: ignore[arg-type]


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


def test_a_native_app_registers_itself_and_signs_a_person_in(open_server: LiveServer) -> None:
    server = open_server
    made = _register(server, {"client_name": "Claude Desktop", "redirect_uris": [LOOPBACK],
                              "token_endpoint_auth_method": "none",
                              "grant_types": ["authorization_code", "refresh_token"]})
    assert made.status_code == 201, made.text
    assert made.headers["cache-control"] == "no-store"
    body = made.json()
    assert body["client_id"].startswith("opc_") and "client_secret" not in body
    assert body["application_type"] == "native"  # loopback only: inferred
    assert body["registration_access_token"].startswith("oprg_")
    assert body["registration_client_uri"] == f"{server.url}/oauth/register/{body['client_id']}"
    assert body["redirect_uris"] == [LOOPBACK] and body["response_types"] == ["code"]
    # The token is stored as a digest only.
    assert body["registration_access_token"].encode() not in Seeder(server).dump()

    person = Seeder(server).user("dcr")
    verifier, challenge = _pkce()
    params = {"client_id": body["client_id"], "redirect_uri": LOOPBACK, "response_type": "code",
              "scope": "openid account", "state": "s1", "code_challenge": challenge,
              "code_challenge_method": "S256"}
    with httpx.Client(base_url=server.url, timeout=20) as person_browser:
        first = person_browser.get("/oauth/auth", params=params)
        next_path = parse_qs(urlsplit(first.headers["location"]).query)["next"][0]
        signed = sign_in(person_browser, person, next_path=next_path)
        consent = person_browser.get(signed.headers["location"])
        assert consent.status_code == 200, consent.text[:500]
        assert "This app registered itself." in consent.text
        assert "Nobody at this site has checked who made it" in consent.text
        assert "Made by" not in consent.text  # it belongs to nobody
        answered = person_browser.post("/oauth/auth/decision",
                                       data={**hidden_fields(consent.text), "decision": "allow"})
    code = redirect_params(answered)["code"]
    tokens = httpx.post(server.url + "/oauth/token", timeout=20, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": LOOPBACK,
        "client_id": body["client_id"], "code_verifier": verifier}).json()
    assert tokens["token_type"] == "Bearer" and "id_token" in tokens, tokens
    renewed = httpx.post(server.url + "/oauth/token", timeout=20, data={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
        "client_id": body["client_id"]})
    assert renewed.status_code == 200, renewed.text


def test_a_web_app_gets_a_secret_and_no_refresh_token_unless_it_asked(
        open_server: LiveServer) -> None:
    server = open_server
    made = _register(server, {"client_name": "Mapper Web", "redirect_uris": [WEB],
                              "client_uri": "https://mapper.example/",
                              "policy_uri": "https://mapper.example/privacy",
                              "contacts": ["ops@mapper.example"], "software_id": "mapper",
                              "logo_uri": "https://mapper.example/logo.png", "made_up": 1})
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["client_secret"].startswith("opcs_") and body["client_secret_expires_at"] == 0
    assert body["token_endpoint_auth_method"] == "client_secret_basic"
    assert body["application_type"] == "web" and body["grant_types"] == ["authorization_code"]
    assert body["contacts"] == ["ops@mapper.example"] and body["software_id"] == "mapper"
    # What we do not understand, or do not keep (we never fetch logos), is not given back.
    assert "made_up" not in body and "logo_uri" not in body
    person = Seeder(server).user("web")
    with httpx.Client(base_url=server.url, timeout=20) as person_browser:
        code = redirect_params(authorize(person_browser, person, {
            "client_id": body["client_id"], "redirect_uri": WEB, "response_type": "code",
            "state": "s"}))["code"]
    tokens = httpx.post(server.url + "/oauth/token", timeout=20,
                        auth=(body["client_id"], body["client_secret"]),
                        data={"grant_type": "authorization_code", "code": code,
                              "redirect_uri": WEB}).json()
    assert "access_token" in tokens and "refresh_token" not in tokens, tokens


BAD_METADATA = [
    ({"redirect_uris": ["http://127.0.0.1/cb"], "application_type": "web"},
     "invalid_redirect_uri", "a web application's redirect URIs use https"),
    ({"redirect_uris": ["https://a.example/cb#frag"]}, "invalid_redirect_uri", "fragment"),
    ({"redirect_uris": ["https://a.example/*"]}, "invalid_redirect_uri", "wildcard"),
    ({"redirect_uris": ["javascript:/alert(1)"], "application_type": "native"},
     "invalid_redirect_uri", "redirect_uris"),
    ({"redirect_uris": []}, "invalid_redirect_uri", "at least one redirect URI"),
    ({"redirect_uris": "https://a.example/cb"}, "invalid_client_metadata",
     "redirect_uris must be an array of strings"),
    ({"redirect_uris": [WEB], "grant_types": ["implicit"]}, "invalid_client_metadata",
     "grant_types"),
    ({"redirect_uris": [WEB], "response_types": ["token"]}, "invalid_client_metadata",
     "response_types"),
    ({"redirect_uris": [WEB], "grant_types": ["authorization_code", "client_credentials"]},
     "invalid_client_metadata", "client_credentials needs a registration token"),
    ({"redirect_uris": [WEB], "token_endpoint_auth_method": "private_key_jwt"},
     "invalid_client_metadata", "token_endpoint_auth_method"),
    ({"redirect_uris": [WEB], "jwks_uri": "https://a.example/jwks"}, "invalid_client_metadata",
     "jwks_uri"),
    ({"redirect_uris": [WEB], "id_token_signed_response_alg": "none"},
     "invalid_client_metadata", "id_token_signed_response_alg"),
    ({"redirect_uris": [WEB], "subject_type": "pairwise"}, "invalid_client_metadata",
     "subject_type"),
    ({"redirect_uris": [WEB], "client_name": "x" * 101}, "invalid_client_metadata",
     "client_name"),
    ({"redirect_uris": [WEB], "client_name": "Evil\u202eppa"}, "invalid_client_metadata",
     "client_name"),
    ({"redirect_uris": [WEB], "client_uri": "javascript:alert(1)"}, "invalid_client_metadata",
     "client_uri"),
    ({"redirect_uris": [WEB], "contacts": ["not an address"]}, "invalid_client_metadata",
     "contacts"),
    ({"redirect_uris": [WEB] * 1 + [f"https://a.example/{i}" for i in range(25)]},
     "invalid_client_metadata", "redirect_uris"),
]


def test_bad_metadata_is_refused_by_name_and_nothing_is_stored(open_server: LiveServer) -> None:
    server = open_server
    before = _clients(server)
    source = _source()
    for metadata, error, words in BAD_METADATA:
        # Each refusal counts against the address too: spread them over addresses.
        answer = _register(server, metadata, source=f"{source.rsplit('.', 1)[0]}.{len(words)}")
        assert answer.status_code == 400, (metadata, answer.text)
        assert answer.json()["error"] in (error, "invalid_redirect_uri"), (metadata, answer.text)
        assert words in answer.json()["error_description"], (metadata, answer.text)
    assert _clients(server) == before


def test_malformed_bodies_get_a_json_error(open_server: LiveServer) -> None:
    server = open_server
    url = server.url + "/oauth/register"
    with browser(server.url, _source()) as client:
        for content, content_type, status in [
            (b'{"redirect_uris": ["https://a.example/cb"], "redirect_uris": []}',
             "application/json", 400),
            (b"[1, 2]", "application/json", 400),
            (b"{", "application/json", 400),
            (b"[" * 100_000, "application/json", 413),
            (b"redirect_uris=https://a.example/cb", "application/x-www-form-urlencoded", 400),
            (b'{"redirect_uris": ["https://a.example/cb"]}', "text/plain", 400),
        ]:
            answer = client.post(url, content=content, headers={"content-type": content_type})
            assert answer.status_code == status, (content[:40], answer.text)
            assert answer.json()["error"] == "invalid_client_metadata"
        assert client.get(url).status_code == 405


def test_the_registration_is_read_replaced_and_deleted_with_its_token(
        open_server: LiveServer) -> None:
    server = open_server
    body = _register(server, {"client_name": "Outline CLI", "redirect_uris": [LOOPBACK],
                              "token_endpoint_auth_method": "none"}).json()
    uri, token = body["registration_client_uri"], body["registration_access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    read = httpx.get(uri, headers=auth, timeout=20)
    assert read.status_code == 200 and read.json()["client_name"] == "Outline CLI"
    assert "registration_access_token" not in read.json()

    for headers in ({}, {"Authorization": "Bearer oprg_wrong"},
                    {"Authorization": f"Basic {token}"}):
        refused = httpx.get(uri, headers=headers, timeout=20)
        assert refused.status_code == 401 and refused.headers["www-authenticate"].startswith(
            "Bearer"), refused.text
    # Another app's token does not open this one, and an unknown app looks the same.
    other = _register(server, {"redirect_uris": [LOOPBACK]}).json()
    crossed = httpx.get(uri, headers={
        "Authorization": f"Bearer {other['registration_access_token']}"}, timeout=20)
    assert crossed.status_code == 401
    unknown = httpx.get(server.url + "/oauth/register/opc_nobody", headers=auth, timeout=20)
    assert unknown.status_code == 401 and unknown.json() == crossed.json()

    update = {"client_id": body["client_id"], "client_name": "Outline CLI 2",
              "redirect_uris": [LOOPBACK, "http://127.0.0.1:43111/cb"],
              "token_endpoint_auth_method": "none"}
    replaced = httpx.put(uri, json=update, headers=auth, timeout=20)
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["client_name"] == "Outline CLI 2"
    assert httpx.get(uri, headers=auth, timeout=20).json()["redirect_uris"] == update[
        "redirect_uris"]
    for wrong, words in [
        ({**update, "client_id": other["client_id"]}, "client_id"),
        ({k: v for k, v in update.items() if k != "client_id"}, "client_id"),
        ({**update, "token_endpoint_auth_method": "client_secret_basic"}, "cannot change"),
        ({**update, "registration_access_token": token}, "must not be sent"),
        ({**update, "client_secret": "opcs_guess"}, "client_secret"),
        ({**update, "redirect_uris": ["https://evil.example/*"]}, "wildcard"),
    ]:
        answer = httpx.put(uri, json=wrong, headers=auth, timeout=20)
        assert answer.status_code == 400 and words in answer.json()["error_description"], (
            wrong, answer.text)
    assert httpx.get(uri, headers=auth, timeout=20).json()["client_name"] == "Outline CLI 2"

    assert httpx.delete(uri, headers=auth, timeout=20).status_code == 204
    assert httpx.get(uri, headers=auth, timeout=20).status_code == 401
    gone = httpx.post(server.url + "/oauth/token", timeout=20, data={
        "grant_type": "refresh_token", "refresh_token": "oprt_x", "client_id": body["client_id"]})
    assert gone.status_code == 401 and gone.json()["error"] == "invalid_client"


def test_open_registration_is_throttled_per_address_under_a_burst(
        open_server: LiveServer) -> None:
    server = open_server
    source = _source()
    before = _clients(server)
    answers = post_together([
        Post(server.url + "/oauth/register", {}, source=source,
             json={"client_name": f"Spam {i}", "redirect_uris": [LOOPBACK],
                   "token_endpoint_auth_method": "none"})
        for i in range(PER_IP + 5)])
    assert statuses(answers) == {201: PER_IP, 429: 5}, [a.text for a in answers]
    assert all(int(a.headers["retry-after"]) > 0 for a in answers if a.status_code == 429)
    assert _clients(server) == before + PER_IP
    # Another address still may.
    assert _register(server, {"redirect_uris": [LOOPBACK]}).status_code == 201


def test_discovery_names_the_endpoint_when_registration_is_on(open_server: LiveServer) -> None:
    for path in ("/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"):
        on = httpx.get(open_server.url + path, timeout=20).json()
        assert on["registration_endpoint"] == open_server.url + "/oauth/register"


def test_by_default_nothing_registers_itself(server: LiveServer) -> None:
    off = httpx.get(server.url + "/.well-known/openid-configuration", timeout=20).json()
    assert "registration_endpoint" not in off
    refused = httpx.post(server.url + "/oauth/register", json={"redirect_uris": [WEB]},
                         timeout=20)
    assert refused.status_code == 403 and refused.json()["error"] == "access_denied"


def test_with_token_mode_each_token_registers_as_many_apps_as_it_may(
        token_server: LiveServer) -> None:
    server = token_server
    seeder = Seeder(server)
    developer = seeder.user("dev")
    missing = _register(server, {"redirect_uris": [WEB]})
    assert missing.status_code == 401 and missing.headers["www-authenticate"] == (
        'Bearer realm="openplate"')
    assert _register(server, {"redirect_uris": [WEB]}, token="opit_made_up").status_code == 401

    made = operator_json(server, "app", "registration-token", "--owner", developer.username,
                         "--uses", "2", "--note", "for the test")
    token = str(made["token"])
    assert token.startswith("opit_") and token.encode() not in seeder.dump()
    # A refused registration does not use the token up.
    bad = _register(server, {"redirect_uris": ["http://evil.example/cb"]}, token=token)
    assert bad.status_code == 400
    before = _clients(server)
    answers = post_together([
        Post(server.url + "/oauth/register", {}, source=_source(),
             headers={"Authorization": f"Bearer {token}"},
             json={"client_name": f"Invited {i}", "redirect_uris": [WEB],
                   "grant_types": ["authorization_code", "client_credentials"]})
        for i in range(6)])
    assert statuses(answers) == {201: 2, 401: 4}, [a.text for a in answers]
    assert _clients(server) == before + 2
    # The apps belong to the account the token named: they are on its /applications page, and
    # they may act for it with client credentials.
    created = [a.json() for a in answers if a.status_code == 201]
    with httpx.Client(base_url=server.url, timeout=20) as page:
        assert sign_in(page, developer).status_code == 303
        listing = page.get("/applications").text
    assert all(app["client_id"] in listing for app in created)
    machine = httpx.post(server.url + "/oauth/token", timeout=20,
                         auth=(created[0]["client_id"], created[0]["client_secret"]),
                         data={"grant_type": "client_credentials"})
    assert machine.status_code == 200, machine.text
    listed = operator_json(server, "app", "registration-tokens")
    assert listed["tokens"] == []  # used up
    shown = operator_json(server, "app", "show", created[0]["client_id"])
    assert shown["registration"] == "token" and shown["owner"] == developer.username


def test_the_operator_can_revoke_a_registration_token(token_server: LiveServer) -> None:
    server = token_server
    made = operator_json(server, "app", "registration-token", "--uses", "5")
    listed = operator_json(server, "app", "registration-tokens")
    assert [t["id"] for t in listed["tokens"]] == [made["id"]]  # type: ignore[index]
    done = operator(server, "app", "registration-token", "--revoke", str(made["id"]))
    assert done.returncode == 0, done.stderr
    assert _register(server, {"redirect_uris": [WEB]}, token=str(made["token"])).status_code == 401
    again = operator(server, "app", "registration-token", "--revoke", str(made["id"]))
    assert again.returncode != 0 and "no registration token" in again.stderr


def test_the_purge_deletes_open_registrations_nobody_used_for_30_days(
        open_server: LiveServer) -> None:
    server = open_server
    seeder = Seeder(server)
    idle = _register(server, {"client_name": "Idle", "redirect_uris": [WEB]}).json()
    used = _register(server, {"client_name": "Used", "redirect_uris": [WEB]}).json()
    fresh = _register(server, {"client_name": "Fresh", "redirect_uris": [WEB]}).json()
    person = seeder.user("purge")
    with httpx.Client(base_url=server.url, timeout=20) as person_browser:
        redirect_params(authorize(person_browser, person, {
            "client_id": used["client_id"], "redirect_uri": WEB, "response_type": "code"}))
    old = int(time.time()) - 31 * 86_400
    for app in (idle, used):
        seeder.execute("UPDATE clients SET created_at = :t WHERE client_id = :c", t=old,
                       c=app["client_id"])
    done = operator(server, "purge")
    assert done.returncode == 0, done.stderr
    assert seeder.scalar("SELECT count(*) FROM clients WHERE client_id = :c",
                         c=idle["client_id"]) == 0
    assert seeder.scalar("SELECT count(*) FROM clients WHERE client_id = :c",
                         c=used["client_id"]) == 1
    assert seeder.scalar("SELECT count(*) FROM clients WHERE client_id = :c",
                         c=fresh["client_id"]) == 1


def test_logout_par_and_dpop_metadata_register_and_apply(open_server: LiveServer) -> None:
    """OIDC RP-Initiated and Back-Channel Logout, RFC 9126 §6 and RFC 9449 §5.2 metadata: kept,
    given back, read back, and the rules of the /applications page apply."""
    server = open_server
    metadata = {"client_name": "Strict App", "redirect_uris": [WEB],
                "post_logout_redirect_uris": ["https://mapper.example/bye"],
                "backchannel_logout_uri": "https://mapper.example/backchannel",
                "backchannel_logout_session_required": True,
                "require_pushed_authorization_requests": True,
                "dpop_bound_access_tokens": True}
    made = _register(server, metadata)
    assert made.status_code == 201, made.text
    body = made.json()
    for name, value in metadata.items():
        assert body[name] == value, name
    read = httpx.get(body["registration_client_uri"], timeout=20, headers={
        "Authorization": f"Bearer {body['registration_access_token']}"}).json()
    for name, value in metadata.items():
        assert read[name] == value, name
    # Require PAR applies: a plain authorisation request is refused.
    plain = httpx.get(server.url + "/oauth/auth", timeout=20, params={
        "client_id": body["client_id"], "redirect_uri": WEB, "response_type": "code"})
    assert plain.status_code == 400 and "push its authorisation requests" in plain.text, (
        plain.text[:500])
    for bad, words in [
        ({"backchannel_logout_uri": "http://mapper.example/bc"}, "use https"),
        ({"backchannel_logout_uri": "https://10.0.0.1/bc"}, "private or local address"),
        ({"post_logout_redirect_uris": ["https://x.example/#f"]}, "fragment"),
        ({"dpop_bound_access_tokens": "yes"}, "true or false"),
    ]:
        answer = _register(server, {**metadata, **bad})
        assert answer.status_code == 400 and words in answer.json()["error_description"], (
            bad, answer.text)


def test_a_self_registered_device_app_is_named_as_such_on_the_device_page(
        open_server: LiveServer) -> None:
    """RFC 8628 with RFC 7591: an app that registered itself for the device grant only (no
    redirect URI) gets tokens, and the confirmation page says it registered itself."""
    from tests.support.device_flow import enter, open_link, poll, prefilled, start
    from tests.support.seed import App

    server = open_server
    made = _register(server, {"client_name": "Shelf TV", "token_endpoint_auth_method": "none",
                              "grant_types": ["urn:ietf:params:oauth:grant-type:device_code"]})
    assert made.status_code == 201, made.text
    assert made.json()["response_types"] == []
    app = App(made.json()["client_id"], None, (), "Shelf TV")
    started = start(server.url, app, "maps")
    person = Seeder(server).user("tv")
    with httpx.Client(base_url=server.url, timeout=30) as browser:
        page = open_link(browser, person, started["verification_uri_complete"])
        entered = enter(browser, page, prefilled(page))
        confirm = browser.get(entered.headers["location"])
        assert "This app registered itself." in confirm.text, confirm.text[:2000]
        posted = browser.post("/device/decision", data={**hidden_fields(confirm.text),
                                                         "decision": "allow"})
        assert posted.status_code == 303
    tokens = poll(server.url, app, started["device_code"])
    assert tokens.status_code == 200, tokens.text
