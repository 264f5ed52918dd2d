"""The consent page (/oauth/auth) in a real browser: sign-in on the way, Allow, Deny, errors."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from playwright.sync_api import Page, Request, Route, expect

from openplate.oauth.scopes import DEFAULT_SCOPES, SCOPES
from tests.browser.conftest import BrowserSeeder, Member
from tests.browser.helpers import REDIRECT, at_path, fill_sign_in, fill_sign_up
from tests.support.seed import App
from tests.support.server import LiveServer

pytestmark = pytest.mark.browser

CONSENT_SCREENSHOT = "/tmp/openplate-consent.png"  # noqa: S108 - a fixed path for a human
NOT_REGISTERED = "The redirect_uri is not registered for this application."
CALLBACK_PAGE = "<!doctype html><title>Callback</title><p id=callback>Back at the app</p>"


def _auth_path(app: App, **extra: str) -> str:
    params = {"client_id": app.client_id, "redirect_uri": REDIRECT,
              "response_type": "code", "state": "s1", **extra}
    return "/oauth/auth?" + urlencode(params)


def _catch_callback(page: Page) -> None:
    """Nobody listens on the redirect URI: answer it inside the browser with a tiny page."""
    def fulfil(route: Route) -> None:
        route.fulfill(status=200, content_type="text/html", body=CALLBACK_PAGE)

    page.route("http://localhost:13524/**", fulfil)


def _query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def test_sign_in_then_consent_then_allow(
    page: Page, seed: BrowserSeeder, server: LiveServer
) -> None:
    user = seed.user("alice")
    app = seed.app(redirect_uris=(REDIRECT,), name=f"Mind Mapper {time.time_ns() % 10**9}")
    _catch_callback(page)

    page.goto(_auth_path(app))
    expect(page).to_have_url(at_path("/signin"))
    # The request waits server-side; the URL only names it (nothing in it decides anything).
    assert _query(page.url)["next"][0].startswith("/oauth/auth/resume?request=")
    expect(page.locator("main p").first).to_have_text(f"Sign in to continue to {app.name}.")
    with page.expect_response(lambda r: "/oauth/auth/resume?" in r.url) as consent:
        fill_sign_in(page, user.username, user.password)
    assert consent.value.status == 200

    headers = consent.value.headers
    assert headers["x-frame-options"] == "DENY"
    csp = [part.strip() for part in headers["content-security-policy"].split(";")]
    assert "frame-ancestors 'none'" in csp
    assert headers["cache-control"] == "no-store"

    expect(page.locator("header .who")).to_have_text(f"Signed in as {user.username}")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"{app.name} wants to use your Openplate account"
    )
    expect(page.locator(".consent .app-name")).to_have_text(app.name)
    expect(page.locator(".consent .redirect-host")).to_have_text("localhost:13524")
    expect(page.locator(".consent .scopes li")).to_have_text(
        [f"{scope}: {SCOPES[scope]}" for scope in DEFAULT_SCOPES]
    )
    for words in SCOPES.values():
        assert len(words.split()) >= 4, "scopes are explained in words, not just named"
    expect(page.get_by_role("button", name="Allow")).to_be_visible()
    expect(page.get_by_role("button", name="Deny")).to_be_visible()
    page.screenshot(path=CONSENT_SCREENSHOT, full_page=True)

    with page.expect_request(lambda r: r.url.startswith(REDIRECT)) as callback:
        page.get_by_role("button", name="Allow").click()
    expect(page.locator("#callback")).to_have_text("Back at the app")
    assert page.url == callback.value.url
    query = _query(page.url)
    assert page.url.startswith(REDIRECT + "?")
    assert query["state"] == ["s1"]
    assert query["code"][0].startswith("opac_")
    assert "error" not in query

    # The code in the browser's address bar is a real one: the application can trade it.
    token = httpx.post(server.url + "/oauth/token", timeout=20, data={
        "grant_type": "authorization_code", "code": query["code"][0], "redirect_uri": REDIRECT,
        "client_id": app.client_id, "client_secret": app.client_secret,
    })
    assert token.status_code == 200, token.text
    assert token.json()["access_token"].startswith("opat_")


def test_a_new_person_signs_up_on_the_way_to_consent(page: Page, seed: BrowserSeeder) -> None:
    app = seed.app(redirect_uris=(REDIRECT,), name=f"Planner {time.time_ns() % 10**9}")
    _catch_callback(page)
    page.goto(_auth_path(app))
    expect(page).to_have_url(at_path("/signin"))

    page.locator("main").get_by_role("link", name="Sign up").click()
    expect(page).to_have_url(at_path("/signup"))
    assert _query(page.url)["next"][0].startswith("/oauth/auth/resume?request=")
    username = f"arrival{time.time_ns() % 10**10}"
    fill_sign_up(page, username, f"{username}@example.org", "a long enough password")

    expect(page.locator("header .who")).to_have_text(f"Signed in as {username}")
    expect(page.locator(".consent .app-name")).to_have_text(app.name)
    page.get_by_role("button", name="Allow").click()
    expect(page.locator("#callback")).to_be_visible()
    query = _query(page.url)
    assert query["state"] == ["s1"] and query["code"][0].startswith("opac_")


def test_deny_sends_access_denied_with_state(member_page: Page, seed: BrowserSeeder) -> None:
    page = member_page
    app = seed.app(redirect_uris=(REDIRECT,))
    _catch_callback(page)

    page.goto(_auth_path(app, scope="account"))
    expect(page.locator(".consent .scopes li")).to_have_text([f"account: {SCOPES['account']}"])
    page.get_by_role("button", name="Deny").click()
    expect(page.locator("#callback")).to_be_visible()
    assert page.url.startswith(REDIRECT + "?")
    query = _query(page.url)
    assert query["error"] == ["access_denied"]
    assert query["state"] == ["s1"]
    assert "code" not in query


def test_html_in_the_application_name_is_shown_as_text(
    member_page: Page, member: Member, seed: BrowserSeeder
) -> None:
    page = member_page
    name = "<script>alert(1)</script><b>Bold</b> & co"
    app = seed.app(member.account, redirect_uris=(REDIRECT,), name=name)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    page.goto(_auth_path(app))
    expect(page.locator(".consent .app-name")).to_have_text(name)
    expect(page.get_by_text("<script>alert(1)</script>", exact=False)).to_be_visible()
    expect(page.locator(".consent .app-name script, .consent .app-name b")).to_have_count(0)
    assert page.title() == f"Authorise {name} · Openplate"

    # The developer's own pages escape it as well.
    page.goto("/applications")
    row = page.locator("table.apps tbody tr", has_text=app.client_id)
    expect(row.get_by_role("link")).to_have_text(name)
    page.goto(f"/applications/{app.client_id}")
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    expect(page.get_by_label("Client Name")).to_have_value(name)
    expect(page.locator("main script, main b")).to_have_count(0)
    assert dialogs == []


@pytest.mark.parametrize(
    ("case", "message", "code"),
    [
        pytest.param("unknown client_id", "No application is registered with this client_id.",
                     "invalid_client", id="unknown-client"),
        pytest.param("unregistered host", NOT_REGISTERED, "invalid_request", id="other-host"),
        pytest.param("unregistered path", NOT_REGISTERED, "invalid_request", id="other-path"),
    ],
)
def test_bad_client_or_redirect_uri_stays_on_an_error_page(
    member_page: Page, seed: BrowserSeeder, server: LiveServer,
    case: str, message: str, code: str,
) -> None:
    page, context = member_page, member_page.context  # signed in: a good request gets consent
    app = seed.app(redirect_uris=(REDIRECT,))
    elsewhere: list[str] = []

    def record(request: Request) -> None:
        if not request.url.startswith(server.url + "/"):
            elsewhere.append(request.url)

    context.on("request", record)
    # Anything that tries to leave the server is recorded above and goes nowhere.
    context.route(lambda url: not url.startswith(server.url + "/"), lambda route: route.abort())

    params = {"client_id": app.client_id, "redirect_uri": REDIRECT, "response_type": "code",
              "state": "s1"}
    if case == "unknown client_id":
        params["client_id"] = "opc_no-such-client"
    elif case == "unregistered host":
        params["redirect_uri"] = "https://evil.example/cb"
    else:
        params["redirect_uri"] = REDIRECT + "elsewhere"
    response = page.goto("/oauth/auth?" + urlencode(params))
    assert response is not None and response.status == 400
    expect(page.get_by_role("heading", level=1)).to_have_text("Invalid authorisation request")
    expect(page.get_by_role("alert")).to_have_text(message)
    expect(page.locator("main code")).to_have_text(code)
    expect(page.get_by_role("button", name="Allow")).to_have_count(0)
    page.wait_for_load_state("networkidle")
    assert page.url.startswith(server.url + "/oauth/auth?")
    assert elsewhere == []
