"""The account's pages in a real browser: sign out another browser from /account/sessions (it is
signed out at once), sign out all others after a confirmation, and the timeline says so."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, expect

from tests.browser.conftest import BrowserSeeder
from tests.browser.helpers import at_path, sign_in

pytestmark = pytest.mark.browser

PHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
         "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1")
DESKTOP = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"


def test_sign_out_another_browser_then_all_others(
    open_context: Callable[..., BrowserContext], seed: BrowserSeeder,
) -> None:
    account = seed.user("browsers")
    desk = open_context(user_agent=DESKTOP).new_page()
    phone = open_context(user_agent=PHONE, viewport={"width": 390, "height": 844}).new_page()
    tablet = open_context().new_page()
    for page in (desk, phone, tablet):
        sign_in(page, account)

    phone.goto("/account")
    phone.get_by_role("link", name="Signed-in browsers").first.click()
    expect(phone).to_have_url(at_path("/account/sessions"))
    current = phone.locator(".session.current")
    expect(current.get_by_role("heading")).to_have_text("Safari 17 on iPhone This browser")
    expect(phone.locator(".session")).to_have_count(3)
    # From the phone, sign out the desktop.
    desktop_card = phone.locator(".session", has_text="Firefox 133 on Windows")
    desktop_card.get_by_role("button", name="Sign out").click()
    expect(phone.get_by_role("status")).to_have_text("Signed out Firefox 133 on Windows.")
    expect(phone.locator(".session")).to_have_count(2)
    desk.goto("/account")
    expect(desk).to_have_url(at_path("/signin"))

    # All others: asks first; Cancel changes nothing.
    phone.get_by_role("link", name="Sign out all other browsers").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Sign out all your other browsers?")
    phone.get_by_role("link", name="Cancel").click()
    tablet.goto("/account")
    expect(tablet).to_have_url(at_path("/account"))
    phone.get_by_role("link", name="Sign out all other browsers").click()
    phone.get_by_role("button", name="Sign out other browsers").click()
    expect(phone.get_by_role("status")).to_have_text("Signed out 1 other browser.")
    expect(phone.get_by_text("No other browser is signed in to your account.")).to_be_visible()
    tablet.goto("/account")
    expect(tablet).to_have_url(at_path("/signin"))

    phone.get_by_role("link", name="Security timeline").first.click()
    whats = phone.locator(".timeline .what")
    expect(whats.nth(0)).to_have_text("You signed out all your other browsers (1).")
    expect(whats.nth(1)).to_have_text("You signed out another browser (Firefox 133 on Windows).")
