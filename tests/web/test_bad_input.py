"""Bad input on every endpoint: the right RFC error or 4xx, nothing stored, never a 500."""

from __future__ import annotations

import base64
import re
import socket
from dataclasses import replace
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.support.browser_flow import obtain_code, sign_in
from tests.support.mindmaps import make_billion_laughs_mm, make_xmind_json, make_zip_bomb
from tests.support.seed import App, Seeder
from tests.support.server import LiveServer
from tests.support.waiting import wait_until

REDIRECT = "https://app.example.com/cb"


@pytest.fixture(scope="module")
def app(seeder: Seeder) -> App:
    return seeder.app(seeder.user("dev"), redirect_uris=(REDIRECT, "http://127.0.0.1:9000/cb"))


def _count(server: LiveServer, table: str) -> int:
    return int(str(Seeder(server).scalar(f"select count(*) from {table}")))


# --- /oauth/auth: errors that must never redirect -------------------------------------------

@pytest.mark.parametrize("query", [
    "response_type=code&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb",  # no client_id
    "client_id=opc_nope&response_type=code&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb",
    "client_id=%ff&response_type=code",
    "client_id=a%00b&response_type=code",
])
def test_authorize_unknown_client_shows_page(http: httpx.Client, query: str) -> None:
    response = http.get("/oauth/auth?" + query)
    assert response.status_code == 400
    assert "location" not in response.headers
    assert "text/html" in response.headers["content-type"]


@pytest.mark.parametrize("redirect_uri", [
    None, "https://app.example.com/cb/", "https://app.example.com/cb?x=1", "https://APP.example.com/cb",
    "https://evil.example.com/cb", "https://app.example.com/%63b", "http://app.example.com/cb",
    "https://app.example.com/cb#f", "http://127.0.0.1:9000/cb2", "http://localhost:9000/cb",
])
def test_authorize_bad_redirect_uri_shows_page(
    http: httpx.Client, app: App, redirect_uri: str | None
) -> None:
    params = {"client_id": app.client_id, "response_type": "code", "state": "s"}
    if redirect_uri is not None:
        params["redirect_uri"] = redirect_uri
    response = http.get("/oauth/auth", params=params)
    assert response.status_code == 400
    assert "location" not in response.headers


def test_authorize_duplicate_client_or_redirect_shows_page(http: httpx.Client, app: App) -> None:
    for query in (
        f"client_id={app.client_id}&client_id={app.client_id}&redirect_uri={REDIRECT}&response_type=code",
        f"client_id={app.client_id}&redirect_uri={REDIRECT}&redirect_uri={REDIRECT}&response_type=code",
    ):
        response = http.get("/oauth/auth?" + query)
        assert response.status_code == 400 and "location" not in response.headers


def test_loopback_redirect_any_port_is_accepted(http: httpx.Client, app: App) -> None:
    response = http.get("/oauth/auth", params={
        "client_id": app.client_id, "redirect_uri": "http://127.0.0.1:51234/cb",
        "response_type": "code"})
    assert response.status_code == 303  # on to sign-in, not an error page
    assert response.headers["location"].startswith("/signin?next=")


# --- /oauth/auth: errors redirected to the client (RFC 6749 §4.1.2.1) -----------------------

@pytest.mark.parametrize("extra,error", [
    ({"response_type": "token"}, "unsupported_response_type"),
    ({"response_type": None}, "invalid_request"),
    ({"scope": "admin root"}, "invalid_scope"),  # none known (unknown ones alone are ignored)
    ({"request": "eyJhbGciOiJub25lIn0.e30."}, "request_not_supported"),
    ({"request_uri": "https://app.example.com/req/1"}, "request_uri_not_supported"),
    ({"prompt": "select_account"}, "invalid_request"),
    ({"code_challenge": "x" * 43, "code_challenge_method": "plain"}, "invalid_request"),
    ({"code_challenge": "short", "code_challenge_method": "S256"}, "invalid_request"),
])
def test_authorize_redirects_protocol_errors(
    http: httpx.Client, app: App, extra: dict[str, str | None], error: str
) -> None:
    params: dict[str, str | None] = {
        "client_id": app.client_id, "redirect_uri": REDIRECT, "response_type": "code",
        "state": "st8", **extra,
    }
    response = http.get("/oauth/auth", params={k: v for k, v in params.items() if v is not None})
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith(REDIRECT + "?")
    query = parse_qs(urlsplit(location).query)
    assert query["error"] == [error] and query["state"] == ["st8"]


def test_authorize_duplicate_scope_is_redirected_invalid_request(http: httpx.Client, app: App) -> None:
    response = http.get(
        f"/oauth/auth?client_id={app.client_id}&redirect_uri={REDIRECT}&response_type=code"
        "&scope=account&scope=maps&state=q"
    )
    assert response.status_code == 303
    assert parse_qs(urlsplit(response.headers["location"]).query)["error"] == ["invalid_request"]


