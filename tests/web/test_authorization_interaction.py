"""/oauth/auth over HTTP, on every engine: the interaction decided server-side, the POST form of
the request, request objects, unknown scopes, unauthorized clients, and which errors go back to
an app on their own (RFC 9700 §4.11.2)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.support import jwt_check
from tests.support.browser_flow import authorize, hidden_fields, redirect_params, sign_in
from tests.support.seed import Account, App, Seeder
from tests.support.server import LiveServer
from tests.support.tokens import exchange

REDIRECT = "https://app.example.com/cb"


def _params(app: App, **extra: str) -> dict[str, str]:
    return {"client_id": app.client_id, "redirect_uri": app.redirect_uris[0],
            "response_type": "code", "state": "st", **extra}


def _next_of(response: httpx.Response) -> str:
    assert response.status_code == 303, response.text[:300]
    location = response.headers["location"]
    assert location.startswith("/signin?"), location
    return parse_qs(urlsplit(location).query)["next"][0]


def _sign_in_from(browser: httpx.Client, account: Account, response: httpx.Response) -> httpx.Response:
    """Follow the redirect to the sign-in page, sign in there, return what resuming answers."""
    page = browser.get(response.headers["location"])
    assert page.status_code == 200 and 'name="password"' in page.text, page.text[:300]
    done = browser.post("/signin", data={**hidden_fields(page.text), "login": account.username,
                                         "password": account.password})
    assert done.status_code == 303
    return browser.get(done.headers["location"])


@pytest.mark.parametrize("extra", [{"prompt": "login"}, {"max_age": "0"}, {"max_age": "1"}])
def test_a_fresh_sign_in_cannot_be_skipped_from_the_url(
    server: LiveServer, seeder: Seeder, extra: dict[str, str]
) -> None:
    """prompt=login and max_age ask for the password again, whatever the query string carries
    (an earlier release trusted a time in the URL; anyone could set it in the future)."""
    app, account = seeder.app(seeder.user("dev")), seeder.user("u")
    with httpx.Client(base_url=server.url, timeout=20) as browser:
        assert "code" in redirect_params(authorize(browser, account, _params(app)))
        seeder.execute("update sessions set auth_time = auth_time - 10 where user_id = :uid",
                       uid=account.id)
        for smuggled in ("", "&op_login_after=1", "&op_login_after=99999999999", "&force=0",
                         "&signed_in_at=1"):
            forced = browser.get("/oauth/auth?" + httpx.QueryParams(_params(app, **extra)).__str__()
                                 + smuggled)
            resume = _next_of(forced)
            assert resume.startswith("/oauth/auth/resume?request=")
            # Going straight back, without signing in, asks again: the server knows.
            again = browser.get(resume)
            assert _next_of(again) == resume
        back = _sign_in_from(browser, account, again)
        code = redirect_params(back)["code"]
        assert exchange(server.url, app, code).status_code == 200


def test_a_fresh_sign_in_counts_once_for_its_own_request(server: LiveServer, seeder: Seeder) -> None:
    """Signing in for one prompt=login request does not satisfy the next one."""
    app, account = seeder.app(seeder.user("dev")), seeder.user("u")
    with httpx.Client(base_url=server.url, timeout=20) as browser:
        authorize(browser, account, _params(app))
        first = browser.get("/oauth/auth", params=_params(app, prompt="login"))
        assert "code" in redirect_params(_sign_in_from(browser, account, first))
        second = browser.get("/oauth/auth", params=_params(app, prompt="login"))
        _next_of(second)  # asked again


def test_prompt_login_id_token_says_when(server: LiveServer, seeder: Seeder) -> None:
    app, account = seeder.app(seeder.user("dev")), seeder.user("u")
    with httpx.Client(base_url=server.url, timeout=20) as browser:
        authorize(browser, account, _params(app, scope="openid"))
        seeder.execute("update sessions set auth_time = 1000 where user_id = :uid", uid=account.id)
        forced = browser.get("/oauth/auth", params=_params(app, scope="openid", prompt="login"))
        code = redirect_params(_sign_in_from(browser, account, forced))["code"]
    claims = jwt_check.verify(exchange(server.url, app, code).json()["id_token"], server.url)
    assert claims["auth_time"] > 1000  # the new sign-in, not the old one


def test_a_parked_request_belongs_to_its_browser(server: LiveServer, seeder: Seeder) -> None:
    app, account, other = seeder.app(seeder.user("dev")), seeder.user("u"), seeder.user("o")
    with httpx.Client(base_url=server.url, timeout=20) as browser:
        resume = _next_of(browser.get("/oauth/auth", params=_params(app)))
    with httpx.Client(base_url=server.url, timeout=20) as stranger:
        sign_in(stranger, other)
        stolen = stranger.get(resume)
        assert stolen.status_code == 400 and "another browser" in stolen.text
        assert "location" not in stolen.headers
        assert stranger.get("/oauth/auth/resume?request=nope").status_code == 400
        assert stranger.get("/oauth/auth/resume").status_code == 400
    del account


def test_consent_is_answered_once(server: LiveServer, seeder: Seeder) -> None:
    app, account = seeder.app(seeder.user("dev")), seeder.user("u")
    with httpx.Client(base_url=server.url, timeout=20) as browser:
        sign_in(browser, account)
        page = browser.get("/oauth/auth", params=_params(app))
        fields = hidden_fields(page.text)
        first = browser.post("/oauth/auth/decision", data={**fields, "decision": "allow"})
        assert "code" in redirect_params(first)
        second = browser.post("/oauth/auth/decision", data={**fields, "decision": "allow"})
        assert second.status_code == 400 and "location" not in second.headers


def test_authorization_request_by_post(server: LiveServer, seeder: Seeder) -> None:
    """The app's page POSTs the request; the browser sends no SameSite=Lax cookie with it."""
    app, account = seeder.app(seeder.user("dev")), seeder.user("u")
    with httpx.Client(base_url=server.url, timeout=20) as browser:
        authorize(browser, account, _params(app))  # signed in, consent remembered
        cookies = dict(browser.cookies)
        browser.cookies.clear()
        posted = browser.post("/oauth/auth", data=_params(app, scope="account maps"))
        assert posted.status_code == 303 and "set-cookie" not in posted.headers
        resume = posted.headers["location"]
        assert resume.startswith("/oauth/auth/resume?request=")
        browser.cookies.update(cookies)
        got = redirect_params(browser.get(resume))
        assert got["state"] == "st" and exchange(server.url, app, got["code"]).status_code == 200
        # Once claimed by this browser, nobody else can open it; nor can it be used twice.
        assert browser.get(resume).status_code == 400


