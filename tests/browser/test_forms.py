"""The site's forms in a real browser: a reload never repeats a post, destructive actions ask
first (without JavaScript too) and every action says what happened, the password page does what
it says, sign-in and sign-up check CSRF without a session; and every such page passes axe-core and
fits a phone's width."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, Route, expect

from tests.browser.conftest import BrowserSeeder, Member
from tests.browser.helpers import (
    REDIRECT,
    at_path,
    fill_sign_in,
    fill_sign_up,
    secret_accepted,
    session_cookie,
    sign_in,
)
from tests.support.seed import Account, App
from tests.support.server import LiveServer
from tests.support.tokens import me

pytestmark = pytest.mark.browser

AXE = Path(__file__).with_name("axe") / "node_modules" / "axe-core" / "axe.min.js"
EXPIRED = "Your form expired. Go back, reload the page and try again."
WIDTHS = [1280, 390]


def _unique(prefix: str) -> str:
    return f"{prefix} {time.time_ns() % 10**10}"


def _auth_path(app: App) -> str:
    return "/oauth/auth?" + urlencode({"client_id": app.client_id, "redirect_uri": REDIRECT,
                                       "response_type": "code", "state": "s"})


def _catch_callback(page: Page) -> None:
    """Nobody listens on the redirect URI: answer it inside the browser."""
    def fulfil(route: Route) -> None:
        route.fulfill(status=200, content_type="text/html",
                      body="<!doctype html><title>Callback</title><p id=callback>Back</p>")

    page.route(REDIRECT + "**", fulfil)


def _allow(page: Page, server: LiveServer, app: App) -> str:
    """On the consent page: Allow, and trade the code; the access token."""
    with page.expect_request(lambda r: r.url.startswith(REDIRECT)) as callback:
        page.get_by_role("button", name="Allow").click()
    expect(page.locator("#callback")).to_have_text("Back")  # the navigation has ended
    code = parse_qs(urlsplit(callback.value.url).query)["code"][0]
    answer = httpx.post(server.url + "/oauth/token", timeout=20, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
        "client_id": app.client_id, "client_secret": app.client_secret or ""})
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["access_token"]
    return token


def _authorise(page: Page, server: LiveServer, app: App) -> str:
    """The signed-in user allows ``app`` (consent remembered); its access token."""
    _catch_callback(page)
    page.goto(_auth_path(app))
    expect(page.get_by_role("heading", level=1)).to_contain_text(app.name)
    return _allow(page, server, app)


# --- every post answers with a redirect, and says what happened ----------------------------------

def test_a_reload_after_generate_application_creates_nothing(
    page: Page, seed: BrowserSeeder, server: LiveServer
) -> None:
    sign_in(page, seed.user("dev"))
    page.goto("/applications")
    name = _unique("Reloaded")
    page.get_by_label("Client Name").fill(name)
    page.get_by_label("Homepage").fill("https://reloaded.example/")
    page.get_by_role("button", name="Generate Application").click()
    expect(page.get_by_role("status")).to_have_text("Application created. Add a redirect URI to use it.")
    client_id = page.locator("#client-id").inner_text()
    secret = page.locator("#client-secret").inner_text()
    expect(page).to_have_url(f"{server.url}/applications/{client_id}")

    # A reload, and going back to the form and forward again, post nothing.
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    expect(page.get_by_role("status")).to_have_count(0)
    expect(page.locator("#client-secret")).to_have_count(0)
    assert secret not in page.content()
    page.go_back()
    expect(page).to_have_url(server.url + "/applications")
    page.reload()
    expect(page.locator("table.apps tbody tr", has_text=name)).to_have_count(1)
    page.go_forward()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    page.goto("/applications")
    expect(page.locator("table.apps tbody tr", has_text=name)).to_have_count(1)
    assert secret_accepted(server.url, client_id, secret)


def test_saving_settings_says_saved_once(member_page: Page, seed: BrowserSeeder,
                                         member: Member) -> None:
    page = member_page
    app = seed.app(member.account, name=_unique("Saved"))
    page.goto(f"/applications/{app.client_id}")
    page.get_by_role("button", name="Update").click()
    expect(page.get_by_role("status")).to_have_text("Saved.")
    page.reload()
    expect(page.get_by_role("status")).to_have_count(0)


# --- destructive actions ask first, with or without JavaScript -----------------------------------

@pytest.fixture()
def no_script(open_context: Callable[..., BrowserContext], seed: BrowserSeeder) -> tuple[Page, Account]:
    """A page with JavaScript off, signed in as a fresh account."""
    account = seed.user("noscript")
    page = open_context(java_script_enabled=False).new_page()
    sign_in(page, account)
    return page, account


def test_delete_asks_first_and_cancel_keeps_the_application(
    no_script: tuple[Page, Account], seed: BrowserSeeder, server: LiveServer
) -> None:
    page, account = no_script
    app = seed.app(account, name=_unique("Doomed"))
    assert app.client_secret is not None
    page.goto(f"/applications/{app.client_id}")
    page.get_by_role("link", name="Delete application").click()
    expect(page).to_have_url(f"{server.url}/applications/{app.client_id}/delete")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Delete {app.name}?")
    expect(page.locator(".effects li")).to_have_text([
        "Its client ID and secret stop working at once.",
        "Every token it holds ends, and every user's permission for it is forgotten.",
        "Maps uploaded through it stay with the people who uploaded them.",
        "This cannot be undone.",
    ])
    page.get_by_role("link", name="Cancel").click()
    expect(page).to_have_url(f"{server.url}/applications/{app.client_id}")
    assert secret_accepted(server.url, app.client_id, app.client_secret)

    page.get_by_role("link", name="Delete application").click()
    page.get_by_role("button", name="Delete application").click()
    expect(page).to_have_url(server.url + "/applications")
    expect(page.get_by_role("status")).to_have_text(f"Deleted {app.name}.")
    expect(page.locator("main")).not_to_contain_text(app.client_id)
    assert not secret_accepted(server.url, app.client_id, app.client_secret)
    page.reload()
    expect(page.get_by_role("status")).to_have_count(0)


def test_rotate_asks_first_and_shows_the_new_secret_once(
    no_script: tuple[Page, Account], seed: BrowserSeeder, server: LiveServer
) -> None:
    page, account = no_script
    app = seed.app(account, name=_unique("Rotating"))
    assert app.client_secret is not None
    page.goto(f"/applications/{app.client_id}")
    page.get_by_role("link", name="Rotate secret").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Rotate the secret of {app.name}?")
    expect(page.locator(".effects li").nth(1)).to_have_text(
        "The current secret stops working at once: until the application uses the new one, "
        "it cannot get tokens.")
    page.get_by_role("link", name="Cancel").click()
    expect(page).to_have_url(f"{server.url}/applications/{app.client_id}")
    assert secret_accepted(server.url, app.client_id, app.client_secret)

    page.get_by_role("link", name="Rotate secret").click()
    page.get_by_role("button", name="Rotate secret").click()
    expect(page).to_have_url(f"{server.url}/applications/{app.client_id}")
    expect(page.get_by_role("status")).to_have_text("New secret made. The old one no longer works.")
    secret = page.locator("#client-secret").inner_text()
    assert secret_accepted(server.url, app.client_id, secret)
    assert not secret_accepted(server.url, app.client_id, app.client_secret)
    page.reload()
    expect(page.locator("#client-secret")).to_have_count(0)
    expect(page.get_by_role("status")).to_have_count(0)


def test_revoke_asks_first_and_says_what_happened(
    no_script: tuple[Page, Account], open_context: Callable[..., BrowserContext],
    seed: BrowserSeeder, server: LiveServer,
) -> None:
    page, account = no_script
    app = seed.app(redirect_uris=(REDIRECT,), name=_unique("Revocable"))
    # Allowing needs no script either, but the callback is caught in a scripted context.
    helper = open_context().new_page()
    sign_in(helper, account)
    token = _authorise(helper, server, app)
    assert me(server.url, token).status_code == 200

    page.goto("/account/apps")
    page.get_by_role("link", name=f"Revoke access for {app.name}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Revoke access for {app.name}?")
    page.get_by_role("link", name="Cancel").click()
    expect(page).to_have_url(server.url + "/account/apps")
    expect(page.locator("table.apps")).to_contain_text(app.name)
    assert me(server.url, token).status_code == 200

    page.get_by_role("link", name=f"Revoke access for {app.name}").click()
    page.get_by_role("button", name="Revoke access").click()
    expect(page).to_have_url(server.url + "/account/apps")
    expect(page.get_by_role("status")).to_have_text(f"Revoked access for {app.name}.")
    expect(page.get_by_text("You have not authorised any application.")).to_be_visible()
    assert me(server.url, token).status_code == 401


# --- the password page says what happens, and it happens ----------------------------------------

def test_password_change_does_what_the_page_says(
    page: Page, open_context: Callable[..., BrowserContext], seed: BrowserSeeder,
    server: LiveServer,
) -> None:
    account = seed.user("pw")
    app = seed.app(redirect_uris=(REDIRECT,), name=_unique("Authorised"))
    sign_in(page, account)
    token = _authorise(page, server, app)
    # Consent is remembered: asking again goes straight back to the app, no page.
    again = page.request.get(_auth_path(app), max_redirects=0)
    assert again.status == 303 and again.headers["location"].startswith(REDIRECT + "?code=")
    other = open_context().new_page()
    sign_in(other, account)

    page.goto("/account/password")
    expect(page.locator(".effects li")).to_have_text([
        "every application you have authorised loses access to your account (its tokens stop "
        "working) and must ask you again;",
        "you are signed out in every other browser;",
        "you stay signed in here.",
    ])
    new_password = "a brand new password"  # noqa: S105 - a test account's password
    page.get_by_label("Current password").fill(account.password)
    page.get_by_label("New password").fill(new_password)
    page.get_by_role("button", name="Change password").click()
    expect(page).to_have_url(server.url + "/account/password")
    expect(page.get_by_role("status")).to_have_text(
        "Password changed. Every application lost access to your account and must ask you "
        "again, and your other browsers are signed out.")

    # Every grant ended; remembered consent is forgotten; the other browser is signed out;
    # this one is still signed in.
    assert me(server.url, token).status_code == 401
    asked = page.request.get(_auth_path(app), max_redirects=0)
    assert asked.status == 200, "the consent page, not straight back to the app"
    page.goto(_auth_path(app))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"{app.name} wants to use your Openplate account")
    other.goto("/account/apps")
    expect(other).to_have_url(at_path("/signin"))
    expect(page.locator("header .who")).to_have_text(f"Signed in as {account.username}")
    page.reload()
    expect(page.get_by_role("status")).to_have_count(0)
    fill_sign_in(other, account.username, new_password)
    expect(other.locator("header .who")).to_have_text(f"Signed in as {account.username}")


# --- sign-in and sign-up: CSRF without a session --------------------------------------------------

def _submit_with_token(page: Page, token: str | None) -> None:
    """Submit the page's (first) form with its CSRF field changed (None: removed); the sign-in
    page's second form is "Sign in with a passkey"."""
    page.locator("main form").first.evaluate(
        "(form, token) => { const field = form.elements['csrf_token'];"
        " if (token === null) field.remove(); else field.value = token;"
        " form.noValidate = true; form.submit(); }", token)


