"""Sign-up, sign-in and sign-out pages in a real browser, and the session cookie they set."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.conftest import BrowserSeeder
from tests.browser.helpers import (
    COOKIE,
    FORM_COOKIE,
    at_path,
    fill_sign_in,
    fill_sign_up,
    form_cookie,
    replayable,
    session_cookie,
    sign_in,
    sign_out,
)
from tests.support.seed import PASSWORD, Account
from tests.support.server import LiveServer

pytestmark = pytest.mark.browser

WRONG = "Wrong username, e-mail or password."


def _new_name(prefix: str) -> str:
    return f"{prefix}{time.time_ns() % 10**12}"


def _sign_in_fails(page: Page, login: str, password: str) -> None:
    page.goto("/signin")
    fill_sign_in(page, login, password)
    expect(page.get_by_role("alert")).to_have_text(WRONG)
    expect(page.locator("header .who")).to_have_count(0)


def test_sign_up_creates_account_and_signs_in(page: Page, server: LiveServer) -> None:
    username = _new_name("newbie")
    email = f"{username}@example.org"
    page.goto("/signup")
    expect(page.get_by_role("heading", level=1)).to_have_text("Create your account")
    fill_sign_up(page, username, email, "a long enough password")

    expect(page.locator("header .who")).to_have_text(f"Signed in as {username}")
    expect(page).to_have_url(server.url + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text("The mind-map library")

    # The account really exists with that password: sign out, then sign in with the e-mail.
    sign_out(page)
    page.goto("/signin")
    fill_sign_in(page, email, "a long enough password")
    expect(page.locator("header .who")).to_have_text(f"Signed in as {username}")


def test_short_password_is_refused_by_browser_and_server(page: Page) -> None:
    username = _new_name("shorty")
    email = f"{username}@example.org"
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    page.goto("/signup")

    # The form's own constraint (minlength=8) stops the browser from sending it at all.
    fill_sign_up(page, username, email, "short")
    password = page.locator("input[name=password]")
    assert password.evaluate("el => el.validity.tooShort") is True
    expect(page).to_have_url(at_path("/signup"))

    # Without the browser's help the server refuses it too, and says why.
    page.locator("form.card").evaluate("form => { form.noValidate = true; }")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="Sign up", exact=True).click()
    assert answer.value.status == 400
    expect(page.get_by_role("alert")).to_have_text("A password needs at least 8 characters.")
    expect(page.get_by_label("Username")).to_have_value(username)
    expect(page.get_by_label("E-mail")).to_have_value(email)
    expect(page.get_by_label("Password")).to_have_value("")
    expect(page.locator("header .who")).to_have_count(0)
    assert len(posts) == 1, "only the submission without the browser's check was sent"

    _sign_in_fails(page, username, "short")
    _sign_in_fails(page, email, "short")


@pytest.mark.parametrize("taken", ["username", "email"])
def test_taken_username_or_email_is_refused(
    page: Page, seed: BrowserSeeder, taken: str
) -> None:
    existing = seed.user("taken")
    fresh = _new_name("fresh")
    username = existing.username if taken == "username" else fresh
    email = existing.email if taken == "email" else f"{fresh}@example.org"
    new_password = "another long password"  # noqa: S105 - a test account's password

    page.goto("/signup")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        fill_sign_up(page, username, email, new_password)
    assert answer.value.status == 409
    what = "username" if taken == "username" else "e-mail address"
    expect(page.get_by_role("alert")).to_have_text(f"That {what} is already taken.")
    expect(page.locator("header .who")).to_have_count(0)

    # Nothing was created and the existing account was not touched.
    _sign_in_fails(page, fresh if taken == "email" else f"{fresh}@example.org", new_password)
    _sign_in_fails(page, existing.username, new_password)
    sign_in(page, existing)


@pytest.mark.parametrize("by", ["username", "email"])
def test_sign_in_sets_a_fresh_httponly_lax_cookie(
    page: Page, context: BrowserContext, seed: BrowserSeeder, server: LiveServer, by: str
) -> None:
    account = seed.user("signin")
    page.goto("/signin")
    assert session_cookie(context) is None, "looking at the sign-in page opens no session"
    form = form_cookie(context)
    assert form is not None, "the sign-in form's CSRF token is bound to a form cookie"
    assert form["httpOnly"] is True and form["sameSite"] == "Lax" and form["path"] == "/"
    # A session id planted before sign-in is never promoted (no session fixation).
    planted = "opss_" + "0" * 14 + "a" * 43
    context.add_cookies([{"name": COOKIE, "value": planted, "url": server.url}])

    fill_sign_in(page, account.username if by == "username" else account.email, account.password)
    expect(page.locator("header .who")).to_have_text(f"Signed in as {account.username}")

    cookie = session_cookie(context)
    assert cookie is not None
    assert cookie["value"] != planted, "sign-in must mint its own session id"
    assert cookie["value"].startswith("opss_")
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"
    assert cookie["path"] == "/"
    seen_by_scripts = page.evaluate("document.cookie")
    assert COOKIE not in seen_by_scripts and FORM_COOKIE not in seen_by_scripts

    # The planted id is worthless.
    context.clear_cookies()
    context.add_cookies([{"name": COOKIE, "value": planted, "url": server.url}])
    page.goto("/applications")
    expect(page).to_have_url(at_path("/signin"))


def test_wrong_password_shows_an_error(page: Page, seed: BrowserSeeder) -> None:
    account = seed.user("wrongpw")
    page.goto("/signin")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        fill_sign_in(page, account.username, "not " + PASSWORD)
    assert answer.value.status == 401
    expect(page.get_by_role("alert")).to_have_text(WRONG)
    expect(page.get_by_label("Username or e-mail")).to_have_value(account.username)
    expect(page.get_by_label("Password")).to_have_value("")
    expect(page.locator("header .who")).to_have_count(0)

    # An unknown login gets the very same message (no account enumeration).
    _sign_in_fails(page, "nobody-" + account.username, PASSWORD)


def test_sign_out_ends_the_session(
    page: Page, context: BrowserContext, browser: Browser, server: LiveServer,
    seed: BrowserSeeder,
) -> None:
    account: Account = seed.user("signout")

    # Signed out, /applications sends you to sign in, and back there afterwards.
    page.goto("/applications")
    expect(page).to_have_url(at_path("/signin"))
    assert "next=%2Fapplications" in page.url
    fill_sign_in(page, account.username, account.password)
    expect(page).to_have_url(server.url + "/applications")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your applications")
    signed_in = session_cookie(context)
    assert signed_in is not None

    sign_out(page)
    expect(page).to_have_url(server.url + "/")
    assert session_cookie(context) is None, "sign-out deletes the cookie"
    page.goto("/applications")
    expect(page).to_have_url(at_path("/signin"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")

    # A copy of the signed-in cookie is worthless after sign-out.
    other = browser.new_context(base_url=server.url)
    try:
        other.add_cookies([replayable(signed_in)])
        stolen = other.new_page()
        stolen.goto("/applications")
        expect(stolen).to_have_url(at_path("/signin"))
        expect(stolen.locator("header .who")).to_have_count(0)
    finally:
        other.close()
