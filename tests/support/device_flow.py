"""The device authorization grant (RFC 8628) over plain HTTP: the device's requests, and the
user's side driven through the real /device pages as a browser would (forms and cookies)."""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.support.browser_flow import hidden_fields, sign_in
from tests.support.seed import Account, App

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
DEVICE_GRANTS = ("authorization_code", "refresh_token", DEVICE_GRANT)
#: What the result page must say after Allow or Deny.
GO_BACK = "You can go back to your device"


def _auth(app: App) -> dict[str, str]:
    if app.client_secret is None:
        return {"client_id": app.client_id}
    return {"client_id": app.client_id, "client_secret": app.client_secret}


def start(base_url: str, app: App, scope: str | None = None) -> dict[str, Any]:
    """POST /oauth/device_authorization; the JSON answer (which must be a 200)."""
    data = {**_auth(app), **({"scope": scope} if scope is not None else {})}
    answer = httpx.post(base_url + "/oauth/device_authorization", data=data, timeout=30)
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    body: dict[str, Any] = answer.json()
    return body


def poll(base_url: str, app: App, device_code: str) -> httpx.Response:
    return httpx.post(base_url + "/oauth/token", timeout=30, data={
        "grant_type": DEVICE_GRANT, "device_code": device_code, **_auth(app)})


def open_link(browser: httpx.Client, account: Account, link: str) -> httpx.Response:
    """Open ``link`` (verification_uri or _complete) signed out, sign in when sent to, and
    return the /device page the sign-in leads back to."""
    page = browser.get(link)
    if page.status_code == 303 and page.headers["location"].startswith("/signin"):
        next_path = parse_qs(urlsplit(page.headers["location"]).query)["next"][0]
        signed = sign_in(browser, account, next_path=next_path)
        assert signed.status_code == 303, signed.text[:500]
        page = browser.get(signed.headers["location"])
    assert page.status_code == 200, page.text[:500]
    return page


def prefilled(page: httpx.Response) -> str:
    found = re.search(r'name="user_code" value="([^"]*)"', page.text)
    assert found, page.text[:800]
    return found.group(1)


def enter(browser: httpx.Client, page: httpx.Response, user_code: str) -> httpx.Response:
    """Type ``user_code`` into the /device form of ``page`` and press Continue."""
    return browser.post("/device", data={**hidden_fields(page.text), "user_code": user_code})


def decide(browser: httpx.Client, confirm: httpx.Response, decision: str) -> httpx.Response:
    """Press Allow or Deny on the confirmation page; the result page it redirects to."""
    posted = browser.post("/device/decision", data={**hidden_fields(confirm.text),
                                                     "decision": decision})
    assert posted.status_code == 303, posted.text[:500]
    result = browser.get(posted.headers["location"])
    assert result.status_code == 200, result.text[:500]
    return result


def approve(base_url: str, account: Account, started: dict[str, Any], *,
            decision: str = "allow", typed: str | None = None) -> httpx.Response:
    """The whole user's side: open verification_uri_complete, sign in, press Continue with the
    pre-filled code (or ``typed``), then Allow (or Deny); the result page."""
    with httpx.Client(base_url=base_url, timeout=30) as browser:
        page = open_link(browser, account, started["verification_uri_complete"])
        assert prefilled(page) == started["user_code"]
        entered = enter(browser, page, typed or started["user_code"])
        assert entered.status_code == 303, entered.text[:800]
        confirm = browser.get(entered.headers["location"])
        assert confirm.status_code == 200, confirm.text[:500]
        return decide(browser, confirm, decision)


def poll_until_tokens(base_url: str, app: App, device_code: str, *, interval: int = 5,
                      polls: int = 8) -> dict[str, Any]:
    """Poll as §3.5 says (wait the interval; 5 seconds more after each slow_down) until the
    tokens come; any other answer fails."""
    for _ in range(polls):
        answer = poll(base_url, app, device_code)
        if answer.status_code == 200:
            body: dict[str, Any] = answer.json()
            return body
        error = answer.json()["error"]
        assert error in ("authorization_pending", "slow_down"), answer.text
        interval += 5 if error == "slow_down" else 0
        time.sleep(interval)
    raise AssertionError(f"no tokens after {polls} polls")
