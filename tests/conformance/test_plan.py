"""The certification plans, module by module: each has its test here and its row in
docs/conformance.md, and the table names only tests that exist, with their true status."""

from __future__ import annotations

import ast
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
DOC = HERE.parents[1] / "docs" / "conformance.md"

#: OIDCCBasicTestPlan ("Basic OP"), OIDCCConfigTestPlan ("Config OP") and OIDCCDynamicTestPlan
#: ("Dynamic OP", oidcc-dynamic-certification-test-plan) of the OpenID Foundation's conformance
#: suite: module class and published test name, in the plans' order. A module in several plans
#: has one row naming them all.
PLANS: dict[str, tuple[tuple[str, str], ...]] = {
    "Basic OP": (
        ("OIDCCServerTest", "oidcc-server"),
        ("OIDCCResponseTypeMissing", "oidcc-response-type-missing"),
        ("OIDCCIdTokenSignature", "oidcc-idtoken-signature"),
        ("OIDCCIdTokenUnsigned", "oidcc-idtoken-unsigned"),
        ("OIDCCUserInfoGet", "oidcc-userinfo-get"),
        ("OIDCCUserInfoPostHeader", "oidcc-userinfo-post-header"),
        ("OIDCCUserInfoPostBody", "oidcc-userinfo-post-body"),
        ("OIDCCEnsureRequestWithoutNonceSucceedsForCodeFlow",
         "oidcc-ensure-request-without-nonce-succeeds-for-code-flow"),
        ("OIDCCScopeProfile", "oidcc-scope-profile"),
        ("OIDCCScopeEmail", "oidcc-scope-email"),
        ("OIDCCScopeAddress", "oidcc-scope-address"),
        ("OIDCCScopePhone", "oidcc-scope-phone"),
        ("OIDCCScopeAll", "oidcc-scope-all"),
        ("OIDCCAlternateHappyFlow", "oidcc-alternate-happy-flow"),
        ("OIDCCDisplayPage", "oidcc-display-page"),
        ("OIDCCDisplayPopup", "oidcc-display-popup"),
        ("OIDCCPromptLogin", "oidcc-prompt-login"),
        ("OIDCCPromptNoneNotLoggedIn", "oidcc-prompt-none-not-logged-in"),
        ("OIDCCPromptNoneLoggedIn", "oidcc-prompt-none-logged-in"),
        ("OIDCCMaxAge1", "oidcc-max-age-1"),
        ("OIDCCMaxAge10000", "oidcc-max-age-10000"),
        ("OIDCCEnsureRequestWithUnknownParameterSucceeds",
         "oidcc-ensure-request-with-unknown-parameter-succeeds"),
        ("OIDCCIdTokenHint", "oidcc-id-token-hint"),
        ("OIDCCLoginHint", "oidcc-login-hint"),
        ("OIDCCUiLocales", "oidcc-ui-locales"),
        ("OIDCCClaimsLocales", "oidcc-claims-locales"),
        ("OIDCCEnsureRequestWithAcrValuesSucceeds", "oidcc-ensure-request-with-acr-values-succeeds"),
        ("OIDCCAuthCodeReuse", "oidcc-codereuse"),
        ("OIDCCAuthCodeReuseAfter30Seconds", "oidcc-codereuse-30seconds"),
        ("OIDCCEnsureRegisteredRedirectUri", "oidcc-ensure-registered-redirect-uri"),
        ("OIDCCEnsurePostRequestSucceeds", "oidcc-ensure-post-request-succeeds"),
        ("OIDCCServerTestClientSecretPost", "oidcc-server-client-secret-post"),
        ("OIDCCRequestUriUnsignedSupportedCorrectlyOrRejectedAsUnsupported",
         "oidcc-request-uri-unsigned-supported-correctly-or-rejected-as-unsupported"),
        ("OIDCCUnsignedRequestObjectSupportedCorrectlyOrRejectedAsUnsupported",
         "oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported"),
        ("OIDCCClaimsEssential", "oidcc-claims-essential"),
        ("OIDCCEnsureRequestObjectWithRedirectUri", "oidcc-ensure-request-object-with-redirect-uri"),
        ("OIDCCRefreshToken", "oidcc-refresh-token"),
        ("OIDCCEnsureRequestWithValidPkceSucceeds", "oidcc-ensure-request-with-valid-pkce-succeeds"),
    ),
    "Config OP": (
        ("OIDCCDiscoveryEndpointVerification", "oidcc-discovery-endpoint-verification"),
    ),
    "Dynamic OP": (
        ("OIDCCIdTokenRS256", "oidcc-idtoken-rs256"),
        ("OIDCCIdTokenUnsigned", "oidcc-idtoken-unsigned"),
        ("OIDCCUserInfoRS256", "oidcc-userinfo-rs256"),
        ("OIDCCEnsureRedirectUriInAuthorizationRequest",
         "oidcc-ensure-redirect-uri-in-authorization-request"),
        ("OIDCCRedirectUriQueryOK", "oidcc-redirect-uri-query-OK"),
        ("OIDCCRedirectUriQueryMismatch", "oidcc-redirect-uri-query-mismatch"),
        ("OIDCCRedirectUriQueryAdded", "oidcc-redirect-uri-query-added"),
        ("OIDCCRedirectUriRegFrag", "oidcc-redirect-uri-regfrag"),
        ("OIDCCDiscoveryEndpointVerification", "oidcc-discovery-endpoint-verification"),
        ("OIDCCServerTest", "oidcc-server"),
        ("OIDCCRegistrationLogoUri", "oidcc-registration-logo-uri"),
        ("OIDCCRegistrationPolicyUri", "oidcc-registration-policy-uri"),
        ("OIDCCRegistrationTosUri", "oidcc-registration-tos-uri"),
        ("OIDCCRegistrationJwksUri", "oidcc-registration-jwks-uri"),
        ("OIDCCRegistrationSectorUri", "oidcc-registration-sector-uri"),
        ("OIDCCRegistrationSectorBad", "oidcc-registration-sector-bad"),
        ("OIDCCServerRotateKeys", "oidcc-server-rotate-keys"),
        ("OIDCCRefreshTokenRPKeyRotation", "oidcc-refresh-token-rp-key-rotation"),
        ("OIDCCRequestUriUnsigned", "oidcc-request-uri-unsigned"),
        ("OIDCCRequestUriSignedRS256", "oidcc-request-uri-signed-rs256"),
        ("OIDCCEnsureRequestObjectWithRedirectUri", "oidcc-ensure-request-object-with-redirect-uri"),
        ("OIDCCRefreshToken", "oidcc-refresh-token"),
        ("OIDCCEnsureClientAssertionWithIssAudSucceeds",
         "oidcc-ensure-client-assertion-with-iss-aud-succeeds"),
    ),
    # OIDCCRpInitiatedLogoutTestPlan, and two modules of its earlier versions (bad hint, query
    # added to the URI) that the suite still publishes.
    "RP-Initiated Logout OP": (
        ("OIDCCRpInitiatedLogoutDiscoveryEndpointVerification",
         "oidcc-rp-initiated-logout-discovery-endpoint-verification"),
        ("OIDCCRpInitiatedLogout", "oidcc-rp-initiated-logout"),
        ("OIDCCRpInitiatedLogoutBadLogoutRedirectUri",
         "oidcc-rp-initiated-logout-bad-post-logout-redirect-uri"),
        ("OIDCCRpInitiatedLogoutModifiedIdTokenHint",
         "oidcc-rp-initiated-logout-modified-id-token-hint"),
        ("OIDCCRpInitiatedLogoutNoIdTokenHint", "oidcc-rp-initiated-logout-no-id-token-hint"),
        ("OIDCCRpInitiatedLogoutNoParams", "oidcc-rp-initiated-logout-no-params"),
        ("OIDCCRpInitiatedLogoutNoPostLogoutRedirectUri",
         "oidcc-rp-initiated-logout-no-post-logout-redirect-uri"),
        ("OIDCCRpInitiatedLogoutNoState", "oidcc-rp-initiated-logout-no-state"),
        ("OIDCCRpInitiatedLogoutOnlyState", "oidcc-rp-initiated-logout-only-state"),
        ("OIDCCRpInitiatedLogoutBadIdTokenHint", "oidcc-rp-initiated-logout-bad-id-token-hint"),
        ("OIDCCRpInitiatedLogoutQueryAddedToLogoutRedirectUri",
         "oidcc-rp-initiated-logout-query-added-to-post-logout-redirect-uri"),
    ),
    # OIDCCBackchannelRpInitiatedLogoutTestPlan ("Back-Channel OP").
    "Back-Channel OP": (
        ("OIDCCBackchannelLogoutDiscoveryEndpointVerification",
         "oidcc-backchannel-logout-discovery-endpoint-verification"),
        ("OIDCCBackChannelRpInitiatedLogout", "oidcc-backchannel-rp-initiated-logout"),
    ),
}