@pytest.mark.parametrize("form", ["signin", "signup"])
def test_sign_in_and_up_reject_a_missing_or_wrong_csrf_token(
    page: Page, context: BrowserContext, open_context: Callable[..., BrowserContext],
    seed: BrowserSeeder, server: LiveServer, form: str,
) -> None:
    account = seed.user("csrf")
    foreign = open_context().new_page()
    foreign.goto(f"/{form}")
    foreign_token = foreign.locator("input[name=csrf_token]").first.input_value()

    def fill() -> None:
        page.goto(f"/{form}")
        if form == "signin":
            page.get_by_label("Username or e-mail").fill(account.username)
            page.get_by_label("Password").fill(account.password)
        else:
            name = f"csrf{time.time_ns() % 10**10}"
            page.get_by_label("Username").fill(name)
            page.get_by_label("E-mail").fill(f"{name}@example.org")
            page.get_by_label("Password").fill("a long enough password")

    for token in (None, "", "forged", foreign_token):
        fill()
        with page.expect_response(lambda r: r.request.method == "POST") as answer:
            _submit_with_token(page, token)
        assert answer.value.status == 403, token
        expect(page.get_by_role("alert")).to_have_text(EXPIRED)
        assert session_cookie(context) is None
    fill()
    page.get_by_role("button", name="Sign in" if form == "signin" else "Sign up",
                     exact=True).click()
    expect(page.locator("header .who")).to_contain_text("Signed in as")
    assert session_cookie(context) is not None