_WIRE_TEXT = r"[\x20-\x21\x23-\x5b\x5d-\x7e]+"  # RFC 6749 §4.1.2.1 and §5.2


def test_error_descriptions_keep_to_the_rfc_characters(http: httpx.Client, app: App) -> None:
    """A description quoting the request turns a quote mark, backslash, control or non-ASCII
    character into "?", in a redirect and in a token endpoint answer alike (they went out as
    sent: the OIDF suite's ValidateErrorDescription... conditions fail on that)."""
    redirected = http.get(f"/oauth/auth?client_id={app.client_id}&redirect_uri={REDIRECT}"
                          "&response_type=code&state=q&x%22%5C%C3%A9%0A=1&x%22%5C%C3%A9%0A=2")
    query = parse_qs(urlsplit(redirected.headers["location"]).query)
    assert query["error"] == ["invalid_request"]
    assert query["error_description"] == ["Parameter 'x????' must not be sent more than once."]
    answer = http.post("/oauth/token", content=b"grant_type=a%22b%5Cc%C3%A9%0A",
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert answer.json()["error"] == "unsupported_grant_type"
    assert re.fullmatch(_WIRE_TEXT, answer.json()["error_description"]), answer.text


# --- /oauth/token ---------------------------------------------------------------------------

def _post(http: httpx.Client, data: dict[str, str], **kwargs: object) -> httpx.Response:
    return http.post("/oauth/token", data=data, **kwargs)  # type: ignore[arg-type]


def test_token_wrong_method_and_content_type(http: httpx.Client, app: App) -> None:
    assert http.get("/oauth/token").status_code == 405
    response = http.post("/oauth/token", json={"grant_type": "authorization_code"})
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


def test_client_endpoints_refuse_a_query_string(
    server: LiveServer, seeder: Seeder, http: httpx.Client, app: App
) -> None:
    """RFC 6749 §10.8: no secret in a URL (URLs end up in logs and proxies). The token,
    revocation and introspection endpoints refuse any query string, and nothing happens."""
    code = obtain_code(server.url, seeder.user("query"), app.client_id, REDIRECT)
    body = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
            "client_id": app.client_id}
    in_url = {"client_secret": app.client_secret or ""}
    refused = http.post("/oauth/token", params=in_url, data=body)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_request"
    assert "query string" in refused.json()["error_description"]
    for path in ("/oauth/revoke", "/oauth/introspect"):
        answer = http.post(path, params={"token": code}, data={**in_url, "client_id": app.client_id})
        assert answer.status_code == 400 and answer.json()["error"] == "invalid_request", path
    assert _post(http, {**body, **in_url}).status_code == 200  # the code was not spent


