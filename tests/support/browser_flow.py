"""Drive the sign-in and consent pages over plain HTTP, as a browser would (forms and cookies)."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.support.seed import Account

_INPUT = re.compile(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"')


def hidden_fields(page: str) -> dict[str, str]:
    return {name: html.unescape(value) for name, value in _INPUT.findall(page)}


def sign_in(client: httpx.Client, account: Account, *, next_path: str = "/") -> httpx.Response:
    page = client.get("/signin", params={"next": next_path})
    fields = hidden_fields(page.text)
    return client.post(
        "/signin",
        data={**fields, "login": account.username, "password": account.password},
    )


def authorize(
    client: httpx.Client, account: Account | None, params: dict[str, str], *, decision: str = "allow"
) -> httpx.Response:
    """GET /oauth/auth, sign in if asked, press Allow or Deny; return the redirect response."""
    response = client.get("/oauth/auth", params=params)
    if response.status_code == 303 and response.headers["location"].startswith("/signin"):
        assert account is not None
        next_path = parse_qs(urlsplit(response.headers["location"]).query)["next"][0]
        signed = sign_in(client, account, next_path=next_path)
        assert signed.status_code == 303, signed.text
        response = client.get(signed.headers["location"])
    if response.status_code != 200:
        return response
    fields = hidden_fields(response.text)
    return client.post("/oauth/auth/decision", data={**fields, "decision": decision})


def redirect_params(response: httpx.Response) -> dict[str, str]:
    assert response.status_code in (302, 303), (response.status_code, response.text[:500])
    query = urlsplit(response.headers["location"]).query
    return {key: values[0] for key, values in parse_qs(query).items()}


def obtain_code(
    base_url: str, account: Account, app_client_id: str, redirect_uri: str, **extra: str
) -> str:
    """Run the browser half of the flow for ``account`` and return the authorisation code."""
    params = {"client_id": app_client_id, "redirect_uri": redirect_uri, "response_type": "code",
              "state": "xyz", **extra}
    with httpx.Client(base_url=base_url, timeout=20) as browser:
        got = redirect_params(authorize(browser, account, params))
    assert got["state"] == "xyz", got
    return got["code"]


def rotate_secret(base_url: str, developer: Account, client_id: str) -> str:
    """Sign ``developer`` in, press "Rotate secret" on the application's page and confirm; the
    new secret, from the page the confirmation leads to (where it is shown once)."""
    with httpx.Client(base_url=base_url, timeout=20) as browser:
        assert sign_in(browser, developer).status_code == 303
        confirm = browser.get(f"/applications/{client_id}/rotate-secret")
        rotated = browser.post(f"/applications/{client_id}/rotate-secret",
                               data=hidden_fields(confirm.text))
        assert rotated.status_code == 303, rotated.text
        page = browser.get(rotated.headers["location"])
    return page.text.split('id="client-secret">')[1].split("<")[0]
