"""The browser side of the benchmark, over plain HTTP, for Openplate ("ours") and the peer.

Imported by ``bench.py`` to prepare the runs (never timed): sign in, consent, mint codes,
create grants, hand signed-in session cookies to wrk.

Each side is driven the way its own pages work:
- ours, as ``tests/support/browser_flow.py`` does: GET /signin for the CSRF token, POST /signin;
  GET /oauth/auth shows the consent page, POST /oauth/auth/decision with its hidden fields and
  decision=allow answers 303 to the redirect URI with ``code``; once consented, the same app and
  scopes skip the page and /oauth/auth answers with a code at once.
- the peer (npm oidc-provider with the minimal interaction in peer/server.js): GET /auth answers
  303 to /interaction/UID; POST /interaction/UID/login (password) or /confirm (consent) answers
  303 to /auth/UID, which answers 303 to the redirect URI with ``code`` (or to the next prompt).
"""

from __future__ import annotations

import asyncio
import html
import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

SCOPE = "openid account maps"
# Biggerplate's own scopes (docs/api.md): plain OAuth 2.0, so no ID token is issued.
OAUTH_SCOPE = "account maps"
_HIDDEN = re.compile(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"')


class FlowError(Exception):
    """The server answered something the flow did not expect."""


@dataclass(frozen=True)
class Target:
    kind: str  # "ours" or "peer"
    base_url: str
    client_id: str
    client_secret: str
    redirect_uri: str
    username: str
    email: str
    password: str
    # What /authorize asks for: with openid, a code and a refresh come with an RS256 ID token.
    scope: str = SCOPE

    # Endpoints: same work, each server's own path.
    @property
    def token_path(self) -> str:
        return "/oauth/token" if self.kind == "ours" else "/token"

    @property
    def introspect_path(self) -> str:
        return "/oauth/introspect" if self.kind == "ours" else "/token/introspection"

    @property
    def me_path(self) -> str:
        return "/users/me" if self.kind == "ours" else "/me"

    @property
    def jwks_path(self) -> str:
        return "/oauth/jwks" if self.kind == "ours" else "/jwks"

    @property
    def auth_path(self) -> str:
        return "/oauth/auth" if self.kind == "ours" else "/auth"

    def auth_params(self, *, consent: bool = False) -> dict[str, str]:
        params = {"client_id": self.client_id, "redirect_uri": self.redirect_uri,
                  "response_type": "code", "scope": self.scope, "state": "bench"}
        if consent:
            params["prompt"] = "consent"
        return params

    def auth_query(self, *, consent: bool = False) -> str:
        return self.auth_path + "?" + urlencode(self.auth_params(consent=consent))

    @property
    def basic(self) -> tuple[str, str]:
        return (self.client_id, self.client_secret)


def hidden_fields(page: str) -> dict[str, str]:
    return {name: html.unescape(value) for name, value in _HIDDEN.findall(page)}


def _expect(response: httpx.Response, *statuses: int) -> httpx.Response:
    if response.status_code not in statuses:
        raise FlowError(f"{response.request.method} {response.request.url.path} answered "
                        f"{response.status_code}: {response.text[:300]!r}")
    return response


def _code_from(response: httpx.Response, target: Target) -> str:
    location = _expect(response, 302, 303).headers["location"]
    if not location.startswith(target.redirect_uri):
        raise FlowError(f"expected a redirect to the client, got {location[:200]}")
    query = parse_qs(urlsplit(location).query)
    if "code" not in query:
        raise FlowError(f"no code in {location[:300]}")
    return query["code"][0]


def new_browser(target: Target, *, connections: int = 1) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    return httpx.AsyncClient(base_url=target.base_url, timeout=120, limits=limits,
                             follow_redirects=False)


# --- ours ---------------------------------------------------------------------------------

async def _ours_sign_in(browser: httpx.AsyncClient, target: Target) -> None:
    page = _expect(await browser.get("/signin", params={"next": "/"}), 200)
    fields = hidden_fields(page.text)
    _expect(await browser.post("/signin", data={**fields, "login": target.username,
                                                "password": target.password}), 303)


async def _ours_consent_code(browser: httpx.AsyncClient, target: Target) -> str:
    page = _expect(await browser.get(target.auth_query(consent=True)), 200)
    fields = hidden_fields(page.text)
    return _code_from(await browser.post("/oauth/auth/decision",
                                         data={**fields, "decision": "allow"}), target)


# --- peer ---------------------------------------------------------------------------------

def _forget_interactions(browser: httpx.AsyncClient) -> None:
    """Drop the peer's spent per-interaction cookies (each has its own path, so a browser never
    sends them again); kept, they pile up in the jar and slow the driver down, not the server."""
    jar = browser.cookies.jar
    for cookie in list(jar):
        if cookie.name.startswith("_interaction"):
            jar.clear(cookie.domain, cookie.path, cookie.name)


def _interaction_path(response: httpx.Response) -> str:
    location = _expect(response, 303).headers["location"]
    path = urlsplit(location).path
    if not path.startswith("/interaction/"):
        raise FlowError(f"expected an interaction, got {location[:200]}")
    return path


async def _peer_resume(browser: httpx.AsyncClient, finished: httpx.Response) -> httpx.Response:
    """Follow the 303 an interaction POST answers, back to /auth/UID."""
    location = _expect(finished, 303).headers["location"]
    return await browser.get(urlsplit(location).path)


async def _peer_consent(browser: httpx.AsyncClient, interaction: str, target: Target) -> str:
    _expect(await browser.get(interaction), 200)  # the consent page, as a browser shows it
    resumed = await _peer_resume(browser, await browser.post(interaction + "/confirm"))
    _forget_interactions(browser)
    return _code_from(resumed, target)


async def _peer_sign_in_and_consent(browser: httpx.AsyncClient, target: Target) -> None:
    interaction = _interaction_path(await browser.get(target.auth_query()))
    resumed = await _peer_resume(browser, await browser.post(
        interaction + "/login", data={"login": target.username, "password": target.password}))
    if resumed.status_code == 303 and "/interaction/" in resumed.headers["location"]:
        await _peer_consent(browser, _interaction_path(resumed), target)
    else:
        _code_from(resumed, target)


async def _peer_consent_code(browser: httpx.AsyncClient, target: Target) -> str:
    interaction = _interaction_path(await browser.get(target.auth_query(consent=True)))
    return await _peer_consent(browser, interaction, target)


# --- both ---------------------------------------------------------------------------------

async def establish(browser: httpx.AsyncClient, target: Target) -> None:
    """Sign in and consent once, so that /authorize answers with a code straight away."""
    if target.kind == "ours":
        await _ours_sign_in(browser, target)
        await _ours_consent_code(browser, target)
    else:
        await _peer_sign_in_and_consent(browser, target)


async def consent_code(browser: httpx.AsyncClient, target: Target) -> str:
    """A code through the consent page (prompt=consent): a new grant on either side."""
    if target.kind == "ours":
        return await _ours_consent_code(browser, target)
    return await _peer_consent_code(browser, target)


async def silent_code(browser: httpx.AsyncClient, target: Target) -> str:
    """A code for an established browser: /authorize redirects straight back."""
    return _code_from(await browser.get(target.auth_query()), target)


async def redeem(client: httpx.AsyncClient, target: Target, code: str) -> dict[str, object]:
    response = await client.post(target.token_path, auth=target.basic, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": target.redirect_uri})
    body: dict[str, object] = _expect(response, 200).json()
    return body


async def gather_limited(count: int, parallel: int, work) -> list:  # type: ignore[no-untyped-def]
    """Run ``work(i)`` for i in range(count), at most ``parallel`` at once, results in order."""
    results: list = [None] * count
    next_index = 0

    async def worker() -> None:
        nonlocal next_index
        while next_index < count:
            i = next_index
            next_index += 1
            results[i] = await work(i)

    await asyncio.gather(*(worker() for _ in range(min(parallel, count))))
    return results


async def session_cookies(target: Target, count: int) -> list[str]:
    """``count`` browsers signed in and consented once: their session cookies, as name=value."""
    name = "openplate_session" if target.kind == "ours" else "_session"
    browsers = [new_browser(target) for _ in range(count)]
    try:
        await gather_limited(count, 8, lambda i: establish(browsers[i], target))
        cookies = []
        for browser in browsers:
            value = browser.cookies.get(name)
            if not value:
                raise FlowError(f"no {name} cookie after signing in")
            cookies.append(f"{name}={value}")
        return cookies
    finally:
        for browser in browsers:
            await browser.aclose()


__all__ = ["Target", "consent_code", "establish", "gather_limited", "new_browser", "redeem",
           "session_cookies", "silent_code"]