@pytest.mark.parametrize("body,status,error", [
    (b"client_id=x", 400, "invalid_request"),  # no grant_type
    (b"grant_type=password&username=a&password=b", 400, "unsupported_grant_type"),
    (b"grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer", 400, "unsupported_grant_type"),
    # The device grant exists (RFC 8628), but not for a request that names no client.
    (b"grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code", 401, "invalid_client"),
    (b"grant_type=authorization_code&code=%ff", 400, "invalid_request"),
    (b"grant_type=authorization_code&code=a%00", 400, "invalid_request"),
    (b"grant_type=authorization_code&grant_type=refresh_token", 400, "invalid_request"),
    (b"grant_type=authorization_code&code=" + b"x" * 5000, 400, "invalid_request"),
])
def test_token_malformed(http: httpx.Client, body: bytes, status: int, error: str) -> None:
    response = http.post("/oauth/token", content=body,
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == status, response.text
    assert response.json()["error"] == error
    assert response.headers["cache-control"] == "no-store"


def test_token_oversized_body(http: httpx.Client) -> None:
    response = http.post("/oauth/token", content=b"a=" + b"x" * 400_000,
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 413


def test_token_client_authentication(http: httpx.Client, app: App) -> None:
    assert app.client_secret is not None
    base = {"grant_type": "authorization_code", "code": "opac_x", "redirect_uri": REDIRECT}
    wrong = _post(http, {**base, "client_id": app.client_id, "client_secret": "opcs_wrong"})
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    assert wrong.headers["www-authenticate"].startswith("Basic")
    assert "opcs_wrong" not in wrong.text
    unknown = _post(http, {**base, "client_id": "opc_nobody", "client_secret": "opcs_x"})
    assert unknown.status_code == 401
    assert unknown.json()["error_description"] == wrong.json()["error_description"]
    no_secret = _post(http, {**base, "client_id": app.client_id})
    assert no_secret.status_code == 401
    basic = "Basic " + base64.b64encode(f"{app.client_id}:{app.client_secret}".encode()).decode()
    both = _post(http, {**base, "client_secret": app.client_secret}, headers={"Authorization": basic})
    assert both.status_code == 400 and both.json()["error"] == "invalid_request"
    garbled = _post(http, base, headers={"Authorization": "Basic !!!"})
    assert garbled.status_code == 401
    good_basic_bad_code = _post(http, base, headers={"Authorization": basic})
    assert good_basic_bad_code.status_code == 400
    assert good_basic_bad_code.json()["error"] == "invalid_grant"


def test_token_code_checks(server: LiveServer, seeder: Seeder, http: httpx.Client, app: App) -> None:
    other = seeder.app(seeder.user("dev"), redirect_uris=(REDIRECT,))
    account = seeder.user("eve")
    creds = {"client_id": app.client_id, "client_secret": app.client_secret or ""}

    code = obtain_code(server.url, account, app.client_id, REDIRECT)
    stolen = _post(http, {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
                          "client_id": other.client_id, "client_secret": other.client_secret or ""})
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"

    code = obtain_code(server.url, account, app.client_id, REDIRECT)
    mismatch = _post(http, {"grant_type": "authorization_code", "code": code,
                            "redirect_uri": "http://127.0.0.1:9000/cb", **creds})
    assert mismatch.json()["error"] == "invalid_grant"

    code = obtain_code(server.url, account, app.client_id, REDIRECT)
    missing = _post(http, {"grant_type": "authorization_code", "code": code, **creds})
    assert missing.json()["error"] == "invalid_request"

    assert _post(http, {"grant_type": "authorization_code", "code": "opac_" + "A" * 43,
                        "redirect_uri": REDIRECT, **creds}).json()["error"] == "invalid_grant"
    assert _post(http, {"grant_type": "refresh_token", "refresh_token": "oprt_nope",
                        **creds}).json()["error"] == "invalid_grant"
    assert _post(http, {"grant_type": "refresh_token", **creds}).json()["error"] == "invalid_request"


# --- the API ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def token(server: LiveServer, seeder: Seeder, app: App) -> str:
    code = obtain_code(server.url, seeder.user("uploader"), app.client_id, REDIRECT)
    response = httpx.post(server.url + "/oauth/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
        "client_id": app.client_id, "client_secret": app.client_secret or ""})
    return str(response.json()["access_token"])


@pytest.mark.parametrize("header,status,error", [
    (None, 401, "invalid_token"),
    ("Bearer opat_doesnotexist", 401, "invalid_token"),
    ("opat_doesnotexist", 401, "invalid_token"),
    ("Bearer", 401, "invalid_token"),
    ("Basic Zm9vOmJhcg==", 400, "invalid_request"),
    ("Bearer a b", 400, "invalid_request"),
])
def test_users_me_bad_tokens(http: httpx.Client, header: str | None, status: int, error: str) -> None:
    response = http.get("/users/me", headers={"Authorization": header} if header else {})
    assert response.status_code == status
    assert response.json()["error"] == error
    assert response.headers["www-authenticate"].startswith('Bearer realm="openplate"')
    if header is None:
        assert "error=" not in response.headers["www-authenticate"]


def _upload(http: httpx.Client, token: str, **kwargs: object) -> httpx.Response:
    return http.post("/maps", headers={"Authorization": f"Bearer {token}"}, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("files,status,error", [
    ({"map": ("x.xmind", b"hello, not a map", "application/octet-stream")}, 415, "unsupported_map_format"),
    ({"map": ("x.xmind", make_zip_bomb(), "application/octet-stream")}, 422, "unsafe_map"),
    ({"map": ("x.mm", make_billion_laughs_mm(), "application/octet-stream")}, 422, "unsafe_map"),
    ({"map": ("x.xmind", b"", "application/octet-stream")}, 422, "invalid_map"),
    ({"other": ("x.xmind", make_xmind_json(), "application/octet-stream")}, 400, "invalid_request"),
])
def test_maps_rejects_and_stores_nothing(
    server: LiveServer, http: httpx.Client, token: str, files: dict[str, tuple[str, bytes, str]],
    status: int, error: str,
) -> None:
    before = _count(server, "maps"), _count(server, "map_files")
    response = _upload(http, token, data={"title": "T"}, files=files)
    assert response.status_code == status, response.text
    assert response.json()["error"] == error
    assert (_count(server, "maps"), _count(server, "map_files")) == before


def test_maps_wrong_content_type_and_duplicates(http: httpx.Client, token: str) -> None:
    assert _upload(http, token, json={"title": "x"}).status_code == 415
    xmind = make_xmind_json()
    dup = _upload(http, token, files=[("map", ("a.xmind", xmind)), ("map", ("b.xmind", xmind))])
    assert dup.status_code == 400
    dup_title = _upload(http, token, data={"title": ["a", "b"]}, files={"map": ("a.xmind", xmind)})
    assert dup_title.status_code == 400 and "title" in dup_title.json()["error_description"]


def test_maps_too_large(server: LiveServer, http: httpx.Client, token: str) -> None:
    before = _count(server, "maps")
    big = b"PK\x03\x04" + b"\x00" * (22 * 1024 * 1024)
    response = _upload(http, token, files={"map": ("big.xmind", big)})
    assert response.status_code == 413
    assert _count(server, "maps") == before


def test_maps_needs_maps_scope(server: LiveServer, seeder: Seeder, http: httpx.Client, app: App) -> None:
    code = obtain_code(server.url, seeder.user("narrow"), app.client_id, REDIRECT, scope="account")
    narrow = httpx.post(server.url + "/oauth/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
        "client_id": app.client_id, "client_secret": app.client_secret or ""}).json()
    response = _upload(http, narrow["access_token"], files={"map": ("a.xmind", make_xmind_json())})
    assert response.status_code == 403 and response.json()["error"] == "insufficient_scope"


# --- forms --------------------------------------------------------------------------------------

def test_forms_need_csrf(server: LiveServer, seeder: Seeder) -> None:
    account = seeder.user("csrf")
    with httpx.Client(base_url=server.url, timeout=20) as browser:
        assert browser.post("/signin", data={"login": account.username,
                                             "password": account.password}).status_code == 403
        assert sign_in(browser, account).status_code == 303
        before = _count(server, "clients")
        assert browser.post("/applications/new", data={"name": "x"}).status_code == 403
        forged = browser.post("/applications/new", data={"name": "x", "csrf_token": "forged"})
        assert forged.status_code == 403
        assert _count(server, "clients") == before
        assert browser.post("/signout", data={"csrf_token": "forged"}).status_code == 403


@pytest.mark.parametrize("path", ["/signin", "/signup", "/signout", "/oauth/auth/decision",
                                  "/applications/new"])
def test_forms_reject_malformed_bodies(http: httpx.Client, path: str) -> None:
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    assert http.post(path, content=b"a=%ff", headers=form).status_code == 400
    assert http.post(path, content=b"a=1&a=2", headers=form).status_code == 400
    assert http.post(path, json={"a": 1}).status_code == 400
    assert http.post(path, content=b"a=" + b"x" * 70_000, headers=form).status_code == 400


def test_signin_does_not_tell_which_part_was_wrong(server: LiveServer, seeder: Seeder) -> None:
    account = seeder.user("quiet")
    with httpx.Client(base_url=server.url, timeout=20) as browser:
        bad_password = sign_in(browser, replace(account, password="wrong-pass"))
        unknown = sign_in(browser, replace(account, username="nobody-here", password="wrong-pass"))
    assert bad_password.status_code == unknown.status_code == 401
    assert "Wrong username, e-mail or password." in bad_password.text
    assert "Wrong username, e-mail or password." in unknown.text


def test_unknown_paths_and_methods(http: httpx.Client) -> None:
    assert http.get("/nope").status_code == 404
    assert http.delete("/users/me").status_code == 405
    assert http.get("/mindmaps/zzzzzzz/x").status_code == 404
    assert http.get("/mindmaps/../../etc/passwd").status_code == 404
    assert http.get("/mindmaps/abcdefg/files/other").status_code == 404


@pytest.mark.parametrize("path", ["/signin", "/signup", "/oauth/token", "/maps"])
def test_a_client_that_goes_away_mid_body_leaves_no_traceback(server: LiveServer, path: str) -> None:
    """A client that gives up (its own timeout) after sending half its body: one log line, no
    traceback, and the server goes on answering."""
    host, port = urlsplit(server.url).hostname, urlsplit(server.url).port
    assert host is not None and port is not None
    before = len(server.log())
    with socket.create_connection((host, port), timeout=10) as raw:
        raw.sendall(f"POST {path} HTTP/1.1\r\nHost: {host}\r\n"
                    "Content-Type: application/x-www-form-urlencoded\r\n"
                    "Content-Length: 1000\r\n\r\nlogin=half".encode())
    wait_until(lambda: " went away " in server.log()[before:] or f"POST {path} " in server.log()[before:],
               what=f"the server to log the abandoned POST {path}", log=server.log)
    assert httpx.get(server.url + "/", timeout=20).status_code == 200
    fresh = server.log()[before:]
    assert "Traceback" not in fresh and "unhandled error" not in fresh, fresh[-2000:]
