"""RFC 9126 over HTTP, on every engine: POST /oauth/par answers 201 with a request_uri that
/oauth/auth uses once (also in a parallel burst), for its own client only; everything
malformed is a 400 JSON answer, never a redirect; a client that requires PAR cannot send a
plain request; the purge removes expired pushed requests."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from openplate.housekeeping import purge
from openplate.oauth.pkce import s256
from tests.support.browser_flow import authorize, hidden_fields, redirect_params, sign_in
from tests.support.burst import Post, post_together, statuses
from tests.support.seed import App, Seeder
from tests.support.server import LiveServer, start_server
from tests.support.tokens import exchange
from tests.support.waiting import wait_until

VERIFIER = "par-verifier-" + "v" * 40
URN = "urn:ietf:params:oauth:request_uri:"
REDIRECT = "http://localhost:13524/cb"


def _basic(app: App) -> dict[str, str]:
    assert app.client_secret is not None
    pair = f"{app.client_id}:{app.client_secret}".encode()
    return {"Authorization": "Basic " + base64.b64encode(pair).decode()}


def _request(app: App, **extra: str) -> dict[str, str]:
    return {"response_type": "code", "redirect_uri": app.redirect_uris[0],
            "scope": "openid account", "state": "st-par", "nonce": "n-par",
            "code_challenge": s256(VERIFIER), "code_challenge_method": "S256", **extra}


def push(server: LiveServer, app: App, **extra: str) -> httpx.Response:
    return httpx.post(server.url + "/oauth/par", data=_request(app, **extra), headers=_basic(app),
                      timeout=30)


def pushed(server: LiveServer, app: App, **extra: str) -> str:
    answer = push(server, app, **extra)
    assert answer.status_code == 201, answer.text
    request_uri: str = answer.json()["request_uri"]
    return request_uri


def _page_error(response: httpx.Response) -> str:
    """The wire error code an error page names."""
    assert response.status_code == 400 and "location" not in response.headers, response.text[:300]
    assert "text/html" in response.headers["content-type"]
    return response.text


def test_push_then_authorise_then_tokens(server: LiveServer, seeder: Seeder) -> None:
    app, account = seeder.app(seeder.user("dev")), seeder.user("u")
    answer = push(server, app)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert set(body) == {"request_uri", "expires_in"} and body["expires_in"] == 60
    assert body["request_uri"].startswith(URN) and len(body["request_uri"]) == len(URN) + 43
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["content-type"] == "application/json"
    with httpx.Client(base_url=server.url, timeout=20) as browser:
        # What the browser carries besides client_id and request_uri is ignored (RFC 9126 §4).
        done = authorize(browser, account, {"client_id": app.client_id,
                                            "request_uri": body["request_uri"],
                                            "redirect_uri": "https://evil.example/cb",
                                            "state": "forged", "scope": "maps"})
        got = redirect_params(done)
        assert done.headers["location"].startswith(app.redirect_uris[0] + "?")
        assert got["state"] == "st-par" and got["iss"] == server.url
        tokens = exchange(server.url, app, got["code"], code_verifier=VERIFIER)
        assert tokens.status_code == 200, tokens.text
        assert tokens.json()["scope"] == "openid account" and "id_token" in tokens.json()
        again = browser.get("/oauth/auth", params={"client_id": app.client_id,
                                                   "request_uri": body["request_uri"]})
        text = _page_error(again)
        assert "invalid_request_uri" in text and "already used" in text


def test_a_public_client_pushes_with_its_client_id(server: LiveServer, seeder: Seeder) -> None:
    app = seeder.app(seeder.user("dev"), public=True)
    answer = httpx.post(server.url + "/oauth/par", timeout=30,
                        data={**_request(app), "client_id": app.client_id})
    assert answer.status_code == 201, answer.text
    no_pkce = {k: v for k, v in _request(app).items() if not k.startswith("code_challenge")}
    refused = httpx.post(server.url + "/oauth/par", timeout=30,
                         data={**no_pkce, "client_id": app.client_id})
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_request"


@pytest.mark.parametrize(("content", "status", "error"), [
    ("response_type=code&scope=openid&scope=account", 400, "invalid_request"),
    ("response_type=code&redirect_uri=https%3A%2F%2Fevil.example%2Fcb", 400, "invalid_request"),
    ("response_type=code&request=eyJhbGciOiJub25lIn0.e30.", 400, "request_not_supported"),
    ("response_type=code&request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3Aabc", 400,
     "invalid_request"),
    ("response_type=token", 400, "unsupported_response_type"),
    ("response_type=code&prompt=none+login", 400, "invalid_request"),
    ("response_type=code&state=" + "s" * 5000, 400, "invalid_request"),
    ("response_type=code&x=" + "y" * 70_000, 413, "request_too_large"),
    ("response_type=code&" + "&".join(f"p{i}=1" for i in range(80)), 400, "invalid_request"),
    ("response_type=code&state=%ff", 400, "invalid_request"),
])
def test_hostile_pushes_are_json_errors_never_redirects(
    server: LiveServer, seeder: Seeder, content: str, status: int, error: str,
) -> None:
    app = seeder.app(seeder.user("dev"))
    if "redirect_uri=" not in content:
        content += "&redirect_uri=" + httpx.QueryParams({"r": app.redirect_uris[0]})["r"]
    answer = httpx.post(server.url + "/oauth/par", content=content, timeout=30, headers={
        **_basic(app), "Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status_code == status, answer.text
    assert "location" not in answer.headers
    assert answer.headers["content-type"] == "application/json"
    assert answer.json()["error"] == error
    assert seeder.scalar("select count(*) from pushed_requests where client_pk = "
                         "(select id from clients where client_id = :cid)", cid=app.client_id) == 0


def test_the_client_authenticates_as_at_the_token_endpoint(server: LiveServer,
                                                           seeder: Seeder) -> None:
    app, other = seeder.app(seeder.user("dev")), seeder.app(seeder.user("dev"))
    url = server.url + "/oauth/par"
    wrong = httpx.post(url, data=_request(app), timeout=30, auth=(app.client_id, "opcs_wrong"))
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    assert wrong.headers["www-authenticate"].startswith("Basic")
    nobody = httpx.post(url, data=_request(app), timeout=30)
    assert nobody.status_code == 401 and nobody.json()["error"] == "invalid_client"
    # A client_id in the body that is not the authenticated client's.
    swapped = httpx.post(url, data={**_request(app), "client_id": other.client_id}, timeout=30,
                         headers=_basic(app))
    assert swapped.status_code == 400 and swapped.json()["error"] == "invalid_request"
    assert httpx.get(url, timeout=30).status_code == 405
    in_query = httpx.post(url + "?scope=openid", data=_request(app), headers=_basic(app),
                          timeout=30)
    assert in_query.status_code == 400 and in_query.json()["error"] == "invalid_request"
    as_json = httpx.post(url, json=_request(app), headers=_basic(app), timeout=30)
    assert as_json.status_code == 400 and as_json.json()["error"] == "invalid_request"


def test_another_apps_request_uri_is_refused_and_left_unused(server: LiveServer,
                                                             seeder: Seeder) -> None:
    """Swapping client_id: the request_uri belongs to the app that pushed it (RFC 9126 §4)."""
    victim, attacker = seeder.app(seeder.user("dev")), seeder.app(seeder.user("dev"))
    account = seeder.user("u")
    request_uri = pushed(server, victim)
    with httpx.Client(base_url=server.url, timeout=20) as browser:
        swapped = browser.get("/oauth/auth", params={"client_id": attacker.client_id,
                                                     "request_uri": request_uri})
        text = _page_error(swapped)
        assert "invalid_request_uri" in text and "unknown to this application" in text
        done = authorize(browser, account, {"client_id": victim.client_id,
                                            "request_uri": request_uri})
        assert "code" in redirect_params(done)


@pytest.mark.parametrize(("query", "words"), [
    ({"request_uri": URN + "A" * 43}, "unknown to this application"),
    ({"request_uri": URN + "short"}, "not one this server issued"),
    ({"request_uri": URN + "A" * 43, "request": "eyJhbGciOiJub25lIn0.e30."}, "not both"),
])
def test_bad_request_uris_are_pages(server: LiveServer, seeder: Seeder, query: dict[str, str],
                                    words: str) -> None:
    app = seeder.app(seeder.user("dev"))
    answer = httpx.get(server.url + "/oauth/auth", params={"client_id": app.client_id, **query},
                       timeout=30)
    assert words in _page_error(answer)
    twice = httpx.get(server.url + "/oauth/auth?client_id=" + app.client_id
                      + "&request_uri=" + URN + "A" * 43 + "&request_uri=" + URN + "B" * 43,
                      timeout=30)
    assert "more than once" in _page_error(twice)


def test_an_expired_request_uri_is_refused(server: LiveServer, seeder: Seeder) -> None:
    app = seeder.app(seeder.user("dev"))
    request_uri = pushed(server, app)
    seeder.execute("update pushed_requests set expires_at = :t where digest = :d",
                   t=int(time.time()) - 1, d=seeder.digester.digest(request_uri))
    answer = httpx.get(server.url + "/oauth/auth", timeout=30,
                       params={"client_id": app.client_id, "request_uri": request_uri})
    assert "expired" in _page_error(answer)


def test_a_burst_of_uses_lets_exactly_one_through(server: LiveServer, seeder: Seeder) -> None:
    """Twenty browsers open the same request_uri at once: one gets on (the request parked,
    303 to resume it), every other one is refused."""
    app = seeder.app(seeder.user("dev"))
    request_uri = pushed(server, app)
    form = {"client_id": app.client_id, "request_uri": request_uri}
    answers = post_together([Post(server.url + "/oauth/auth", form, source="127.0.17.9")] * 20)
    assert statuses(answers) == {303: 1, 400: 19}, statuses(answers)
    winner = next(a for a in answers if a.status_code == 303)
    assert winner.headers["location"].startswith("/oauth/auth/resume?request=")
    assert all("invalid_request_uri" in a.text for a in answers if a.status_code == 400)


def _strict(seeder: Seeder, app: App) -> None:
    seeder.execute("update clients set require_pushed_authorization_requests = :on "
                   "where client_id = :cid", on=True, cid=app.client_id)


def test_a_client_that_requires_par_gets_an_error_for_a_plain_request(
    server: LiveServer, seeder: Seeder,
) -> None:
    owner, account = seeder.user("dev"), seeder.user("u")
    trusted = seeder.app(owner)
    untrusted = seeder.app(owner, by_operator=False)
    for app in (trusted, untrusted):
        _strict(seeder, app)
    plain = {"response_type": "code", "state": "st"}

    def refused(app: App) -> httpx.Response | None:
        answer = httpx.get(server.url + "/oauth/auth", timeout=30, params={
            "client_id": app.client_id, "redirect_uri": app.redirect_uris[0], **plain})
        return answer if answer.status_code != 303 or "error=" in answer.headers.get(
            "location", "") else None

    # The client record is cached for up to a second on the server (store/client_cache.py).
    sent_back = wait_until(lambda: refused(trusted), "the plain request to be refused")
    got = parse_qs(urlsplit(sent_back.headers["location"]).query)
    assert got["error"] == ["invalid_request"] and got["state"] == ["st"]
    assert "/oauth/par" in got["error_description"][0]
    # An app not trusted for automatic redirects: a page names it and the person decides.
    shown = wait_until(lambda: refused(untrusted), "the plain request to be refused")
    assert shown.status_code == 400 and "/oauth/par" in shown.text
    assert "invalid_request" in shown.text
    with httpx.Client(base_url=server.url, timeout=20) as browser:
        done = authorize(browser, account, {"client_id": trusted.client_id,
                                            "request_uri": pushed(server, trusted)})
        assert "code" in redirect_params(done)


def test_discovery_advertises_the_endpoint(server: LiveServer) -> None:
    for path in ("/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"):
        meta = httpx.get(server.url + path, timeout=30).json()
        assert meta["pushed_authorization_request_endpoint"] == server.url + "/oauth/par"
        assert meta["require_pushed_authorization_requests"] is False
        # Request objects by reference (OIDC Core §6.2) are still not supported (RFC 9126 §5).
        assert meta["request_uri_parameter_supported"] is False
    operation = httpx.get(server.url + "/openapi.json", timeout=30).json()["paths"]["/oauth/par"]
    assert set(operation) == {"post"} and "201" in operation["post"]["responses"]


def test_the_purge_removes_expired_pushed_requests(server: LiveServer, seeder: Seeder) -> None:
    app = seeder.app(seeder.user("dev"))
    expired, live = pushed(server, app), pushed(server, app)
    count = "select count(*) from pushed_requests where digest = :d"
    seeder.execute("update pushed_requests set expires_at = :t where digest = :d",
                   t=int(time.time()) - 5, d=seeder.digester.digest(expired))
    counts = seeder._run(lambda db: purge(db, reclaim=False))
    assert counts["pushed_requests"] >= 1
    assert seeder.scalar(count, d=seeder.digester.digest(expired)) == 0
    assert seeder.scalar(count, d=seeder.digester.digest(live)) == 1


def test_the_developer_ticks_require_par_on_the_apps_page(server: LiveServer,
                                                          seeder: Seeder) -> None:
    developer = seeder.user("dev")
    with httpx.Client(base_url=server.url, timeout=20) as browser:
        assert sign_in(browser, developer).status_code == 303
        made = browser.post("/applications/new", files={"logo": ("", b"", "application/octet-stream")},
                            data={**hidden_fields(browser.get("/applications").text),
                                  "name": "Pusher", "homepage": "https://pusher.example/"})
        assert made.status_code == 303, made.text[:500]
        path = made.headers["location"]
        client_id = path.rsplit("/", 1)[1]
        page = browser.get(path)
        assert 'name="require_pushed_authorization_requests"' in page.text
        assert 'aria-describedby="par-help"' in page.text and "/oauth/par" in page.text
        fields = {**hidden_fields(page.text), "name": "Pusher", "redirect_uris": REDIRECT,
                  "homepage": "https://pusher.example/"}
        no_file = {"logo": ("", b"", "application/octet-stream")}

        def save(**more: str) -> None:
            saved = browser.post(path, data={**fields, **more}, files=no_file)
            assert saved.status_code == 303 and saved.headers["location"] == path

        def plain() -> httpx.Response:
            return httpx.get(server.url + "/oauth/auth", timeout=20, params={
                "client_id": client_id, "redirect_uri": REDIRECT, "response_type": "code",
                "state": "st"})

        save(require_pushed_authorization_requests="1")
        assert 'value="1" aria-describedby="par-help" checked' in browser.get(path).text
        refused = plain()  # the page's save emptied this process's client cache
        assert refused.status_code == 400 and "/oauth/par" in refused.text
        save()  # unticked
        assert plain().status_code == 303


@pytest.fixture(scope="module")
def strict_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server that requires PAR of every client (OPENPLATE_REQUIRE_PAR=true), on SQLite."""
    live = start_server(tmp_path_factory.mktemp("require-par"),
                        extra_env={"OPENPLATE_REQUIRE_PAR": "true"})
    try:
        yield live
    finally:
        live.stop()


def test_the_server_can_require_par_of_every_client(strict_server: LiveServer) -> None:
    seeder = Seeder(strict_server)
    app, account = seeder.app(seeder.user("dev")), seeder.user("u")
    meta = httpx.get(strict_server.url + "/.well-known/openid-configuration", timeout=30).json()
    assert meta["require_pushed_authorization_requests"] is True
    plain = httpx.get(strict_server.url + "/oauth/auth", timeout=30, params={
        "client_id": app.client_id, "redirect_uri": app.redirect_uris[0], "response_type": "code",
        "state": "st"})
    got = redirect_params(plain)  # the operator's app is trusted for automatic redirects
    assert got["error"] == "invalid_request" and "/oauth/par" in got["error_description"]
    with httpx.Client(base_url=strict_server.url, timeout=20) as browser:
        done = authorize(browser, account, {"client_id": app.client_id,
                                            "request_uri": pushed(strict_server, app)})
        code = redirect_params(done)["code"]
    assert exchange(strict_server.url, app, code, code_verifier=VERIFIER).status_code == 200
    assert "Traceback" not in strict_server.log()
