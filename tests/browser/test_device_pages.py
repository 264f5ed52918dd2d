"""The /device pages in Chromium (RFC 8628 §3.3): a signed-out user opens the link a device
shows, signs in, comes back with the code filled in, still has to press Continue and Allow
(§5.4), and the device then gets its tokens; Deny tells the device access_denied."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import BrowserSeeder
from tests.browser.helpers import fill_sign_in
from tests.support.device_flow import DEVICE_GRANTS, poll, poll_until_tokens, start
from tests.support.server import LiveServer

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("decision", ["Allow", "Deny"])
def test_link_sign_in_confirm_and_the_device_is_told(
    page: Page, server: LiveServer, seed: BrowserSeeder, decision: str,
) -> None:
    app = seed.app(name="Browser TV", grant_types=DEVICE_GRANTS)
    viewer = seed.user("viewer")
    started = start(server.url, app, "account")
    page.goto(started["verification_uri_complete"].removeprefix(server.url))
    expect(page).to_have_url(f"{server.url}/signin?next=%2Fdevice%3Fuser_code%3D"
                             + started["user_code"])
    fill_sign_in(page, viewer.username, viewer.password)
    code = page.get_by_label("Code from your device")
    expect(code).to_have_value(started["user_code"])
    # Nothing is decided by the link or the sign-in: the device still waits.
    assert poll(server.url, app, started["device_code"]).json()["error"] == "authorization_pending"
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Browser TV")
    expect(page.get_by_text("Made by")).to_contain_text(seed.developer.username)
    expect(page.get_by_text("See your account details")).to_be_visible()
    page.get_by_role("button", name=decision).click()
    expect(page.get_by_text("You can go back to your device")).to_be_visible()
    if decision == "Allow":
        expect(page.get_by_role("heading", level=1)).to_have_text("Device connected")
        tokens = poll_until_tokens(server.url, app, started["device_code"])
        assert tokens["scope"] == "account"
    else:
        expect(page.get_by_role("heading", level=1)).to_have_text("Device not connected")
        time.sleep(5)  # RFC 8628 §3.5: a device waits the interval (5 s) between its polls
        assert poll(server.url, app, started["device_code"]).json()["error"] == "access_denied"
    # Reloading the result page repeats nothing.
    page.reload()
    expect(page.get_by_text("You can go back to your device")).to_be_visible()


def test_a_wrong_code_is_named_on_its_field(page: Page, server: LiveServer,
                                            seed: BrowserSeeder) -> None:
    viewer = seed.user("typo")
    page.goto("/signin?next=%2Fdevice")
    fill_sign_in(page, viewer.username, viewer.password)
    field = page.get_by_label("Code from your device")
    field.fill("ZZZZ-ZZZ")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("alert")).to_contain_text("That code is not right")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_value("ZZZZ-ZZZ")
