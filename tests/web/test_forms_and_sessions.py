"""The site's forms over HTTP: what a signed-out visitor or a crawler looks at leaves no session
row; sign-in and sign-up check CSRF without one; every post that changes something answers with a
redirect and a one-time notice; a new client secret rests nowhere in plaintext and is shown once.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import httpx
import pytest

from openplate.settings import Settings
from openplate.web.app import create_app
from tests.support.browser_flow import hidden_fields, sign_in
from tests.support.mindmaps import make_xmind_json
from tests.support.seed import Account, App, Seeder
from tests.support.server import LiveServer
from tests.support.tokens import tokens_for

FORM_COOKIE = "openplate_form"  # over plain http (no __Host- prefix without Secure)
SESSION_COOKIE = "openplate_session"
EXPIRED = "Your form expired. Go back, reload the page and try again."
ROUNDS = 10


def _routes(routes: list[object]) -> Iterator[tuple[set[str], str]]:
    """(methods, path) of every route of the app, through FastAPI's included routers."""
    for route in routes:
        inner = getattr(route, "original_router", None) or getattr(route, "router", None)
        if inner is not None and hasattr(inner, "routes"):
            yield from _routes(inner.routes)
        elif hasattr(route, "methods") and hasattr(route, "path"):
            yield set(route.methods or ()), str(route.path)