# --- accessibility and layout ----------------------------------------------------------------------

def _serious_violations(page: Page) -> list[dict[str, Any]]:
    if not AXE.is_file():
        pytest.fail(f"axe-core is missing ({AXE}): run `bash scripts/test.sh`, which installs it "
                    "with npm from tests/browser/axe/package-lock.json", pytrace=False)
    page.add_script_tag(path=str(AXE))
    violations: list[dict[str, Any]] = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.map(n => n.target.join(' '))}))")
    return [v for v in violations if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("width", WIDTHS)
def test_form_pages_pass_axe_and_fit_the_width(
    open_context: Callable[..., BrowserContext], seed: BrowserSeeder, server: LiveServer,
    width: int,
) -> None:
    """Each page with a form, and the header every page shares, in the states a person meets
    them (a notice, a secret shown once, an error): no serious or critical axe-core violation,
    and no sideways scrolling."""
    # The pages' CSP forbids inline scripts; axe is injected as one, so this context bypasses it.
    context = open_context(viewport={"width": width, "height": 900}, bypass_csp=True)
    page = context.new_page()
    checked: list[str] = []

    def check(what: str) -> None:
        expect(page.locator("main")).to_be_visible()
        assert _serious_violations(page) == [], what
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{what}: {overflow}px wider than the {width}px window"
        checked.append(what)

    page.goto("/")
    check("home")
    page.goto("/no/such/page")
    check("an error page")
    page.goto("/signin")
    check("sign-in")
    page.goto("/signup")
    check("sign-up")
    page.locator("main form").evaluate("form => { form.noValidate = true; }")
    fill_sign_up(page, f"axe{time.time_ns() % 10**10}", f"axe{time.time_ns()}@example.org", "x")
    expect(page.get_by_role("alert")).to_have_text("A password needs at least 8 characters.")
    check("sign-up with an error")

    account = seed.user("axe")
    sign_in(page, account)
    page.goto("/applications")
    check("applications, none yet")
    page.get_by_label("Client Name").fill(_unique("An application with a long enough name"))
    page.get_by_label("Homepage").fill("https://axe.example/")
    page.get_by_role("button", name="Generate Application").click()
    expect(page.locator("#client-secret")).to_be_visible()
    check("new application with its secret shown once")
    client_id = page.locator("#client-id").inner_text()
    page.goto("/applications")
    check("applications list")
    page.goto(f"/applications/{client_id}/rotate-secret")
    check("rotate confirmation")
    page.goto(f"/applications/{client_id}/delete")
    check("delete confirmation")
    page.goto(f"/applications/{client_id}")
    page.get_by_label("Redirect URIs").fill("http://example.com/plain-http")
    page.get_by_role("button", name="Update").click()
    expect(page.get_by_role("alert")).to_be_visible()
    check("application settings with an error")

    app = seed.app(redirect_uris=(REDIRECT,), name=_unique("Authorised app"))
    _authorise(page, server, app)
    page.goto("/account/apps")
    check("authorised applications")
    page.goto(f"/account/apps/{app.client_id}/revoke")
    check("revoke confirmation")
    page.get_by_role("button", name="Revoke access").click()
    expect(page.get_by_role("status")).to_be_visible()
    check("revoked, with its notice")
    page.goto("/account/password")
    check("password")
    page.get_by_label("Current password").fill("not the password")
    page.get_by_label("New password").fill("a new password")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("alert")).to_be_visible()
    check("password with an error")
    page.goto("/account/security")
    check("security log")
    page.goto("/")
    check("home, signed in")
    assert len(checked) == 18
