"""Two-factor sign-in and passkeys in Chromium, on a server whose public URL is
http://localhost:<port> (a secure context, and a valid WebAuthn relying-party ID; 127.0.0.1 is
not one). Passkeys are made and used by Chromium's virtual authenticator (the CDP WebAuthn
domain, through Playwright). Each new page passes axe-core at 1280 and 390 px, with no sideways
scrolling."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from playwright.sync_api import BrowserContext, CDPSession, Page, expect

from openplate.accounts import totp
from tests.browser.conftest import BrowserSeeder, _off_loop
from tests.browser.helpers import fill_sign_in, sign_in, sign_out
from tests.support import jwt_check
from tests.support.seed import Account, Seeder
from tests.support.server import LiveServer, start_server
from tests.support.two_factor import Authenticator, secret_on

AXE = Path(__file__).with_name("axe") / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = [1280, 390]
#: A folder to keep a screenshot of each page checked in (for a person to look at), if set.
SHOTS = os.environ.get("OPENPLATE_SCREENSHOTS")
MFA_ACR = "urn:openplate:acr:mfa"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = start_server(tmp_path_factory.mktemp("openplate-localhost"), localhost=True)
    try:
        yield live
    finally:
        live.stop()


def _scalar(seeder: Seeder, sql: str, **params: object) -> object:
    return _off_loop(seeder.scalar, sql, **params)


def _virtual_authenticator(context: BrowserContext, page: Page) -> tuple[CDPSession, str]:
    """A platform authenticator with resident keys and user verification, that says yes; the
    CDP session and the authenticator's id."""
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    added = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": True,
        "automaticPresenceSimulation": True}})
    return cdp, str(added["authenticatorId"])


def _serious_violations(page: Page) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(AXE))
    violations: list[dict[str, Any]] = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.map(n => n.target.join(' '))}))")
    return [v for v in violations if v["impact"] in ("serious", "critical")]


def _checker(page: Page, width: int) -> Callable[[str], None]:
    def check(what: str) -> None:
        expect(page.locator("main")).to_be_visible()
        assert _serious_violations(page) == [], what
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{what}: {overflow}px wider than the {width}px window"
        if SHOTS:
            Path(SHOTS).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(SHOTS) / f"{what.replace(' ', '-')}-{width}.png"),
                            full_page=True)
    return check


def _enrol(page: Page, check: Callable[[str], None] | None = None) -> tuple[Authenticator, list[str]]:
    page.goto("/account/two-factor")
    if check:
        check("two-factor off")
    page.get_by_role("button", name="Set up two-factor sign-in").click()
    expect(page.locator("#totp-secret")).to_be_visible()
    expect(page.locator("svg.qr")).to_be_visible()
    if check:
        check("two-factor enrolment")
    app = Authenticator(secret_on(page.content()))
    page.get_by_label("6-digit code").fill("000000" if totp.totp(app.secret, int(time.time()))
                                           != "000000" else "111111")
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.get_by_label("6-digit code")).to_have_attribute("aria-invalid", "true")
    if check:
        check("two-factor enrolment with a wrong code")
    page.get_by_label("6-digit code").fill(app.code())
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    codes = page.locator(".codes code").all_inner_texts()
    assert len(codes) == 10
    if check:
        check("two-factor recovery codes shown once")
    page.reload()
    expect(page.locator(".codes")).to_have_count(0)
    expect(page.locator("main")).to_contain_text("Recovery codes left: 10 of 10.")
    if check:
        check("two-factor on")
    return app, codes


@pytest.mark.parametrize("width", WIDTHS)
def test_totp_enrolment_and_sign_in(open_context: Callable[..., BrowserContext],
                                    seed: BrowserSeeder, seeder: Seeder, width: int) -> None:
    context = open_context(viewport={"width": width, "height": 900}, bypass_csp=True)
    page = context.new_page()
    check = _checker(page, width)
    account = seed.user("tfb")
    sign_in(page, account)
    app, codes = _enrol(page, check)
    sign_out(page)
    page.goto("/signin")
    fill_sign_in(page, account.username, account.password)
    expect(page).to_have_url("/signin/two-factor")
    expect(page.locator("header .who")).to_have_count(0)  # not signed in yet
    check("second step of sign-in")
    page.get_by_label("Code").fill(app.wrong_code())
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_label("Code")).to_have_attribute("aria-invalid", "true")
    check("second step with a wrong code")
    page.get_by_label("Code").fill(app.code())
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("header .who")).to_have_text(f"Signed in as {account.username}")
    assert _scalar(seeder, "select amr from sessions where user_id = :u order by id desc",
                   u=account.id) == "pwd otp mfa"
    # A recovery code works once, from the same field.
    sign_out(page)
    page.goto("/signin")
    fill_sign_in(page, account.username, account.password)
    page.get_by_label("Code").fill(codes[0])
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("header .who")).to_have_text(f"Signed in as {account.username}")


