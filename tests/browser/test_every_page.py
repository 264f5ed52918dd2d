"""Every page of the site, signed out and signed in, at 1280 and 390 px wide: no sideways
scrolling however long a name, title, tag or address is (200 unbroken characters, CJK, Arabic
and emoji), a skip link that works, and no serious or critical axe-core violation, /docs and
the library's pages (search, lists, upload, edit, delete, each with its error) included.

Screenshots (full page) go to ``$OPENPLATE_TEST_SHOTS`` when it is set (else the test's own
temporary folder), with ``axe-counts.json``: the violations of every impact, per page.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.conftest import BrowserSeeder
from tests.browser.helpers import REDIRECT, access_token, fill_sign_in
from tests.browser.test_forms import AXE
from tests.support.device_flow import DEVICE_GRANTS, start
from tests.support.mindmaps import make_png, make_xmind_json
from tests.support.operator_cli import operator_json
from tests.support.seed import Account, App
from tests.support.server import LiveServer

pytestmark = pytest.mark.browser

WIDTHS = [1280, 390]
#: 64 characters without a space: CJK, Arabic and emoji (the longest display name there is).
DISPLAY_NAME = "長" * 40 + "عبدالله" * 3 + "🙂🙂🙂"
#: 100 characters without a space (the longest application name).
APP_NAME = "A" * 60 + "長" * 20 + "ش" * 19 + "🙂"
#: 200 characters without a space (the longest map title).
MAP_TITLE = "M" * 140 + "地" * 40 + "خ" * 20
LONG_URI = "https://example.com/" + "callback" * 120
#: The longest tag (40 characters) and category name (80), without a space.
LONG_TAG = "t" * 20 + "地" * 20
CATEGORY_NAME = "C" * 40 + "類" * 40


@dataclass(frozen=True)
class Site:
    """What the pages show: a long-named account, its apps (one allowed), a long-titled map."""

    account: Account
    allowed: App
    pending: App
    own_client_id: str
    map_path: str
    map_id: str
    category: str
    #: An app with the device grant (RFC 8628), with the longest name.
    tv: App
    #: An app that registered itself (RFC 7591), with the longest name.
    self_registered: App


def _auth_path(app: App) -> str:
    return "/oauth/auth?" + urlencode({"client_id": app.client_id, "redirect_uri": REDIRECT,
                                       "response_type": "code", "state": "s",
                                       "scope": "openid profile maps"})


@pytest.fixture(scope="module")
def site(server: LiveServer, seed: BrowserSeeder) -> Site:
    account = seed.user("w" * 30)  # a username of 37 to 39 characters
    assert len(account.username) >= 37
    allowed = seed.app(redirect_uris=(REDIRECT, LONG_URI), name=APP_NAME)
    pending = seed.app(redirect_uris=(REDIRECT,), name="Z" * 40 + APP_NAME[:60])
    own = seed.app(account, redirect_uris=(REDIRECT, LONG_URI), name=APP_NAME, by_operator=False)
    token = access_token(server.url, account, allowed)
    xmind = make_xmind_json(MAP_TITLE, ["一" * 200, "x" * 300], thumbnail=make_png(64, 48))
    category = "c" + secrets.token_hex(3) + "-" + "x" * 30
    operator_json(server, "category", "add", category, "--name", CATEGORY_NAME)
    upload = httpx.post(server.url + "/maps", timeout=20,
                        headers={"Authorization": f"Bearer {token}"},
                        data={"title": MAP_TITLE, "description": "d" * 500, "tags": LONG_TAG,
                              "category": category},
                        files={"map": ("m.xmind", xmind, "application/octet-stream")})
    assert upload.status_code == 201, upload.text
    map_path = "/" + upload.json()["url"].split("/", 3)[3]
    tv = seed.app(redirect_uris=(REDIRECT,), name=APP_NAME, grant_types=DEVICE_GRANTS)
    stranger = seed.self_registered({
        "client_name": APP_NAME, "redirect_uris": [REDIRECT], "application_type": "native",
        "client_uri": "https://" + "assistant-" * 8 + ".example/",
        "description": "Reads and writes mind maps for you. " * 8})
    return Site(account, allowed, pending, own.client_id, map_path, upload.json()["id"],
                category, tv, stranger)


def _sign_in(page: Page, account: Account) -> None:
    """Sign in; the header shows the display name once the first test has set it."""
    page.goto("/signin")
    fill_sign_in(page, account.username, account.password)
    shown = "|".join(re.escape(name) for name in (account.username, DISPLAY_NAME))
    expect(page.locator("header .who")).to_have_text(re.compile(f"^Signed in as ({shown})$"))


def _open_every_operation(page: Page) -> None:
    """On /docs: open every operation, so their parameters and responses are checked too."""
    expect(page.locator(".opblock").first).to_be_visible()
    summaries = page.locator(".opblock-summary-control")
    for index in range(summaries.count()):
        summaries.nth(index).click()
        expect(summaries.nth(index)).to_have_attribute("aria-expanded", "true")
    expect(page.locator(".opblock-body")).to_have_count(summaries.count())


def _shots() -> Path | None:
    folder = os.environ.get("OPENPLATE_TEST_SHOTS")
    return Path(folder) if folder else None


def _violations(page: Page) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(AXE))
    found: list[dict[str, Any]] = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}))")
    return found


@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_fits_the_width_and_passes_axe(
    open_context: Callable[..., BrowserContext], site: Site, server: LiveServer,
    tmp_path: Path, width: int,
) -> None:
    if not AXE.is_file():
        pytest.fail(f"axe-core is missing ({AXE}): run `bash scripts/test.sh`", pytrace=False)
    shots = _shots() or tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    # The pages' CSP forbids inline scripts; axe is injected as one, so this context bypasses it.
    context = open_context(viewport={"width": width, "height": 900}, bypass_csp=True)
    page = context.new_page()
    counts: dict[str, dict[str, int]] = {}
    problems: list[str] = []

    def check(name: str, *, skip_link: bool = True) -> None:
        expect(page.locator("body")).to_be_visible()
        page.wait_for_load_state("load")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        if overflow > 0:
            problems.append(f"{name}: {overflow}px wider than the {width}px window")
        if skip_link:
            first = page.locator("body a").first
            if first.get_attribute("href") != "#main" or page.locator("main#main").count() != 1:
                problems.append(f"{name}: no skip link to the main content")
        page.screenshot(path=str(shots / f"{name}-{width}.png"), full_page=True)
        found = _violations(page)
        tally: dict[str, int] = {}
        for violation in found:
            tally[violation["impact"]] = tally.get(violation["impact"], 0) + 1
        counts[name] = tally
        serious = [v for v in found if v["impact"] in ("serious", "critical")]
        if serious:
            problems.append(f"{name}: {json.dumps(serious, ensure_ascii=False)[:1500]}")

    # Signed out.
    page.goto("/")
    check("home")
    page.goto(site.map_path)
    check("map")
    page.goto("/no/such/page")
    check("not-found")
    page.goto("/signin")
    check("signin")
    fill_sign_in(page, site.account.username, "not the password")
    expect(page.get_by_role("alert")).to_be_visible()
    check("signin-error")
    page.goto("/signup")
    check("signup")
    page.locator("main form").evaluate("form => { form.noValidate = true; }")
    page.get_by_label("Username").fill("x")
    page.get_by_label("E-mail").fill("x@example.org")
    page.get_by_label("Password").fill("long enough password")
    page.get_by_role("button", name="Sign up", exact=True).click()
    expect(page.get_by_role("alert")).to_be_visible()
    check("signup-error")
    page.goto(_auth_path(site.pending))
    expect(page.locator(".app-name")).to_be_visible()
    check("signin-for-an-app")
    # An app nobody has allowed yet, with a request it cannot make: the error stays on our page.
    page.goto("/oauth/auth?" + urlencode({"client_id": site.own_client_id, "redirect_uri": LONG_URI,
                                          "response_type": "token", "state": "s"}))
    expect(page.locator(".redirect-host")).to_be_visible()
    check("authorize-error")
    page.goto("/docs")
    _open_every_operation(page)
    check("docs", skip_link=False)
    page.goto("/oauth/logout/done")
    check("signed-out")
    page.goto("/password/forgot")
    check("password-forgot")
    page.goto("/password/reset/oppr_" + "x" * 43)
    check("password-reset-unknown-link")
    # The library's lists.
    page.goto("/search?q=mmm")
    expect(page.locator("li.map-card")).not_to_have_count(0)
    check("search")
    page.goto("/search?q=zqnothingmatchesthis")
    expect(page.get_by_text("No maps match")).to_be_visible()
    check("search-empty")
    page.goto("/search?" + urlencode({"tag": "c++", "format": "pdf", "category": "no-such",
                                      "author": "nobody-" + "x" * 30, "q": "mmm"}))
    expect(page.locator("[aria-invalid=true]")).to_have_count(4)
    check("search-error")
    page.goto(f"/tags/{LONG_TAG}")
    check("tag")
    page.goto(f"/categories/{site.category}")
    check("category")
    page.goto(f"/people/{site.account.username}")
    check("person")

    # Signed in, with a 64-character display name.
    _sign_in(page, site.account)
    page.goto("/account")
    page.get_by_label("Display name").fill(DISPLAY_NAME)
    page.get_by_role("button", name="Save display name").click()
    # ("Nothing changed." at the second width: the first one saved it.)
    expect(page.get_by_role("status")).to_have_text(
        re.compile(r"^\s*(Display name saved\.|Nothing changed\.)\s*$"))
    check("account")
    page.get_by_label("Display name").fill("bad\u202ename")
    page.get_by_role("button", name="Save display name").click()
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.get_by_label("Display name")).to_have_attribute("aria-invalid", "true")
    check("account-error")
    page.goto("/")
    check("home-signed-in")
    page.goto(site.map_path)
    check("map-signed-in")
    page.goto("/account/security")
    expect(page.locator(".timeline")).to_be_visible()
    check("security")
    other = open_context(viewport={"width": width, "height": 900})
    _sign_in(other.new_page(), site.account)
    page.goto("/account/sessions")
    check("sessions")
    page.goto("/account/sessions/sign-out-others")
    check("sessions-sign-out-others")
    page.goto("/account/password")
    check("password")
    page.get_by_label("Current password").fill("not the password")
    page.get_by_label("New password").fill("a new password")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("alert")).to_be_visible()
    check("password-error")
    page.goto("/account/email")
    check("email")
    page.goto("/account/two-factor")
    check("two-factor")
    page.goto("/account/passkeys")
    check("passkeys")
    page.goto("/account/delete")
    check("account-delete")
    page.goto("/account/apps")
    check("account-apps")
    page.goto(f"/account/apps/{site.allowed.client_id}/revoke")
    check("revoke-confirm")
    page.goto("/applications")
    check("applications")
    page.goto(f"/applications/{site.own_client_id}")
    check("application")
    page.get_by_label("Redirect URIs").fill("http://example.com/plain-http")
    page.get_by_role("button", name="Update").click()
    expect(page.get_by_role("alert")).to_be_visible()
    check("application-error")
    page.goto("/oauth/logout?" + urlencode({"client_id": site.own_client_id, "state": "s"}))
    expect(page.locator("#logout-confirm").get_by_role("button", name="Sign out")).to_be_visible()
    check("logout-confirm")
    page.goto("/oauth/logout?" + urlencode({"client_id": site.own_client_id,
                                            "post_logout_redirect_uri": LONG_URI}))
    expect(page.get_by_role("alert")).to_be_visible()
    check("logout-error")
    page.goto(f"/applications/{site.own_client_id}/rotate-secret")
    check("rotate-confirm")
    page.goto(f"/applications/{site.own_client_id}/delete")
    check("delete-confirm")
    page.goto(_auth_path(site.pending))
    expect(page.get_by_role("button", name="Allow")).to_be_visible()
    check("consent")
    page.goto(_auth_path(site.self_registered))
    expect(page.locator(".self-registered")).to_be_visible()
    check("consent-self-registered")
    page.goto("/no/such/page")
    check("not-found-signed-in")
    # The device flow (RFC 8628): type the code, confirm, the result.
    started = start(server.url, site.tv, "openid profile maps")
    page.goto("/device")
    check("device")
    page.get_by_label("Code from your device").fill("BCDF-GHJK" if started["user_code"]
                                                   != "BCDF-GHJK" else "ZZZZ-ZZZZ")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("alert")).to_be_visible()
    check("device-error")
    page.goto(started["verification_uri_complete"].removeprefix(server.url))
    expect(page.get_by_label("Code from your device")).to_have_value(started["user_code"])
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("button", name="Allow")).to_be_visible()
    check("device-confirm")
    page.get_by_role("button", name="Allow").click()
    expect(page.get_by_text("You can go back to your device")).to_be_visible()
    check("device-done")
    # Sharing and managing maps.
    page.goto("/account/maps/new")
    check("upload")
    page.get_by_label("Mind-map file").set_input_files(files=[{
        "name": "notes.txt", "mimeType": "text/plain", "buffer": b"\x00 not a mind map"}])
    page.get_by_label("Title").fill(MAP_TITLE)
    page.get_by_role("button", name="Share the map").click()
    expect(page.get_by_role("alert")).to_be_visible()
    check("upload-error")
    page.goto("/account/maps")
    check("account-maps")
    page.goto(f"/account/maps/{site.map_id}/edit")
    check("map-edit")
    page.get_by_label("Title").fill("")
    page.get_by_label("Tags (optional)").fill("c++, " + LONG_TAG)
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("alert")).to_be_visible()
    check("map-edit-error")
    page.goto(f"/account/maps/{site.map_id}/delete")
    check("map-delete-confirm")
    page.goto("/docs")
    _open_every_operation(page)
    check("docs-signed-in", skip_link=False)

    report = shots / "axe-counts.json"
    known = json.loads(report.read_text()) if report.is_file() else {}
    known[str(width)] = counts
    report.write_text(json.dumps(known, indent=1, sort_keys=True))
    assert problems == [], "\n".join(problems)
    assert len(counts) == 55


def test_the_skip_link_moves_to_the_main_content(page: Page) -> None:
    page.goto("/signup")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to the main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()


def test_times_are_shown_in_the_visitors_time_zone(
    open_context: Callable[..., BrowserContext], site: Site,
) -> None:
    """With JavaScript, in the browser's zone (and the note says which); without, in UTC."""
    seen: dict[bool, tuple[str, str]] = {}
    for javascript in (True, False):
        context = open_context(timezone_id="Asia/Tokyo", java_script_enabled=javascript,
                               locale="en-GB")
        page = context.new_page()
        _sign_in(page, site.account)
        page.goto("/account/security")
        first = page.locator(".timeline time").first
        seen[javascript] = (first.inner_text(), page.locator("[data-times-note]").inner_text())
        stamp = first.get_attribute("datetime")
        assert stamp is not None and stamp.endswith("Z")
    utc_text, utc_note = seen[False]
    local_text, local_note = seen[True]
    assert utc_text.endswith(" UTC") and utc_note == "Times are in UTC."
    assert local_note == "Times are in your local time (Asia/Tokyo)."
    assert "UTC" not in local_text and local_text != utc_text
