"""Basic OP: the token endpoint after the first redemption (code reuse, refresh tokens).

Each test is one module of the OpenID Foundation's "Basic OP" plan, named after its test name.
"Code reuse after 30 seconds" moves the redemption 30 s into the past in the database instead
of waiting for it.
"""

from __future__ import annotations

import time

import httpx

from tests.conformance.oidf import (
    REDIRECT_URI,
    Browser,
    Provider,
    RelyingParty,
    Tokens,
    age_redeemed_code,
    ensure_json_error,
)
from tests.support.seed import Account, App, Seeder
from tests.support.waiting import wait_until


def _revoked(rp: RelyingParty, tokens: Tokens) -> None:
    """What the first redemption issued is dead (RFC 6749 §4.1.2: "SHOULD revoke ... all tokens
    previously issued based on that authorization code"): UserInfo answers 401 invalid_token
    (EnsureHttpStatusCodeIs4xx), the refresh token invalid_grant."""
    info = rp.userinfo(tokens.access_token)
    assert info.status_code == 401, info.text
    assert 'error="invalid_token"' in info.headers["www-authenticate"]
    refreshed = rp.token_request(grant_type="refresh_token", refresh_token=tokens.body["refresh_token"])
    ensure_json_error(refreshed, status=400, error="invalid_grant")


def test_oidcc_codereuse(rp: RelyingParty, browser: Browser, account: Account) -> None:
    """oidcc-codereuse: the code redeemed a second time, at once, is refused with a JSON
    invalid_grant (400) whose error fields use only the allowed characters (a success would be a
    warning); Openplate also revokes the tokens the first redemption gave."""
    _, outcome, tokens = rp.code_flow(browser, account)
    again = rp.token_request(grant_type="authorization_code", code=outcome.callback()["code"],
                             redirect_uri=REDIRECT_URI)
    ensure_json_error(again, status=400, error="invalid_grant")
    _revoked(rp, tokens)
    assert rp.warnings == {}


def test_oidcc_codereuse_30seconds(rp: RelyingParty, seeder: Seeder, browser: Browser,
                                   account: Account) -> None:
    """oidcc-codereuse-30seconds: 30 s after the first redemption the code is still refused
    (invalid_grant), and the access token it gave no longer works at UserInfo (nor its refresh
    token)."""
    _, outcome, tokens = rp.code_flow(browser, account)
    code = outcome.callback()["code"]
    assert rp.userinfo(tokens.access_token).status_code == 200
    age_redeemed_code(seeder, code, 30)
    again = rp.token_request(grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI)
    ensure_json_error(again, status=400, error="invalid_grant")
    _revoked(rp, tokens)


def _once_the_clock_passes(second: int) -> None:
    """Wait for a condition, not a time: until the clock reads a later second than ``second``."""
    wait_until(lambda: int(time.time()) > second, f"the clock to pass the second {second}",
               poll=0.02)


def test_oidcc_refresh_token(provider: Provider, app: App, seeder: Seeder, browser: Browser,
                             account: Account) -> None:
    """oidcc-refresh-token: the refresh token (issued without offline_access, which discovery
    does not offer) refreshes with scope=openid: a no-store Bearer answer, new unguessable tokens,
    and a new ID token whose iss, sub, aud and auth_time are the first's, its iat later and no
    azp (CompareIdTokenClaims); the new access token works. A second client's refresh token
    presented by the first client is refused with invalid_grant."""
    assert "offline_access" not in provider.meta["scopes_supported"]
    assert "refresh_token" in provider.meta["grant_types_supported"]
    rp = RelyingParty(provider, app)
    _, _, first = rp.code_flow(browser, account)
    refresh_token = first.body["refresh_token"]
    _once_the_clock_passes(first.id_claims["iat"])  # the module waits a second for a new iat
    second = rp.refresh(refresh_token, scope="openid")
    assert dict(httpx.QueryParams(second.sent.content.decode()))["scope"] == "openid"
    assert second.access_token != first.access_token
    assert second.body["refresh_token"] != refresh_token
    rp.check_id_token(second, None)
    old, new = first.id_claims, second.id_claims
    for claim in ("iss", "sub", "aud", "auth_time"):
        assert new[claim] == old[claim], claim
    assert new["iat"] > old["iat"]
    assert "azp" not in old and "azp" not in new
    rp.check_userinfo(rp.userinfo(second.access_token), second)
    # The second client, same browser and person (signed in already: only the consent page).
    other = RelyingParty(provider, seeder.app(seeder.user("rp2dev"), redirect_uris=(REDIRECT_URI,),
                                              name="OIDF RP 2"))
    _, _, theirs = other.code_flow(browser, account, expect_pages=("consent",))
    stolen = rp.token_request(grant_type="refresh_token", refresh_token=theirs.body["refresh_token"],
                              scope="openid")
    ensure_json_error(stolen, status=400, error="invalid_grant")
    assert rp.warnings == {} and other.warnings == {}