def _add_passkey(page: Page, name: str) -> None:
    page.goto("/account/passkeys")
    page.get_by_label("Name (such as the device it is on)").fill(name)
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.get_by_role("status")).to_contain_text(f"Passkey “{name}” added.")


@pytest.mark.parametrize("width", WIDTHS)
def test_passkeys_register_rename_sign_in_and_remove(
    open_context: Callable[..., BrowserContext], seed: BrowserSeeder, seeder: Seeder, width: int
) -> None:
    context = open_context(viewport={"width": width, "height": 900}, bypass_csp=True)
    page = context.new_page()
    cdp, authenticator = _virtual_authenticator(context, page)
    check = _checker(page, width)
    account = seed.user("pkb")
    sign_in(page, account)
    page.goto("/account/passkeys")
    check("passkeys none yet")
    page.get_by_role("button", name="Add a passkey").click()  # no name: the field says so
    expect(page.get_by_label("Name (such as the device it is on)")).to_have_attribute(
        "required", "")
    _add_passkey(page, "Laptop " + "with a rather long name that must wrap on a phone" [:40])
    check("passkeys one added")
    # One authenticator holds one passkey of an account (it is excluded from a second
    # registration); the second passkey is made on another device.
    first_device = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})
    cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": authenticator})
    cdp, authenticator = _virtual_authenticator(context, page)
    _add_passkey(page, "Second key")
    assert _scalar(seeder, "select count(*) from passkeys where user_id = :u", u=account.id) == 2
    second_device = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})
    for device in (first_device, second_device):  # discoverable: kept on the authenticator
        assert [c["isResidentCredential"] for c in device["credentials"]] == [True]
    first = page.locator(".passkeys li").first
    first.get_by_label("New name").fill("Work laptop")
    first.get_by_role("button", name="Rename").click()
    expect(page.get_by_role("status")).to_contain_text("Passkey renamed to “Work laptop”.")
    first = page.locator(".passkeys li").first
    first.get_by_label("New name").fill("")
    first.get_by_label("New name").evaluate("input => { input.form.noValidate = true; }")
    first.get_by_role("button", name="Rename").click()
    expect(page.locator(".passkeys li").first.get_by_label("New name")).to_have_attribute(
        "aria-invalid", "true")
    check("passkeys rename with an error")

    sign_out(page)
    page.goto("/signin")
    check("sign-in with the passkey button")
    page.get_by_role("button", name="Sign in with a passkey").click()
    expect(page.locator("header .who")).to_have_text(f"Signed in as {account.username}")
    amr = _scalar(seeder, "select amr from sessions where user_id = :u order by id desc",
                  u=account.id)
    assert amr in ("hwk user mfa", "swk user mfa"), amr
    assert _scalar(seeder, "select last_used_at from passkeys where name = 'Second key' and "
                   "user_id = :u", u=account.id) is not None
    assert _scalar(seeder, "select count(*) from webauthn_challenges") == 0  # used once

    page.goto("/account/passkeys")
    page.locator(".passkeys li").first.get_by_role("link", name="Remove…").click()
    check("passkey remove confirmation")
    page.get_by_role("button", name="Remove passkey").click()
    expect(page.get_by_role("status")).to_contain_text("Passkey “Work laptop” removed.")
    expect(page.locator(".passkeys li")).to_have_count(1)
    expect(page.locator(".passkey-name")).to_have_text("Second key")
    assert _scalar(seeder, "select count(*) from security_events where user_id = :u and kind in "
                   "('passkey.added', 'passkey.renamed', 'passkey.removed')", u=account.id) == 4


