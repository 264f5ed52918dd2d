"""OIDC RP-Initiated Logout in Chromium: the application sends the person to /oauth/logout, the
page asks "Sign out of Openplate?" naming the app, says so when the hint is someone else's,
"Stay signed in" keeps the session, "Sign out" ends it and goes back to the registered URI
with state; both pages pass axe-core."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.conftest import BrowserSeeder, _off_loop
from tests.browser.helpers import REDIRECT, sign_in
from tests.browser.test_forms import AXE
from tests.support.server import LiveServer
from tests.support.tokens import tokens_for

pytestmark = pytest.mark.browser


def _serious(page: Page) -> list[object]:
    page.add_script_tag(path=str(AXE))
    found: list[dict[str, object]] = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".map(v => ({id: v.id, impact: v.impact}))")
    return [v for v in found if v["impact"] in ("serious", "critical")]


def test_the_person_confirms_then_goes_back_to_the_app(
        open_context: Callable[..., BrowserContext], server: LiveServer,
        seed: BrowserSeeder) -> None:
    # The pages' CSP forbids inline scripts; axe is injected as one, so this context bypasses it.
    page = open_context(bypass_csp=True).new_page()
    back = server.url + "/oauth/logout/done"  # a page that exists, registered as the app's
    app = seed.app(redirect_uris=(REDIRECT,), name="Mind Mapper",
                   post_logout_redirect_uris=(back,))
    account, stranger = seed.user(), seed.user()
    hint = _off_loop(tokens_for, server.url, stranger, app, scope="openid")["id_token"]
    sign_in(page, account)
    query = {"client_id": app.client_id, "post_logout_redirect_uri": back, "state": "st-9"}
    page.goto("/oauth/logout?" + urlencode(query))
    expect(page.get_by_role("heading", name="Sign out of Openplate?")).to_be_visible()
    expect(page.locator("#logout-confirm")).to_contain_text("Mind Mapper")
    expect(page.locator("#other-account")).to_have_count(0)
    page.get_by_role("link", name="Stay signed in").click()
    expect(page.locator("header .who")).to_have_text(f"Signed in as {account.username}")

    # The hint is another account's: the page says so before anything happens.
    page.goto("/oauth/logout?" + urlencode({**query, "id_token_hint": hint}))
    expect(page.locator("#other-account")).to_contain_text(account.username)
    assert _serious(page) == []
    page.locator("#logout-confirm").get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="You are signed out")).to_be_visible()
    assert parse_qs(urlsplit(page.url).query) == {"state": ["st-9"]}
    assert _serious(page) == []
    expect(page.locator("header .who")).to_have_count(0)
    page.goto("/account")
    expect(page).to_have_url(f"{server.url}/signin?next=%2Faccount")
