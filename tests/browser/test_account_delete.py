"""``/account/delete`` in Chromium, at 1280 and 390 px: reached from the account pages, it lists
what goes (however long the names), ties a wrong password to its field, and deletes the account,
signing the browser out with a notice on the home page. No JavaScript is needed for any of it
(the page has none); axe-core finds no serious or critical violation in any state."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.conftest import BrowserSeeder
from tests.browser.helpers import access_token, at_path, session_cookie, sign_in
from tests.browser.test_forms import WIDTHS, _serious_violations
from tests.support.mindmaps import make_xmind_json
from tests.support.server import LiveServer

LONG_APP = "Long name " + "Mindmapper" * 9
LONG_MAP = "A map title with a very long word " + "Brainstorming" * 12
#: A folder for screenshots of each state, for a person to look at (nothing compares them);
#: none are taken unless it is set.
SHOTS = os.environ.get("OPENPLATE_TEST_SCREENSHOTS")


def _shot(page: Page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("width", WIDTHS)
def test_deleting_an_account_in_the_browser(
    open_context: Callable[..., BrowserContext], seed: BrowserSeeder, server: LiveServer,
    width: int,
) -> None:
    account = seed.user("leaver")
    seed.app(account, name=LONG_APP)
    token = access_token(server.url, account, seed.app())
    shared = httpx.post(server.url + "/maps", timeout=20,
                        headers={"Authorization": f"Bearer {token}"},
                        data={"title": LONG_MAP, "description": ""},
                        files={"map": ("m.xmind", make_xmind_json("m", ["a"]))})
    assert shared.status_code == 201, shared.text

    # axe is injected as an inline script, which the pages' CSP forbids: this context bypasses it.
    context = open_context(viewport={"width": width, "height": 900}, bypass_csp=True)
    page = context.new_page()

    def check(what: str) -> None:
        expect(page.locator("main")).to_be_visible()
        assert _serious_violations(page) == [], what
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{what}: {overflow}px wider than the {width}px window"
        _shot(page, f"account-delete-{what.replace(' ', '-')}-{width}")

    sign_in(page, account)
    page.goto("/account/apps")
    page.get_by_role("navigation", name="Account").get_by_role("link", name="Delete account").click()
    expect(page).to_have_url(at_path("/account/delete"))
    listed = page.locator("ul.deletion")
    expect(listed).to_contain_text(LONG_APP)
    expect(listed).to_contain_text(LONG_MAP)
    expect(listed).to_contain_text("the 1 application you have allowed")
    check("page")

    password = page.get_by_label("Your password")
    password.fill("not my password")
    page.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_role("alert")).to_have_text("That password is not right. Nothing was deleted.")
    expect(page.get_by_label("Your password")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Your password")).to_have_accessible_description(
        "That password is not right. Nothing was deleted.")
    check("wrong password")

    page.get_by_label("Your password").fill(account.password)
    page.get_by_role("button", name="Delete my account").click()
    expect(page).to_have_url(at_path("/"))
    expect(page.get_by_role("status")).to_contain_text("Your account was deleted")
    expect(page.locator("header .who")).to_have_count(0)
    check("deleted")
    assert session_cookie(context) is not None  # a signed-out one, which carried the notice
    page.goto("/account/delete")
    expect(page).to_have_url(at_path("/signin"))
    assert httpx.get(server.url + "/users/me", headers={"Authorization": f"Bearer {token}"},
                     timeout=20).status_code == 401