def test_a_passkey_as_the_second_factor(open_context: Callable[..., BrowserContext],
                                        seed: BrowserSeeder, seeder: Seeder) -> None:
    context = open_context(bypass_csp=True)
    page = context.new_page()
    _virtual_authenticator(context, page)
    account: Account = seed.user("pk2")
    sign_in(page, account)
    _enrol(page)
    _add_passkey(page, "Phone")
    sign_out(page)
    page.goto("/signin")
    fill_sign_in(page, account.username, account.password)
    expect(page).to_have_url("/signin/two-factor")
    page.get_by_role("button", name="Use a passkey").click()
    expect(page.locator("header .who")).to_have_text(f"Signed in as {account.username}")
    amr = _scalar(seeder, "select amr from sessions where user_id = :u order by id desc",
                  u=account.id)
    assert amr in ("pwd hwk mfa", "pwd swk mfa"), amr


def test_a_passkey_of_no_account_is_refused(open_context: Callable[..., BrowserContext],
                                            seed: BrowserSeeder, seeder: Seeder) -> None:
    """A passkey whose account removed it: the sign-in page says so, and nobody is signed in."""
    context = open_context(bypass_csp=True)
    page = context.new_page()
    _virtual_authenticator(context, page)
    account = seed.user("pkgone")
    sign_in(page, account)
    _add_passkey(page, "Old phone")
    _off_loop(seeder.execute, "delete from passkeys where user_id = :u", u=account.id)
    sign_out(page)
    page.goto("/signin")
    page.get_by_role("button", name="Sign in with a passkey").click()
    expect(page.locator("#passkey-error")).to_contain_text("not registered with Openplate")
    expect(page.locator("header .who")).to_have_count(0)


def test_a_passkey_of_a_disabled_account_signs_nobody_in(
        open_context: Callable[..., BrowserContext], seed: BrowserSeeder, seeder: Seeder) -> None:
    """The passkey proves who it is; the account is disabled: said to them, and nobody is
    signed in (as after a right password)."""
    context = open_context(bypass_csp=True)
    page = context.new_page()
    _virtual_authenticator(context, page)
    account = seed.user("pkoff")
    sign_in(page, account)
    _add_passkey(page, "Tablet")
    sign_out(page)
    _off_loop(seeder.execute, "update users set disabled_at = 1 where id = :u", u=account.id)
    page.goto("/signin")
    page.get_by_role("button", name="Sign in with a passkey").click()
    expect(page.locator("#passkey-error")).to_contain_text("This account is disabled")
    expect(page.locator("header .who")).to_have_count(0)
    assert _scalar(seeder, "select count(*) from sessions where user_id = :u", u=account.id) == 0


REDIRECT = "http://localhost:13524/"  # a loopback redirect URI nobody listens on


def test_an_app_asking_for_mfa_gets_a_passkey_step_up(
    open_context: Callable[..., BrowserContext], seed: BrowserSeeder, server: LiveServer
) -> None:
    """Signed in with the password, a user who has a passkey is asked for it when an app sends
    acr_values=urn:openplate:acr:mfa; the ID token then says mfa."""
    context = open_context(bypass_csp=True)
    page = context.new_page()
    _virtual_authenticator(context, page)
    account = seed.user("pkup")
    app = seed.app(redirect_uris=(REDIRECT,), name="Strict Mapper")
    sign_in(page, account)
    _add_passkey(page, "Laptop")
    page.route(REDIRECT + "**", lambda route: route.fulfill(
        status=200, content_type="text/html", body="<!doctype html><title>Back</title><p id=back>Back</p>"))
    page.goto("/oauth/auth?" + urlencode({
        "client_id": app.client_id, "redirect_uri": REDIRECT, "response_type": "code",
        "state": "s", "scope": "openid", "nonce": "n", "acr_values": MFA_ACR}))
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm it is you")
    expect(page.locator(".app-name")).to_have_text("Strict Mapper")
    expect(page.get_by_label("Code")).to_have_count(0)  # no authenticator app: passkey only
    page.get_by_role("button", name="Use a passkey").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Strict Mapper")  # consent
    with page.expect_request(lambda r: r.url.startswith(REDIRECT)) as callback:
        page.get_by_role("button", name="Allow").click()
    expect(page.locator("#back")).to_have_text("Back")
    code = parse_qs(urlsplit(callback.value.url).query)["code"][0]
    answer = httpx.post(server.url + "/oauth/token", timeout=30, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
        "client_id": app.client_id, "client_secret": app.client_secret or ""})
    claims = jwt_check.verify(answer.json()["id_token"], server.url)
    assert claims["acr"] == MFA_ACR
    assert claims["amr"] in (["pwd", "hwk", "mfa"], ["pwd", "swk", "mfa"])
