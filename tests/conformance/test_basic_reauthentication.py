"""Basic OP: prompt, max_age and id_token_hint, which decide whether the person signs in again.

Each test is one module of the OpenID Foundation's "Basic OP" plan, named after its test name.
Where a module waits (one second before prompt=login, two before max_age=1), the test moves the
first sign-in into the past in the database instead (``sign_in_earlier``): no test waits for a
clock, and the ID tokens' auth_time still tell the sign-ins apart.
"""

from __future__ import annotations

import time

from tests.conformance.oidf import Browser, RelyingParty, Tokens, sign_in_earlier
from tests.support.seed import Account, Seeder

#: CheckErrorFromAuthorizationEndpointIsOneThatRequiredAUserInterface (OIDC Core §3.1.2.6).
NEEDS_THE_USER = {"interaction_required", "login_required", "account_selection_required",
                  "consent_required"}


def _first_sign_in(rp: RelyingParty, seeder: Seeder, browser: Browser, account: Account, *,
                   earlier_by: int = 0, **extra: str) -> Tokens:
    """The first authorisation of a two-part module: sign in, allow, redeem; the sign-in moved
    ``earlier_by`` seconds into the past before the code is redeemed."""
    request = rp.request(params=extra)
    outcome = browser.authorize(request.url, account)
    assert outcome.pages == ["sign-in", "consent"]
    if earlier_by:
        sign_in_earlier(seeder, browser, rp.check_callback(outcome, request), earlier_by)
    return rp.redeem(outcome, request)


def _same_authentication(first: Tokens, second: Tokens) -> None:
    """CheckIdTokenAuthTimeClaimsSameIfPresent and CheckIdTokenSubConsistentForSecondAuthorization."""
    assert second.id_claims["sub"] == first.id_claims["sub"]
    assert second.id_claims["auth_time"] == first.id_claims["auth_time"]


def test_oidcc_prompt_login(rp: RelyingParty, seeder: Seeder, browser: Browser,
                            account: Account) -> None:
    """oidcc-prompt-login: a second request with prompt=login makes the signed-in person sign in
    again (the sign-in page is shown, not skipped), and the second ID token's auth_time is later
    than the first's (CheckSecondIdTokenAuthTimeIsLaterIfPresent)."""
    first = _first_sign_in(rp, seeder, browser, account, earlier_by=10)
    request = rp.request(prompt="login")
    outcome = browser.authorize(request.url, account)
    assert outcome.pages == ["sign-in"]  # consent is remembered; the sign-in is not skipped
    second = rp.redeem(outcome, request)
    assert second.id_claims["sub"] == first.id_claims["sub"]
    assert second.id_claims["auth_time"] > first.id_claims["auth_time"]
    assert rp.warnings == {}


def test_oidcc_prompt_none_not_logged_in(rp: RelyingParty, browser: Browser) -> None:
    """oidcc-prompt-none-not-logged-in: prompt=none from a browser nobody signed in with shows
    no page and goes back to the client with an error that needs the user (here
    login_required), the 128-character state (ending in -._~) returned unchanged, iss, no code
    and nothing unexpected."""
    request = rp.request(prompt="none", state_length=128)
    assert request.state is not None and len(request.state) == 128
    outcome = browser.authorize(request.url, None)
    assert outcome.pages == []
    got = rp.check_error_callback(outcome, request, NEEDS_THE_USER)
    assert got["error"] == "login_required"
    assert rp.warnings == {}


def test_oidcc_prompt_none_logged_in(rp: RelyingParty, seeder: Seeder, browser: Browser,
                                     account: Account) -> None:
    """oidcc-prompt-none-logged-in: signed in, and the app allowed before, a second request with
    prompt=none gets a code at once; the second ID token has the same sub and auth_time."""
    first = _first_sign_in(rp, seeder, browser, account)
    request = rp.request(prompt="none")
    outcome = browser.authorize(request.url, None)
    assert outcome.pages == []
    _same_authentication(first, rp.redeem(outcome, request))


def test_oidcc_max_age_1(rp: RelyingParty, seeder: Seeder, browser: Browser,
                         account: Account) -> None:
    """oidcc-max-age-1: once the sign-in is older than a second, a request with max_age=1 makes
    the person sign in again; the second ID token must carry auth_time
    (CheckIdTokenAuthTimeClaimPresentDueToMaxAge), later than the first's and recent
    (CheckIdTokenAuthTimeIsRecentIfPresent)."""
    first = _first_sign_in(rp, seeder, browser, account, earlier_by=5)
    request = rp.request(max_age="1")
    asked_at = int(time.time())
    outcome = browser.authorize(request.url, account)
    assert outcome.pages == ["sign-in"]
    second = rp.redeem(outcome, request)
    auth_time = second.id_claims.get("auth_time")
    assert isinstance(auth_time, int)
    assert auth_time > first.id_claims["auth_time"]
    assert asked_at <= auth_time <= time.time()  # the sign-in this request asked for
    assert rp.warnings == {}


def test_oidcc_max_age_10000(rp: RelyingParty, seeder: Seeder, browser: Browser,
                             account: Account) -> None:
    """oidcc-max-age-10000: a first request with max_age=15000 (so auth_time is required), then,
    with the sign-in 9000 s old, max_age=10000: no page, and the same sub and auth_time. (A
    max_age below the sign-in's age would ask again, which shows the age is real.)"""
    first = _first_sign_in(rp, seeder, browser, account, earlier_by=9000, max_age="15000")
    assert "auth_time" in first.id_claims
    request = rp.request(max_age="10000")
    outcome = browser.authorize(request.url, None)
    assert outcome.pages == []
    second = rp.redeem(outcome, request)
    assert "auth_time" in second.id_claims
    _same_authentication(first, second)
    shorter = browser.authorize(rp.request(max_age="8999").url, None)
    assert shorter.pages == ["sign-in"]


def test_oidcc_id_token_hint(rp: RelyingParty, seeder: Seeder, browser: Browser,
                             account: Account) -> None:
    """oidcc-id-token-hint: the second request has prompt=none and id_token_hint set to the first
    ID token; it is accepted and answered at once, with the same sub and auth_time."""
    first = _first_sign_in(rp, seeder, browser, account)
    request = rp.request(prompt="none", id_token_hint=first.id_token)
    outcome = browser.authorize(request.url, None)
    assert outcome.pages == []
    _same_authentication(first, rp.redeem(outcome, request))
