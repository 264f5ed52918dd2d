"""Basic OP: UserInfo in its three request forms, the scope modules and claims=essential.

Each test is one module of the OpenID Foundation's "Basic OP" plan, named after its test name.
The scope modules read their claims from UserInfo, as OIDC Core §5.4 says for the code flow.
"""

from __future__ import annotations

import json

from tests.conformance.oidf import Browser, Provider, RelyingParty, Request, Tokens
from tests.support.seed import Account


def test_oidcc_userinfo_get(rp: RelyingParty, browser: Browser, account: Account) -> None:
    """oidcc-userinfo-get: GET with the access token in the Authorization header: 200 JSON, valid
    standard claims, a sub equal to the ID token's."""
    _, _, tokens = rp.code_flow(browser, account)
    info = rp.check_userinfo(rp.userinfo(tokens.access_token, "get"), tokens)
    assert info == {"sub": str(account.id)}
    assert rp.warnings == {}


def test_oidcc_userinfo_post_header(rp: RelyingParty, browser: Browser, account: Account) -> None:
    """oidcc-userinfo-post-header: the same with POST and the token in the Authorization header."""
    _, _, tokens = rp.code_flow(browser, account)
    info = rp.check_userinfo(rp.userinfo(tokens.access_token, "post-header"), tokens)
    assert info == {"sub": str(account.id)}


def test_oidcc_userinfo_post_body(rp: RelyingParty, browser: Browser, account: Account) -> None:
    """oidcc-userinfo-post-body: POST with the token as access_token in a form-encoded body
    (RFC 6750 §2.2) and no Authorization header. The OIDF suite only warns when this is refused
    (UserInfoEndpointWithAccessTokenInBodyNotSupported); Openplate is to support it."""
    _, _, tokens = rp.code_flow(browser, account)
    response = rp.userinfo(tokens.access_token, "post-body")
    assert "authorization" not in response.request.headers
    info = rp.check_userinfo(response, tokens)
    assert info == {"sub": str(account.id)}


def _scope_flow(rp: RelyingParty, browser: Browser, account: Account,
                scope: str) -> tuple[Request, Tokens, dict[str, object]]:
    """AbstractOIDCCReturnedClaimsServerTest: the flow with ``scope``, then UserInfo checked."""
    request = rp.request(scope=scope)
    _, _, tokens = rp.code_flow(browser, account, request, expect_pages=("sign-in", "consent"))
    info = rp.check_userinfo(rp.userinfo(tokens.access_token), tokens)
    return request, tokens, info


def _offered(provider: Provider, scope: str) -> bool:
    """OIDCCCheckScopesSupportedContainScopeTest: the OIDF suite skips a scope module when
    discovery's scopes_supported lacks one of its scopes."""
    return set(scope.split()) <= set(provider.meta["scopes_supported"])


def test_oidcc_scope_profile(rp: RelyingParty, provider: Provider, browser: Browser,
                             account: Account) -> None:
    """oidcc-scope-profile: scope "openid profile" releases the profile claims Openplate has
    (preferred_username, name). The suite warns that the other profile claims of OIDC Core §5.4
    (given_name, picture, updated_at, ...) are missing (VerifyScopesReturnedInUserInfoClaims):
    Openplate keeps no such data."""
    assert _offered(provider, "openid profile")
    request, _, info = _scope_flow(rp, browser, account, "openid profile")
    assert info == {"sub": str(account.id), "preferred_username": account.username,
                    "name": account.username}
    rp.scope_claim_warnings(info, request)
    assert set(rp.warnings) == {"VerifyScopesReturnedInUserInfoClaims"}


def test_oidcc_scope_email(rp: RelyingParty, provider: Provider, browser: Browser,
                           account: Account) -> None:
    """oidcc-scope-email: scope "openid email" releases email and email_verified in UserInfo.
    Openplate also puts them in the ID token (docs/api.md), which the suite warns about
    (EnsureIdTokenDoesNotContainEmailForScopeEmail)."""
    assert _offered(provider, "openid email")
    request, tokens, _ = _scope_flow(rp, browser, account, "openid email")
    info = rp.check_email_scope(tokens, request)
    assert info == {"sub": str(account.id), "email": account.email, "email_verified": False}
    assert set(rp.warnings) == {"EnsureIdTokenDoesNotContainEmailForScopeEmail"}


def _unoffered_scope(rp: RelyingParty, provider: Provider, browser: Browser, account: Account,
                     scope: str) -> None:
    """A scope discovery does not offer: the OIDF suite skips the module; Openplate ignores the
    scope (OIDC Core §3.1.2.1), grants the rest and releases no claims for it."""
    assert not _offered(provider, scope)
    _, tokens, info = _scope_flow(rp, browser, account, scope)
    assert tokens.body["scope"] == "openid"
    assert info == {"sub": str(account.id)}
    assert not set(tokens.id_claims) & {"address", "phone_number", "phone_number_verified"}


def test_oidcc_scope_address(rp: RelyingParty, provider: Provider, browser: Browser,
                             account: Account) -> None:
    """oidcc-scope-address: skipped by the OIDF suite, since discovery does not offer "address"
    (Openplate keeps no postal address). Checked here: the request still succeeds, the scope is
    left out of what is granted and no address claim is released."""
    _unoffered_scope(rp, provider, browser, account, "openid address")


def test_oidcc_scope_phone(rp: RelyingParty, provider: Provider, browser: Browser,
                           account: Account) -> None:
    """oidcc-scope-phone: skipped by the OIDF suite ("phone" is not offered); checked like
    oidcc-scope-address."""
    _unoffered_scope(rp, provider, browser, account, "openid phone")


def test_oidcc_scope_all(rp: RelyingParty, provider: Provider, browser: Browser,
                         account: Account) -> None:
    """oidcc-scope-all: "openid email phone address profile". Skipped by the OIDF suite (phone
    and address are not offered). Checked here: the offered scopes are granted and their claims
    released, the others ignored."""
    scope = "openid email phone address profile"
    assert not _offered(provider, scope)
    _, tokens, info = _scope_flow(rp, browser, account, scope)
    assert set(tokens.body["scope"].split()) == {"openid", "email", "profile"}
    assert info == {"sub": str(account.id), "preferred_username": account.username,
                    "name": account.username, "email": account.email, "email_verified": False}


def test_oidcc_claims_essential(rp: RelyingParty, provider: Provider, browser: Browser,
                                account: Account) -> None:
    """oidcc-claims-essential: claims={"userinfo":{"name":{"essential":true}}} with scope openid
    must succeed. Discovery says claims_parameter_supported is false, so the parameter is
    ignored; the suite warns that UserInfo then has no name (EnsureUserInfoContainsName). The ID
    token must not carry the name (EnsureIdTokenDoesNotContainName)."""
    assert provider.meta["claims_parameter_supported"] is False
    claims = json.dumps({"userinfo": {"name": {"essential": True}}}, separators=(",", ":"))
    request = rp.request(claims=claims)
    _, _, tokens = rp.code_flow(browser, account, request, expect_pages=("sign-in", "consent"))
    info = rp.check_userinfo(rp.userinfo(tokens.access_token), tokens)
    rp.scope_claim_warnings(info, request)
    if "name" not in info:
        rp.warn("EnsureUserInfoContainsName", "UserInfo has no name")
    assert "name" not in tokens.id_claims
    assert set(rp.warnings) == {"EnsureUserInfoContainsName"}