def _page_paths(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    folder = tmp_path_factory.mktemp("routes")
    app = create_app(Settings(database_url=f"sqlite:///{folder / 'r.db'}", secret_key="k" * 40))
    paths = sorted({path for methods, path in _routes(app.routes) if "GET" in methods})
    assert {"/", "/signin", "/signup", "/mindmaps/{public_id}/{slug}", "/docs"} <= set(paths)
    return paths


@pytest.fixture(scope="module")
def shared_map(server: LiveServer, seeder: Seeder) -> tuple[str, str]:
    """(public id, slug) of a map shared through the API."""
    token = tokens_for(server.url, seeder.user("mapper"), seeder.app(seeder.user("dev")))
    upload = httpx.post(server.url + "/maps", timeout=20,
                        headers={"Authorization": f"Bearer {token['access_token']}"},
                        data={"title": "Crawled map", "description": "Seen by robots."},
                        files={"map": ("m.xmind", make_xmind_json("Crawled map", ["a", "b"]))})
    assert upload.status_code == 201, upload.text
    public_id, slug = urlsplit(upload.json()["url"]).path.split("/")[2:4]
    return public_id, slug


def _last_session(seeder: Seeder) -> int:
    return int(str(seeder.scalar("SELECT COALESCE(MAX(id), 0) FROM sessions")))


def _new_sessions(seeder: Seeder, since: int) -> int:
    """Session rows made after the row ``since`` (from ``_last_session``)."""
    return int(str(seeder.scalar("SELECT COUNT(*) FROM sessions WHERE id > :i", i=since)))


def test_no_public_page_opens_a_session(
    server: LiveServer, seeder: Seeder, shared_map: tuple[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Every GET route of the app, many times, by a crawler (no cookies kept) and by a browser
    (cookies kept): no session row appears. Routes with parameters get real values."""
    public_id, slug = shared_map
    someone_elses = seeder.app(seeder.user("dev")).client_id
    values = {"{public_id}": public_id, "{slug}": slug, "{client_id}": someone_elses,
              "{passkey_id:int}": "1", "{fmt}": "svg", "{tag}": "a-tag", "{username}": "someone",
              "{token}": "oppr_not-a-link-anyone-was-sent"}  # a mailed link's token
    urls: list[str] = []
    for path in _page_paths(tmp_path_factory):
        for name, value in values.items():
            path = path.replace(name, value)
        if path.endswith("/files/{name}"):
            urls += [path.replace("{name}", "map"), path.replace("{name}", "thumbnail")]
            continue
        assert "{" not in path, f"add a value for {path} to this test"
        urls.append(path)
    urls += ["/signin?next=%2Fapplications", "/signin?force=1&login_hint=x", "/signup?next=%2F",
             "/no/such/page", "/static/site.css", "/oauth/auth?client_id=opc_nope"]
    since = _last_session(seeder)
    with httpx.Client(base_url=server.url, timeout=20) as browser:
        for _ in range(ROUNDS):
            for url in urls:
                crawled = httpx.get(server.url + url, timeout=20)
                kept = browser.get(url)
                assert crawled.status_code < 500 and kept.status_code < 500, url
                assert SESSION_COOKIE not in crawled.headers.get("set-cookie", ""), url
        assert httpx.head(server.url + "/signin").status_code == 200
        assert browser.cookies.get(SESSION_COOKIE) is None
        assert browser.cookies.get(FORM_COOKIE) is not None  # the sign-in form's CSRF cookie
    assert _new_sessions(seeder, since) == 0


def test_a_signed_out_authorisation_request_opens_no_session(
    server: LiveServer, seeder: Seeder
) -> None:
    """A crawler following "Sign in with Openplate" links: sent to sign in, no row left."""
    app = seeder.app(seeder.user("dev"))
    params = {"client_id": app.client_id, "redirect_uri": app.redirect_uris[0],
              "response_type": "code", "state": "s"}
    since = _last_session(seeder)
    for _ in range(ROUNDS):
        answer = httpx.get(server.url + "/oauth/auth", params=params, timeout=20)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/signin?")
        assert httpx.get(server.url + answer.headers["location"], timeout=20).status_code == 200
    assert _new_sessions(seeder, since) == 0


def _form_token(page: httpx.Response) -> str:
    return hidden_fields(page.text)["csrf_token"]


@pytest.mark.parametrize("form", ["signin", "signup"])
def test_signed_out_forms_check_csrf_without_a_session(
    server: LiveServer, seeder: Seeder, form: str
) -> None:
    def fields(account: Account) -> dict[str, str]:
        if form == "signin":
            return {"login": account.username, "password": account.password}
        name = f"new{time.time_ns() % 10**12}"
        return {"username": name, "email": f"{name}@example.org", "password": "long enough pw"}

    account = seeder.user("csrf")
    since = _last_session(seeder)
    with httpx.Client(base_url=server.url, timeout=20) as browser, \
            httpx.Client(base_url=server.url, timeout=20) as other:
        # No form cookie at all: refused, whatever the form says.
        for token in (None, "", "forged"):
            data = fields(account) | ({} if token is None else {"csrf_token": token})
            refused = browser.post(f"/{form}", data=data)
            assert refused.status_code == 403 and EXPIRED in refused.text
        page = browser.get(f"/{form}")
        cookie = page.cookies.get(FORM_COOKIE)
        assert cookie and SESSION_COOKIE not in page.headers.get("set-cookie", "")
        right = _form_token(page)
        other_token = _form_token(other.get(f"/{form}"))
        assert right != cookie  # the form carries a keyed digest of the cookie, not the cookie
        # With the cookie: a missing, wrong, or another browser's token is refused; so is the
        # cookie's own value posted back as the token.
        for token in (None, "", "forged", right[:-1], right + "x", other_token, cookie):
            data = fields(account) | ({} if token is None else {"csrf_token": token})
            refused = browser.post(f"/{form}", data=data)
            assert refused.status_code == 403 and EXPIRED in refused.text, token
        assert _new_sessions(seeder, since) == 0
        accepted = browser.post(f"/{form}", data=fields(account) | {"csrf_token": right})
        assert accepted.status_code == 303, accepted.text
        assert accepted.cookies.get(SESSION_COOKIE, "").startswith("opss_")
    assert _new_sessions(seeder, since) == 1  # signing in (or up) is what opens a session


def test_a_signed_in_session_does_not_take_a_form_cookie_token(
    server: LiveServer, seeder: Seeder
) -> None:
    """Signed in, only the session's own CSRF token counts: one derived from the form cookie
    (which the browser still holds) cannot sign it out or post its forms."""
    with httpx.Client(base_url=server.url, timeout=20) as browser:
        cookie_token = _form_token(browser.get("/signin"))
        assert sign_in(browser, seeder.user("u")).status_code == 303
        assert browser.post("/signout", data={"csrf_token": cookie_token}).status_code == 403
        refused = browser.post("/applications/new", data={"csrf_token": cookie_token, "name": "x"})
        assert refused.status_code == 403
        assert browser.get("/applications").status_code == 200  # still signed in


@contextmanager
def _developer_browser(server: LiveServer, developer: Account) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=20) as browser:
        assert sign_in(browser, developer).status_code == 303
        yield browser


def _secret_on(page: str) -> str | None:
    found = re.search(r'id="client-secret">([^<]+)<', page)
    return found.group(1) if found else None


def test_generate_application_redirects_and_shows_the_secret_once(
    server: LiveServer, seeder: Seeder
) -> None:
    developer = seeder.user("dev")
    name = f"Once {time.time_ns() % 10**9}"
    with _developer_browser(server, developer) as browser:
        listing = browser.get("/applications")
        created = browser.post("/applications/new",
                               data={**hidden_fields(listing.text), "name": name,
                                     "homepage": "https://once.example/"})
        assert created.status_code == 303, created.text
        location = created.headers["location"]
        client_id = location.rsplit("/", 1)[1]
        assert location == f"/applications/{client_id}" and client_id.startswith("opc_")
        # Until the page is shown, the secret rests only sealed: not in the database's bytes.
        pending = seeder.scalar("SELECT flash FROM sessions WHERE flash IS NOT NULL "
                                "ORDER BY id DESC")
        assert isinstance(pending, str) and pending.startswith("n1.")
        before_shown = seeder.at_rest(server)
        shown = browser.get(location)
        secret = _secret_on(shown.text)
        assert secret is not None and secret.startswith("opcs_")
        assert "Application created. Add a redirect URI to use it." in shown.text
        assert secret.encode() not in before_shown
        assert secret.encode() not in seeder.at_rest(server)
        # Shown once: a reload shows neither the secret nor the notice, and creates nothing.
        again = browser.get(location)
        assert _secret_on(again.text) is None and secret not in again.text
        assert "Application created" not in again.text
        count = seeder.scalar("SELECT COUNT(*) FROM clients WHERE name = :n", n=name)
        assert count == 1
    assert secret not in server.log() and pending not in server.log()
    # The secret shown is the application's real one.
    token = httpx.post(server.url + "/oauth/token", timeout=20, data={
        "grant_type": "client_credentials", "client_id": client_id, "client_secret": secret})
    assert token.json().get("error") != "invalid_client", token.text


def test_a_notice_is_kept_briefly_and_only_for_its_session(
    server: LiveServer, seeder: Seeder
) -> None:
    developer = seeder.user("dev")
    app: App = seeder.app(developer)
    with _developer_browser(server, developer) as browser, \
            _developer_browser(server, developer) as elsewhere:
        mine = seeder.digester.digest(browser.cookies[SESSION_COOKIE])

        def pending() -> object:
            return seeder.scalar("SELECT flash FROM sessions WHERE digest = :d", d=mine)

        def save() -> None:
            page = browser.get(f"/applications/{app.client_id}")
            saved = browser.post(f"/applications/{app.client_id}", data={
                **hidden_fields(page.text), "name": app.name,
                "redirect_uris": app.redirect_uris[0]})
            assert saved.status_code == 303 and pending() is not None

        save()
        # Another browser of the same account does not see it; this one does, once.
        assert "Saved." not in elsewhere.get(f"/applications/{app.client_id}").text
        assert "Saved." in browser.get(f"/applications/{app.client_id}").text
        assert pending() is None
        assert "Saved." not in browser.get(f"/applications/{app.client_id}").text
        # Past its time it is not shown, and purge blanks it.
        save()
        seeder.execute("UPDATE sessions SET flash_expires_at = :t WHERE digest = :d",
                       t=int(time.time()) - 1, d=mine)
        assert "Saved." not in browser.get(f"/applications/{app.client_id}").text
        assert pending() is not None
        purged = subprocess.run([sys.executable, "-m", "openplate.cli", "purge", "--json"], env=server.env,
                                capture_output=True, text=True, timeout=60, check=True)
        assert json.loads(purged.stdout)["notices"] >= 1
        assert pending() is None
