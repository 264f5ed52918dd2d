"""Password recovery and e-mail pages in Chromium: forgot → the mail in the outbox folder →
reset → sign in with the new password; and every new page, in the states a person meets it,
with no serious or critical axe-core violation and no sideways scrolling at 1280 and 390 px
(screenshots in the test's folder)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.conftest import BrowserSeeder
from tests.browser.helpers import axe_violations, fill_sign_in, sign_in
from tests.support.mailbox import link_in, mail_to
from tests.support.seed import Account
from tests.support.server import LiveServer

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
