"""What a person does on the site, as Playwright steps; plus getting an API token over HTTP."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import BrowserContext, Page, expect

from tests.support.browser_flow import authorize, redirect_params
from tests.support.seed import Account, App

COOKIE = "openplate_session"  # the name over plain http (no __Host- prefix without Secure)
FORM_COOKIE = "openplate_form"  # a signed-out browser's CSRF cookie, over plain http
REDIRECT = "http://localhost:13524/"  # a loopback redirect URI nobody listens on


def fill_sign_in(page: Page, login: str, password: str) -> None:
    """On the sign-in page: type the credentials and press Sign in."""
    page.get_by_label("Username or e-mail").fill(login)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()


def sign_in(page: Page, account: Account, *, login: str | None = None) -> None:
    page.goto("/signin")
    fill_sign_in(page, login or account.username, account.password)
    expect(page.locator("header .who")).to_have_text(f"Signed in as {account.username}")


def fill_sign_up(page: Page, username: str, email: str, password: str) -> None:
    page.get_by_label("Username").fill(username)
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign up", exact=True).click()


def sign_out(page: Page) -> None:
    page.locator("header").get_by_role("button", name="Sign out").click()
    expect(page.locator("header")).to_contain_text("Sign in")
    expect(page.locator("header .who")).to_have_count(0)


def session_cookie(context: BrowserContext) -> dict[str, Any] | None:
    for cookie in context.cookies():
        if cookie["name"] == COOKIE:
            return dict(cookie)
    return None


def form_cookie(context: BrowserContext) -> dict[str, Any] | None:
    for cookie in context.cookies():
        if cookie["name"] == FORM_COOKIE:
            return dict(cookie)
    return None


def access_token(server_url: str, user: Account, app: App) -> str:
    """Code flow over plain HTTP (sign in, Allow), then trade the code at /oauth/token."""
    redirect_uri = app.redirect_uris[0]
    with httpx.Client(base_url=server_url, timeout=20) as client:
        params = {"client_id": app.client_id, "redirect_uri": redirect_uri,
                  "response_type": "code", "state": "t"}
        code = redirect_params(authorize(client, user, params))["code"]
        response = client.post("/oauth/token", data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
            "client_id": app.client_id, "client_secret": app.client_secret or "",
        })
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def replayable(cookie: dict[str, Any]) -> dict[str, Any]:
    """A cookie from ``context.cookies()`` in the shape ``add_cookies`` takes (a stolen copy)."""
    keep = ("name", "value", "domain", "path", "httpOnly", "secure", "sameSite")
    return {key: cookie[key] for key in keep}


def at_path(path: str) -> re.Pattern[str]:
    """For ``expect(page).to_have_url``: the page is at ``path`` (any query string)."""
    return re.compile(r"^https?://[^/]+" + re.escape(path) + r"(\?.*)?$")


def secret_accepted(server_url: str, client_id: str, secret: str) -> bool:
    """Does /oauth/token accept these client credentials? (A made-up code: the client is
    authenticated before the grant, so a good secret gets invalid_grant, a bad one invalid_client.)
    """
    response = httpx.post(server_url + "/oauth/token", timeout=20, data={
        "grant_type": "authorization_code", "code": "opac_made-up", "redirect_uri": REDIRECT,
        "client_id": client_id, "client_secret": secret,
    })
    error = response.json().get("error")
    assert error in ("invalid_grant", "invalid_client"), response.text
    return bool(error == "invalid_grant")


AXE = Path(__file__).with_name("axe") / "node_modules" / "axe-core" / "axe.min.js"


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page (its context must bypass the CSP:
    axe is injected as a script)."""
    assert AXE.is_file(), f"axe-core is missing ({AXE}): run `bash scripts/test.sh`"
    page.add_script_tag(path=str(AXE))
    violations: list[dict[str, Any]] = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.map(n => n.target.join(' '))}))")
    return [v for v in violations if v["impact"] in ("serious", "critical")]