def _tests_here() -> dict[str, bool]:
    """Every test function of this folder, and whether it is marked xfail."""
    found: dict[str, bool] = {}
    for path in HERE.glob("test_*.py"):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                found[node.name] = any("xfail" in ast.unparse(d) for d in node.decorator_list)
    return found


def _doc_rows() -> list[list[str]]:
    rows = []
    for line in DOC.read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("| `oidcc-") and len(cells) >= 4:
            rows.append(cells)
    return rows


def test_every_module_has_its_test_and_its_row() -> None:
    tests, rows = _tests_here(), _doc_rows()
    by_name = {re.sub(r"[`]", "", row[0]): row for row in rows}
    for plan, modules in PLANS.items():
        for cls, name in modules:
            test = "test_" + name.replace("-", "_")
            assert test in tests, f"{plan} module {cls} ({name}) has no {test}"
            assert name in by_name, f"docs/conformance.md has no row for {name}"
            row = by_name[name]
            assert cls in row[1] and plan in row[1], (name, row)
            assert f"`{test}`" in row[2], (name, row)


def test_the_table_is_true_to_the_tests() -> None:
    tests = _tests_here()
    for row in _doc_rows():
        named = re.findall(r"`(test_\w+)`", row[2])
        assert named, row
        for test in named:
            assert test in tests, f"docs/conformance.md names {test}, which does not exist"
        marked = [tests[test] for test in named]
        if all(marked):
            assert row[3].startswith("xfail"), (row[0], row[3])
        elif any(marked):  # a module that passes one way and fails another says both
            assert row[3].startswith(("pass", "xfail")), (row[0], row[3])
            assert "pass" in row[3] and "xfail" in row[3], (row[0], row[3])
        else:
            assert row[3].startswith("pass") and "xfail" not in row[3], (row[0], row[3])
