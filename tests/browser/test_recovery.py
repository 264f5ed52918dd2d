"""Password recovery and e-mail pages in Chromium: forgot → the mail in the outbox folder →
reset → sign in with the new password; and every new page, in the states a person meets it,
with no serious or critical axe-core violation and no sideways scrolling at 1280 and 390 px
(screenshots in the test's folder)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.conftest import BrowserSeeder, _off_loop
from tests.browser.helpers import axe_violations, fill_sign_in, fill_sign_up, sign_in
from tests.support.mailbox import link_in, mail_to
from tests.support.seed import Account, Seeder
from tests.support.server import LiveServer, start_server

RESET_SUBJECT = "Reset your Openplate password"
VERIFY_SUBJECT = "Confirm your e-mail address for Openplate"
NEW_PASSWORD = "a new and long passphrase"


def test_forgot_then_reset_then_sign_in(page: Page, seed: BrowserSeeder, server: LiveServer) -> None:
    account = seed.user("forgot")
    page.goto("/signin")
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page.get_by_role("heading", name="Forgot your password?")).to_be_visible()
    page.get_by_label("Username or e-mail").fill(account.email)
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()
    path = link_in(mail_to(server, account.email, subject=RESET_SUBJECT)[-1])
    page.goto(path)
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    expect(page.locator("main")).to_contain_text(account.username)
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set the new password").click()
    expect(page.get_by_role("heading", name="Your password is changed")).to_be_visible()
    page.get_by_role("link", name="Sign in with your new password").click()
    fill_sign_in(page, account.username, NEW_PASSWORD)
    expect(page.locator("header .who")).to_have_text(f"Signed in as {account.username}")


@pytest.mark.parametrize("width", [1280, 390])
def test_new_pages_pass_axe_and_fit_the_width(
    open_context: Callable[..., BrowserContext], seed: BrowserSeeder, server: LiveServer,
    width: int, tmp_path: Path,
) -> None:
    context = open_context(viewport={"width": width, "height": 900}, bypass_csp=True)
    page = context.new_page()
    checked: dict[str, int] = {}

    def check(what: str) -> None:
        expect(page.locator("main")).to_be_visible()
        violations = axe_violations(page)
        assert violations == [], what
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{what}: {overflow}px wider than the {width}px window"
        page.screenshot(path=str(tmp_path / f"{what.replace(' ', '-')}-{width}.png"),
                        full_page=True)
        checked[what] = len(violations)

    long_name = f"a{time.time_ns() % 10**9}" + "x" * 28
    account = seed.user(long_name[:20])
    page.goto("/password/forgot")
    check("forgot")
    page.locator("main form").evaluate("form => { form.noValidate = true; }")
    page.get_by_role("button", name="Send the link").click()
    expect(page.locator("#login-error")).to_be_visible()
    expect(page.get_by_label("Username or e-mail")).to_have_attribute("aria-invalid", "true")
    check("forgot with an error")
    page.get_by_label("Username or e-mail").fill(account.username)
    page.get_by_role("button", name="Send the link").click()
    check("forgot sent")
    path = link_in(mail_to(server, account.email, subject=RESET_SUBJECT)[-1])
    page.goto(path)
    check("reset")
    page.get_by_label("New password").fill("short")
    page.get_by_role("button", name="Set the new password").click()
    expect(page.locator("#password-error")).to_be_visible()
    check("reset with an error")
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set the new password").click()
    check("reset done")
    page.goto(path)
    check("link no longer works")

    signed = Account(account.id, account.username, account.email, NEW_PASSWORD)
    sign_in(page, signed)
    page.goto("/account/email")
    check("e-mail settings")
    page.get_by_label("New e-mail address").fill("not an address")
    page.get_by_label("Current password").fill(NEW_PASSWORD)
    page.locator("main form").last.evaluate("form => { form.noValidate = true; }")
    page.get_by_role("button", name="Change my address").click()
    expect(page.locator("#email-error")).to_be_visible()
    check("e-mail settings with an error")
    new_email = f"n{time.time_ns()}-{'y' * 40}@example.net"
    page.get_by_label("New e-mail address").fill(new_email)
    page.get_by_label("Current password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change my address").click()
    expect(page.get_by_role("status")).to_contain_text(new_email)
    check("e-mail settings, change asked")
    page.goto(link_in(mail_to(server, new_email, subject=VERIFY_SUBJECT)[-1]))
    check("confirm address")
    page.get_by_role("button", name="Confirm my address").click()
    expect(page.get_by_role("status")).to_contain_text("verified")
    check("e-mail settings, verified")
    page.goto("/account/email/verified")
    check("address confirmed")
    print(f"axe serious/critical counts at {width}px: {checked}; screenshots in {tmp_path}")


@pytest.fixture(scope="module")
def strict_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = start_server(tmp_path_factory.mktemp("strict-browser"),
                        extra_env={"OPENPLATE_REQUIRE_VERIFIED_EMAIL": "true"})
    yield live
    live.stop()


@pytest.mark.parametrize("width", [1280, 390])
def test_the_verify_first_page_passes_axe_and_leads_on(
    browser: Browser, strict_server: LiveServer, width: int, tmp_path: Path,
) -> None:
    """With OPENPLATE_REQUIRE_VERIFIED_EMAIL, a new account is asked to verify before the app:
    the page passes axe-core and fits the width; after the mailed link, Continue reaches consent."""
    seeder = Seeder(strict_server)
    app = _off_loop(seeder.app, _off_loop(seeder.user, "owner"), name="Careful Mapper")
    context = browser.new_context(base_url=strict_server.url, bypass_csp=True,
                                  viewport={"width": width, "height": 900})
    try:
        page = context.new_page()
        query = urlencode({"client_id": app.client_id, "response_type": "code",
                           "redirect_uri": app.redirect_uris[0], "state": "s"})
        page.goto(f"/oauth/auth?{query}")
        page.locator("main").get_by_role("link", name="Sign up").click()
        name = f"careful{time.time_ns() % 10**9}"
        fill_sign_up(page, name, f"{name}@example.org", NEW_PASSWORD)
        expect(page.get_by_role("heading", name="Verify your e-mail address")).to_be_visible()
        expect(page.locator("main")).to_contain_text("Careful Mapper")
        assert axe_violations(page) == []
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{overflow}px wider than the {width}px window"
        page.screenshot(path=str(tmp_path / f"verify-first-{width}.png"), full_page=True)
        resume = page.get_by_role("link", name="Continue").get_attribute("href")
        assert resume is not None and resume.startswith("/oauth/auth/resume?")
        page.get_by_role("button", name="Send the link again").click()
        expect(page.get_by_role("status")).to_contain_text("We sent a new link")
        [*_, newest] = mail_to(strict_server, f"{name}@example.org", subject=VERIFY_SUBJECT,
                               count=2)
        page.goto(link_in(newest))
        page.get_by_role("button", name="Confirm my address").click()
        expect(page.get_by_role("status")).to_contain_text("verified")
        page.goto(resume)
        expect(page.get_by_role("button", name="Allow")).to_be_visible()
        print(f"verify-first page at {width}px: 0 serious/critical; screenshot in {tmp_path}")
    finally:
        context.close()