def test_authorization_request_by_post_signed_out(server: LiveServer, seeder: Seeder) -> None:
    app, account = seeder.app(seeder.user("dev")), seeder.user("u")
    with httpx.Client(base_url=server.url, timeout=20) as browser:
        posted = browser.post("/oauth/auth", data=_params(app))
        resumed = browser.get(posted.headers["location"])
        consent = _sign_in_from(browser, account, resumed)
        assert consent.status_code == 200 and "wants to use your Openplate account" in consent.text
        done = browser.post("/oauth/auth/decision",
                            data={**hidden_fields(consent.text), "decision": "allow"})
        assert "code" in redirect_params(done)


@pytest.mark.parametrize(("body", "content_type", "query"), [
    ("client_id=x", "text/plain", ""),
    ("client_id=x", "application/x-www-form-urlencoded", "?state=q"),
    ("client_id=%ff", "application/x-www-form-urlencoded", ""),
])
def test_authorization_post_that_cannot_be_read(server: LiveServer, body: str, content_type: str,
                                                query: str) -> None:
    response = httpx.post(server.url + "/oauth/auth" + query, content=body,
                          headers={"content-type": content_type})
    assert response.status_code == 400 and "location" not in response.headers


def test_authorization_post_duplicates_are_judged_like_the_query(server: LiveServer,
                                                                 seeder: Seeder) -> None:
    app = seeder.app(seeder.user("dev"))
    base = "&".join(f"{k}={v}" for k, v in _params(app).items())
    dup_client = httpx.post(server.url + "/oauth/auth", content=base + f"&client_id={app.client_id}",
                            headers={"content-type": "application/x-www-form-urlencoded"})
    assert dup_client.status_code == 400 and "location" not in dup_client.headers
    dup_scope = httpx.post(server.url + "/oauth/auth", content=base + "&scope=maps&scope=account",
                           headers={"content-type": "application/x-www-form-urlencoded"})
    assert redirect_params(dup_scope)["error"] == "invalid_request"


