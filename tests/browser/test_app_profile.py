"""An application as a developer registers it (homepage, description, privacy policy, logo) and
as a person meets it: signed out, through the sign-in page and sign-up, to a consent page that
shows who asks, then back at the app with a code. axe-core and the width at 1280 and 390 px on
every page on the way; screenshots under /tmp/appmeta/shots/ for a human to look at."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.conftest import BrowserSeeder
from tests.browser.helpers import REDIRECT, fill_sign_up, sign_in
from tests.browser.test_forms import WIDTHS, _serious_violations
from tests.support.pngs import png
from tests.support.server import LiveServer

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/appmeta/shots")  # noqa: S108 - a fixed place for a human to look
CALLBACK_PAGE = "<!doctype html><title>Callback</title><p id=callback>Back at the app</p>"
#: Long words with no place to break: the page must wrap them, not scroll sideways.
LONG_NAME = "Mapper" + "M" * 80
LONG_DESCRIPTION = ("Draws <b>maps</b> & shares them. " + "x" * 200 + " <script>alert(1)</script>")
HOMEPAGE = "https://" + "h" * 50 + ".example/start"
PRIVACY = "https://mapper.example/privacy"


def _unique(text: str) -> str:
    return f"{text}{time.time_ns() % 10**9}"


def _check(page: Page, width: int, what: str, checked: list[str]) -> None:
    expect(page.locator("main")).to_be_visible()
    assert _serious_violations(page) == [], what
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{what}: {overflow}px wider than the {width}px window"
    SHOTS.mkdir(parents=True, exist_ok=True)
    stem = what.replace(" ", "-").replace("'", "")
    page.screenshot(path=str(SHOTS / f"{stem}-{width}.png"), full_page=True)
    checked.append(what)


@pytest.mark.parametrize("width", WIDTHS)
def test_register_then_sign_up_and_allow_from_a_signed_out_browser(
    open_context: Callable[..., BrowserContext], seed: BrowserSeeder, server: LiveServer,
    width: int,
) -> None:
    checked: list[str] = []
    # axe is injected as an inline script: these contexts bypass the pages' CSP for it.
    developer = seed.user("alice")
    dev_page = open_context(viewport={"width": width, "height": 900}, bypass_csp=True).new_page()
    sign_in(dev_page, developer)
    dev_page.goto("/applications")
    name = _unique(LONG_NAME)

    # A mistake first: the error sits beside its field, which is marked and points at it.
    dev_page.get_by_label("Client Name").fill(name)
    dev_page.get_by_label("Homepage").fill("http://mapper.example/")
    dev_page.get_by_role("button", name="Generate Application").click()
    homepage = dev_page.get_by_label("Homepage")
    expect(homepage).to_have_attribute("aria-invalid", "true")
    expect(dev_page.locator("#error-homepage")).to_have_text(
        "Homepage: use https (http is allowed only for localhost).")
    assert "error-homepage" in (homepage.get_attribute("aria-describedby") or "")
    _check(dev_page, width, "registration with an error", checked)

    dev_page.get_by_label("Homepage").fill(HOMEPAGE)
    dev_page.get_by_label("Description").fill(LONG_DESCRIPTION)
    dev_page.get_by_label("Privacy policy").fill(PRIVACY)
    dev_page.get_by_label("Logo").set_input_files(
        files=[{"name": "logo.png", "mimeType": "image/png", "buffer": png(96, 96)}])
    expect(dev_page.get_by_text("512×512 pixels and 256 KiB")).to_be_visible()
    dev_page.get_by_role("button", name="Generate Application").click()
    expect(dev_page.get_by_role("status")).to_contain_text("Application created.")
    client_id = dev_page.locator("#client-id").inner_text()
    expect(dev_page.locator(".current-logo img")).to_be_visible()
    dev_page.get_by_label("Redirect URIs").fill(REDIRECT)
    dev_page.get_by_role("button", name="Update").click()
    expect(dev_page.get_by_role("status")).to_have_text("Saved.")
    _check(dev_page, width, "application page with its logo", checked)
    dev_page.get_by_role("link", name="remove it").click()
    expect(dev_page.get_by_role("heading", level=1)).to_have_text(f"Remove the logo of {name}?")
    _check(dev_page, width, "logo removal confirmation", checked)
    dev_page.get_by_role("link", name="Cancel").click()
    expect(dev_page.locator(".current-logo img")).to_be_visible()

    # A visitor with no account, in a browser of their own.
    visitor = open_context(viewport={"width": width, "height": 900}, bypass_csp=True).new_page()
    visitor.route("http://localhost:13524/**", lambda route: route.fulfill(
        status=200, content_type="text/html", body=CALLBACK_PAGE))
    query = urlencode({"client_id": client_id, "redirect_uri": REDIRECT, "response_type": "code",
                       "state": "s1", "scope": "openid profile email account maps"})
    visitor.goto(f"/oauth/auth?{query}")
    expect(visitor.locator(".signin-for")).to_have_text(f"Sign in to continue to {name}.")
    _check(visitor, width, "sign-in for an application", checked)
    visitor.locator("main").get_by_role("link", name="Sign up").click()
    expect(visitor.locator(".signin-for")).to_contain_text(f"you continue to {name}")
    _check(visitor, width, "sign-up for an application", checked)
    username = _unique("bob")
    with visitor.expect_response(lambda r: "/oauth/auth/resume?" in r.url) as consent:
        fill_sign_up(visitor, username, f"{username}@example.org", "a long enough password")
    assert consent.value.status == 200
    assert consent.value.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in consent.value.headers["content-security-policy"]

    # The consent page: logo, name, homepage host, description, privacy policy, developer.
    expect(visitor.get_by_role("heading", level=1)).to_have_text(
        f"{name} wants to use your Openplate account")
    logo = visitor.locator(".consent img.app-logo")
    expect(logo).to_be_visible()
    assert logo.evaluate("img => img.complete && img.naturalWidth") == 96
    homepage_link = visitor.locator(".consent a.app-homepage")
    expect(homepage_link).to_have_text(urlsplit(HOMEPAGE).netloc)
    expect(homepage_link).to_have_attribute("href", HOMEPAGE)
    expect(visitor.locator(".consent a.app-privacy")).to_have_attribute("href", PRIVACY)
    expect(visitor.locator(".consent .app-about")).to_have_text(LONG_DESCRIPTION)
    expect(visitor.locator(".consent .app-about b, .consent script")).to_have_count(0)
    expect(visitor.locator(".consent .made-by")).to_have_text(f"Made by {developer.username}")
    expect(visitor.locator(".consent .scopes")).to_contain_text("e-mail address")
    _check(visitor, width, "consent with the app's profile", checked)

    with visitor.expect_response(lambda r: r.url.startswith("http://localhost:13524/")) as back:
        visitor.get_by_role("button", name="Allow").click()
    got = parse_qs(urlsplit(back.value.url).query)
    assert got["state"] == ["s1"] and got["code"][0]
    expect(visitor.locator("#callback")).to_have_text("Back at the app")
    assert checked == ["registration with an error", "application page with its logo",
                       "logo removal confirmation", "sign-in for an application",
                       "sign-up for an application", "consent with the app's profile"]

