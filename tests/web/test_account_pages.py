"""The account's own pages over HTTP, on SQLite and on PostgreSQL with Redis: the overview and
its display name (in the header and the OIDC ``name`` claim), the signed-in browsers (sign out
one, or all others), and the security timeline in plain words."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from tests.support.browser_flow import hidden_fields, sign_in
from tests.support.seed import Account, Seeder
from tests.support.server import LiveServer
from tests.support.tokens import refresh, tokens_for
from tests.support.waiting import wait_until

FIREFOX = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0")
IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
          "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1")
NOTICE = re.compile(r'<div class="flash" role="status">\s*<p>([^<]*)</p>')


@contextmanager
def browser(server: LiveServer, account: Account, agent: str = FIREFOX) -> Iterator[httpx.Client]:
    """A signed-in 'browser' (cookies kept) with its own User-Agent."""
    with httpx.Client(base_url=server.url, timeout=20, headers={"User-Agent": agent}) as client:
        assert sign_in(client, account).status_code == 303
        yield client


def _post(client: httpx.Client, path: str, page: str = "/account", **data: str) -> httpx.Response:
    fields = hidden_fields(client.get(page).text)
    return client.post(path, data={"csrf_token": fields["csrf_token"], **data})


def _notice(client: httpx.Client, response: httpx.Response) -> str:
    assert response.status_code == 303, response.text[:2000]
    found = NOTICE.search(client.get(response.headers["location"]).text)
    assert found is not None
    return found.group(1)


def _display_name(seeder: Seeder, account: Account) -> object:
    return seeder.scalar("SELECT display_name FROM users WHERE id = :id", id=account.id)


# --- /account -----------------------------------------------------------------------------------

def test_the_overview_shows_the_account_and_links_its_pages(
        server: LiveServer, seeder: Seeder) -> None:
    account = seeder.user("overview")
    with browser(server, account) as client:
        page = client.get("/account")
    assert page.status_code == 200
    for text in (account.username, account.email, 'href="/account/email"',
                 'href="/account/security"', 'href="/account/sessions"',
                 'href="/account/password"', 'href="/account/apps"', 'href="/applications"',
                 '<a href="/account/maps">Your maps</a>: share a mind map'):
        assert text in page.text, text
    with httpx.Client(base_url=server.url, timeout=20) as anonymous:
        answer = anonymous.get("/account")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/signin?next=%2Faccount"


@pytest.mark.parametrize("name", ["Ada Lovelace", "李小龍", "محمد عبد الله", "Zoë 👩‍💻 Ōtsuka",
                                  "x" * 64])
def test_a_display_name_is_saved_shown_in_the_header_and_in_the_name_claim(
        server: LiveServer, seeder: Seeder, name: str) -> None:
    account = seeder.user("named")
    with browser(server, account) as client:
        saved = _post(client, "/account", display_name=f"  {name} ")
        assert _notice(client, saved) == "Display name saved."
        assert f"Signed in as <strong dir=\"auto\">{name}</strong>" in client.get("/").text
    assert _display_name(seeder, account) == name
    app = seeder.app(seeder.user("dev"))
    got = tokens_for(server.url, account, app, scope="openid profile")
    claims = httpx.get(server.url + "/oauth/userinfo", timeout=20,
                       headers={"Authorization": f"Bearer {got['access_token']}"}).json()
    assert (claims["name"], claims["preferred_username"]) == (name, account.username)
    # The refreshed ID token says so too (same profile lookup), and removing the name restores
    # the username.
    with browser(server, account) as client:
        removed = _post(client, "/account", display_name="   ")
        assert _notice(client, removed) == "Display name removed: your username is shown instead."
    assert _display_name(seeder, account) is None
    fresh = refresh(server.url, app, got["refresh_token"]).json()
    claims = httpx.get(server.url + "/oauth/userinfo", timeout=20,
                       headers={"Authorization": f"Bearer {fresh['access_token']}"}).json()
    assert claims["name"] == account.username


@pytest.mark.parametrize(("typed", "says"), [
    ("x" * 65, "at most 64 characters"),
    ("evil\u202egnp.exe", "U+202E"),
    ("two\nlines", "U+000A"),
    ("zero\u200bwidth", "U+200B"),
    ("bell\x07ring", "U+0007"),
    ("two  spaces", "two spaces in a row"),
    ("thin\u2009space", "ordinary spaces"),
])
def test_a_bad_display_name_is_refused_at_its_field_and_nothing_changes(
        server: LiveServer, seeder: Seeder, typed: str, says: str) -> None:
    account = seeder.user("badname")
    with browser(server, account) as client:
        answer = _post(client, "/account", display_name=typed)
    assert answer.status_code == 400
    error = re.search(r'<p class="error" id="display-name-error" role="alert">([^<]*)</p>',
                      answer.text)
    assert error is not None and says in error.group(1), answer.text[:3000]
    field = re.search(r'<input id="display-name"[^>]*>', answer.text)
    assert field is not None
    assert 'aria-invalid="true"' in field.group(0)
    assert "display-name-error" in field.group(0)
    assert _display_name(seeder, account) is None


def test_the_display_name_form_needs_its_csrf_token(server: LiveServer, seeder: Seeder) -> None:
    account = seeder.user("csrfname")
    with browser(server, account) as client:
        for token in ("", "forged"):
            answer = client.post("/account", data={"csrf_token": token, "display_name": "Eve"})
            assert answer.status_code == 403
    assert _display_name(seeder, account) is None


# --- /account/sessions ---------------------------------------------------------------------------

def _session_ids(page: str) -> list[str]:
    return re.findall(r'action="/account/sessions/(\d+)/sign-out"', page)


def test_sessions_list_every_browser_and_sign_out_one_ends_it_at_once(
        server: LiveServer, seeder: Seeder) -> None:
    account = seeder.user("sessions")
    with browser(server, account, FIREFOX) as desk, browser(server, account, IPHONE) as phone, \
            browser(server, account, "SomethingElse/1.0") as odd:
        page = desk.get("/account/sessions").text
        assert page.count('class="card session') == 3
        assert re.search(r"Firefox 133 on Windows <span class=\"badge\">This browser</span>", page)
        assert "Safari 17 on iPhone" in page and "Unknown browser on an unknown system" in page
        assert "127.0.0.1" in page
        assert re.search(r'<time datetime="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ" data-local>', page)
        others = _session_ids(page)
        assert len(others) == 2
        phone_page = phone.get("/account/sessions").text
        assert "Safari 17 on iPhone <span class=\"badge\">This browser</span>" in phone_page
        phone_id = next(i for i in others if i not in _session_ids(phone_page))
        ended = _post(desk, f"/account/sessions/{phone_id}/sign-out", "/account/sessions")
        assert _notice(desk, ended) == "Signed out Safari 17 on iPhone."
        # The phone's very next request is signed out.
        assert phone.get("/account").headers["location"].startswith("/signin")
        assert "Safari 17 on iPhone" not in desk.get("/account/sessions").text
        assert odd.get("/account").status_code == 200
        # Twice, or someone else's: not found, and nothing else ends.
        again = _post(desk, f"/account/sessions/{phone_id}/sign-out", "/account/sessions")
        assert again.status_code == 404
        stranger = seeder.user("stranger")
        with browser(server, stranger) as theirs:
            foreign = _post(theirs, f"/account/sessions/{others[0]}/sign-out",
                            "/account/sessions")
            assert foreign.status_code == 404
            for bad in ("abc", "99999999999999999999999", "-1"):
                assert _post(theirs, f"/account/sessions/{bad}/sign-out",
                             "/account/sessions").status_code in (404, 405)
        assert odd.get("/account").status_code == 200
        timeline = desk.get("/account/security").text
        assert "You signed out another browser (Safari 17 on iPhone)." in timeline


def test_sign_out_all_other_browsers_asks_first(server: LiveServer, seeder: Seeder) -> None:
    account = seeder.user("others")
    with browser(server, account) as desk, browser(server, account, IPHONE) as phone, \
            browser(server, account, IPHONE) as tablet:
        confirm = desk.get("/account/sessions/sign-out-others")
        assert confirm.status_code == 200
        assert "Sign out all your other browsers?" in confirm.text
        assert "(2 now)" in confirm.text
        assert phone.get("/account").status_code == 200  # asking changed nothing
        done = desk.post("/account/sessions/sign-out-others",
                         data={"csrf_token": hidden_fields(confirm.text)["csrf_token"]})
        assert _notice(desk, done) == "Signed out 2 other browsers."
        for other in (phone, tablet):
            assert other.get("/account").headers["location"].startswith("/signin")
        assert desk.get("/account").status_code == 200
        assert "No other browser is signed in" in desk.get("/account/sessions").text
        assert "You signed out all your other browsers (2)." in desk.get("/account/security").text
        forged = desk.post("/account/sessions/sign-out-others", data={"csrf_token": "forged"})
        assert forged.status_code == 403


def _last_seen(seeder: Seeder, session_id: str) -> object:
    return seeder.scalar("SELECT last_seen_at FROM sessions WHERE id = :id", id=int(session_id))


def test_last_seen_is_written_at_most_once_in_a_few_minutes(
        server: LiveServer, seeder: Seeder) -> None:
    account = seeder.user("seen")
    with browser(server, account) as desk, browser(server, account, IPHONE) as phone:
        phone_id = _session_ids(desk.get("/account/sessions").text)[0]
        made = _last_seen(seeder, phone_id)
        assert isinstance(made, int)
        # Fresh: page views write nothing.
        for _ in range(3):
            assert phone.get("/account").status_code == 200
        assert _last_seen(seeder, phone_id) == made
        # Ten minutes old: the next page view notes it (after its answer), once.
        seeder.execute("UPDATE sessions SET last_seen_at = last_seen_at - 600, ip = NULL"
                       " WHERE id = :id", id=int(phone_id))
        # The hot OAuth endpoints never read browser sessions, so they never note one.
        phone.get("/.well-known/openid-configuration")
        phone.post("/oauth/token", data={"grant_type": "client_credentials"})
        assert _last_seen(seeder, phone_id) == made - 600
        phone.get("/")
        noted = wait_until(lambda: (v := _last_seen(seeder, phone_id)) != made - 600 and v,
                           "the phone's session to be noted as seen")
        assert isinstance(noted, int) and noted >= made
        assert seeder.scalar("SELECT ip FROM sessions WHERE id = :id",
                             id=int(phone_id)) == "127.0.0.1"
        seeder.execute("UPDATE sessions SET last_seen_at = :t WHERE id = :id",
                       t=noted - 1, id=int(phone_id))
        phone.get("/account")
        phone.get("/")
        assert _last_seen(seeder, phone_id) == noted - 1  # within the interval: no write


# --- /account/security ---------------------------------------------------------------------------

def test_the_timeline_tells_events_in_plain_words_with_application_names(
        server: LiveServer, seeder: Seeder) -> None:
    account = seeder.user("timeline")
    with httpx.Client(base_url=server.url, timeout=20) as attacker:
        for _ in range(3):
            attacker.post("/signin", data={**hidden_fields(attacker.get("/signin").text),
                                           "login": account.username, "password": "wrong!"})
    developer = seeder.user("dev")
    app = seeder.app(developer, name="Demo Mapper")
    gone = seeder.app(developer, name="Short Lived")
    tokens_for(server.url, account, app)
    tokens_for(server.url, account, gone)
    seeder.execute("DELETE FROM clients WHERE client_id = :c", c=gone.client_id)
    with browser(server, account) as client:
        page = client.get("/account/security").text
    # Application names are isolated (<bdi>): a right-to-left name cannot reorder the sentence.
    assert "You allowed <bdi>Demo Mapper</bdi>." in page
    page = page.replace("<bdi>", "").replace("</bdi>", "")
    assert "You allowed Demo Mapper." in page
    assert "Demo Mapper got access to your account." in page
    assert "You allowed an application that has since been deleted." in page
    assert "Someone failed to sign in to your account 3 times." in page
    assert "You signed in." in page
    assert app.client_id not in page and gone.client_id not in page
    assert "Times are in UTC." in page and "data-times-note" in page
    assert '<script src="/static/localtime.js" defer></script>' in page


def test_the_timeline_is_paged_newest_first(server: LiveServer, seeder: Seeder) -> None:
    account = seeder.user("pages")
    # 60 sign-ins and one password change: two pages of 50.
    seeder.execute(
        "INSERT INTO security_events (at, kind, user_id, client_id, ip, detail) "
        "SELECT 1700000000 + n, 'signin.success', :uid, NULL, NULL, '{}' FROM ("
        + " UNION ALL ".join(f"SELECT {n} AS n" for n in range(60)) + ") AS numbers",
        uid=account.id)
    seeder.execute("INSERT INTO security_events (at, kind, user_id, client_id, ip, detail) "
                   "VALUES (1800000000, 'password.changed', :uid, NULL, NULL, '{}')",
                   uid=account.id)
    with httpx.Client(base_url=server.url, timeout=20) as client:
        # Signing in adds one more (newest): 62 events.
        assert sign_in(client, account).status_code == 303
        first = client.get("/account/security").text
        whats = re.findall(r'<span class="what">([^<]*)</span>', first)
        assert len(whats) == 50
        assert whats[:2] == ["You signed in.", "You changed your password."]
        older = re.search(r'<a href="(/account/security\?before=\d+)">Older events</a>', first)
        assert older is not None
        second = client.get(older.group(1)).text
        assert len(re.findall(r'<span class="what">', second)) == 12
        assert "Older events" not in second and "Back to the newest" in second
        assert client.get("/account/security?before=nonsense").status_code == 200


# --- errors tied to their fields -----------------------------------------------------------------

def _field(page: str, pattern: str) -> str:
    found = re.search(pattern, page)
    assert found is not None, pattern
    return found.group(0)


def _tied(field: str, error_id: str) -> bool:
    return 'aria-invalid="true"' in field and f'aria-describedby="{error_id}"' in field


def test_form_errors_are_tied_to_their_fields(server: LiveServer, seeder: Seeder) -> None:
    with httpx.Client(base_url=server.url, timeout=20) as client:
        fields = hidden_fields(client.get("/signup").text)
        page = client.post("/signup", data={**fields, "username": "fine_name",
                                            "email": "not an address", "password": "long enough"})
        assert page.status_code == 400 and 'id="signup-error" role="alert"' in page.text
        assert _tied(_field(page.text, r'<input name="email"[^>]*>'), "signup-error")
        assert not _tied(_field(page.text, r'<input name="username"[^>]*>'), "signup-error")
        assert not _tied(_field(page.text, r'<input name="password"[^>]*>'), "signup-error")
        page = client.post("/signup", data={**fields, "username": "fine_name",
                                            "email": "a@example.org", "password": "short"})
        assert _tied(_field(page.text, r'<input name="password"[^>]*>'), "signup-error")
        page = client.post("/signin", data={**hidden_fields(client.get("/signin").text),
                                            "login": "nobody", "password": "wrong"})
        assert page.status_code == 401
        assert _tied(_field(page.text, r'<input name="login"[^>]*>'), "signin-error")
        assert _tied(_field(page.text, r'<input name="password"[^>]*>'), "signin-error")
    account = seeder.user("fields")
    app = seeder.app(account, by_operator=False)
    with browser(server, account) as client:
        form = hidden_fields(client.get(f"/applications/{app.client_id}").text)
        page = client.post(f"/applications/{app.client_id}", data={
            **form, "name": "Fine", "redirect_uris": "http://example.com/plain"})
        assert page.status_code == 400
        assert _tied(_field(page.text, r'<textarea id="redirect_uris"[^>]*>'), "error-redirect_uris")
        assert 'id="error-redirect_uris"' in page.text
        assert not _tied(_field(page.text, r'<input id="name"[^>]*>'), "error-name")
        page = client.post("/applications/new", data={**form, "name": "x" * 101})
        assert _tied(_field(page.text, r'<input id="name"[^>]*>'), "error-name")
        assert 'id="error-name"' in page.text
        page = client.post("/account/password", data={
            **form, "current_password": account.password, "new_password": "short"})
        assert page.status_code == 400
        assert _tied(_field(page.text, r'<input name="new_password"[^>]*>'), "password-error")
        assert not _tied(_field(page.text, r'<input name="current_password"[^>]*>'),
                         "password-error")