def test_unknown_scopes_are_ignored_and_left_out(server: LiveServer, seeder: Seeder) -> None:
    """OIDC Core §3.1.2.1; the token response's scope says what was granted."""
    app, account = seeder.app(seeder.user("dev")), seeder.user("u")
    with httpx.Client(base_url=server.url, timeout=20) as browser:
        page = authorize(browser, account, _params(app, scope="address account phone"))
    tokens = exchange(server.url, app, redirect_params(page)["code"]).json()
    assert tokens["scope"] == "account"


def test_an_app_without_the_code_grant_is_unauthorized(server: LiveServer, seeder: Seeder) -> None:
    app = seeder.app(seeder.user("dev"), redirect_uris=(REDIRECT,),
                     grant_types=("client_credentials",))
    got = redirect_params(httpx.get(server.url + "/oauth/auth", params=_params(app)))
    assert got["error"] == "unauthorized_client" and got["state"] == "st"


@pytest.mark.parametrize(("extra", "error"), [
    ({"response_type": "token"}, "unsupported_response_type"),
    ({"prompt": "none"}, "login_required"),
    ({"request": "eyJhbGciOiJub25lIn0.e30."}, "request_not_supported"),
])
def test_an_untrusted_app_does_not_redirect_unseen(
    server: LiveServer, seeder: Seeder, extra: dict[str, str], error: str
) -> None:
    """A developer's new app: its errors are shown on our page with a link the person may follow,
    until someone other than its owner has allowed it."""
    developer, user = seeder.user("dev"), seeder.user("u")
    app = seeder.app(developer, redirect_uris=("https://evil.example/landing",), by_operator=False)
    shown = httpx.get(server.url + "/oauth/auth", params=_params(app, **extra))
    assert shown.status_code == 400 and "location" not in shown.headers
    assert "evil.example" in shown.text and f"<code>{error}</code>" in shown.text
    link = shown.text.split('rel="noreferrer"')[0].rsplit('href="', 1)[1].split('"')[0]
    assert link.startswith("https://evil.example/landing?error=" + error)
    with httpx.Client(base_url=server.url, timeout=20) as owner:  # its owner is sent back
        sign_in(owner, developer)
        signed_in_error = "consent_required" if error == "login_required" else error
        answer = owner.get("/oauth/auth", params=_params(app, **extra))
        assert redirect_params(answer)["error"] == signed_in_error
    with httpx.Client(base_url=server.url, timeout=20) as browser:  # someone allows it
        allowed = authorize(browser, user, _params(app))
        assert "code" in redirect_params(allowed)
    trusted = httpx.get(server.url + "/oauth/auth", params=_params(app, **extra))
    assert redirect_params(trusted)["error"] == error


def test_an_owner_allowing_their_own_app_does_not_make_it_trusted(
    server: LiveServer, seeder: Seeder
) -> None:
    developer = seeder.user("dev")
    app = seeder.app(developer, redirect_uris=("https://evil.example/landing",), by_operator=False)
    with httpx.Client(base_url=server.url, timeout=20) as owner:
        assert "code" in redirect_params(authorize(owner, developer, _params(app)))
    shown = httpx.get(server.url + "/oauth/auth", params=_params(app, prompt="none"))
    assert shown.status_code == 400 and "location" not in shown.headers


def test_a_signed_out_browser_holds_its_request_without_a_session(
    server: LiveServer, seeder: Seeder
) -> None:
    """A signed-out browser gets no session row for a parked request (a crawler following an
    app's link leaves none); the request is bound to its form cookie, so another signed-out
    browser with the link cannot take it, and the sign-in carries it to the new session."""
    app, account = seeder.app(seeder.user("dev")), seeder.user("u")
    sessions_before = int(str(seeder.scalar("select count(*) from sessions")))
    with httpx.Client(base_url=server.url, timeout=20) as browser:
        first = browser.get("/oauth/auth", params=_params(app, prompt="login"))
        resume = _next_of(first)
        assert int(str(seeder.scalar("select count(*) from sessions"))) == sessions_before
        with httpx.Client(base_url=server.url, timeout=20) as other:
            taken = other.get(resume)
            assert taken.status_code == 400 and "another browser" in taken.text
            page = other.get(first.headers["location"])  # its sign-in page shows no app either
            assert "Sign in to continue to" not in page.text
        consent = _sign_in_from(browser, account, first)
        assert consent.status_code == 200 and "wants to use your Openplate account" in consent.text
        done = browser.post("/oauth/auth/decision",
                            data={**hidden_fields(consent.text), "decision": "allow"})
        assert "code" in redirect_params(done)  # prompt=login satisfied by that one sign-in
