"""Basic OP: the happy code flows, with the request parameters a provider must accept.

Each test is one module of the OpenID Foundation's "Basic OP" certification plan
(OIDCCBasicTestPlan), named after the module's test name; docs/conformance.md lists them all.
"""

from __future__ import annotations

import json
import subprocess
import sys
from urllib.parse import parse_qsl

from joserfc import jwt
from joserfc.errors import BadSignatureError
from joserfc.jwk import import_key

from tests.conformance.oidf import REDIRECT_URI, Browser, Provider, RelyingParty, ensure_json_error
from tests.support.seed import Account, App, Seeder
from tests.support.server import LiveServer


def test_oidcc_server(rp: RelyingParty, browser: Browser, account: Account) -> None:
    """oidcc-server (OIDCCServerTest): the code flow with client_secret_basic. The callback
    keeps the redirect URI's query and carries state and iss; the code is long and random; the
    token answer is JSON, no-store, Bearer, with a sane expires_in; the ID token passes every
    standard check (iss, aud, azp, exp, iat, auth_time, nonce, sub, at_hash, the signature with
    the key its kid names); UserInfo answers the access token."""
    request, outcome, tokens = rp.code_flow(browser, account, expect_pages=("sign-in", "consent"))
    # The client authenticated with HTTP Basic, and only so (client_secret_basic).
    assert tokens.sent.headers["authorization"].startswith("Basic ")
    form = dict(parse_qsl(tokens.sent.content.decode()))
    assert "client_secret" not in form and form["grant_type"] == "authorization_code"
    assert tokens.id_claims["sub"] == str(account.id)
    assert "auth_time" in tokens.id_claims
    rp.id_token_claim_warnings(tokens, request)
    rp.check_userinfo(rp.userinfo(tokens.access_token), tokens)  # requestProtectedResource
    assert rp.warnings == {}


def test_oidcc_server_client_secret_post(provider: Provider, app: App, browser: Browser,
                                         account: Account) -> None:
    """oidcc-server-client-secret-post (OIDCCServerTestClientSecretPost): the same flow with the
    client's credentials in the token request's body (client_secret_post), which discovery
    offers."""
    assert "client_secret_post" in provider.meta["token_endpoint_auth_methods_supported"]
    rp = RelyingParty(provider, app, auth="client_secret_post")
    request, _, tokens = rp.code_flow(browser, account)
    assert "authorization" not in tokens.sent.headers
    form = dict(parse_qsl(tokens.sent.content.decode()))
    assert form["client_id"] == app.client_id and form["client_secret"] == app.client_secret
    rp.id_token_claim_warnings(tokens, request)
    rp.check_userinfo(rp.userinfo(tokens.access_token), tokens)
    assert rp.warnings == {}


def test_oidcc_idtoken_signature(rp: RelyingParty, provider: Provider, browser: Browser,
                                 account: Account) -> None:
    """oidcc-idtoken-signature (OIDCCIdTokenSignature): a client that names no algorithm gets
    RS256 ID tokens with a kid (EnsureIdTokenContainsKid, EnsureIdTokenSignatureIsRS256), and the
    signature checks with exactly the published key that kid names. The OIDF suite runs this
    module for dynamically registered clients only; here the client is the operator's."""
    _, _, tokens = rp.code_flow(browser, account)
    assert tokens.id_header["alg"] == "RS256" and tokens.id_header["kid"]
    # The kid matters: no other published key verifies this token.
    others = [key for key in provider.jwks["keys"] if key["kid"] != tokens.id_header["kid"]]
    assert others, "the JWKS should also publish the next key"
    for key in others:
        if key["kty"] != "RSA":
            continue
        try:
            jwt.decode(tokens.id_token, import_key(key), algorithms=["RS256"])
        except BadSignatureError:
            continue
        raise AssertionError(f"the key {key['kid']} also verifies the ID token")
    assert rp.warnings == {}


def test_oidcc_idtoken_unsigned(rp: RelyingParty, provider: Provider, browser: Browser,
                                account: Account) -> None:
    """oidcc-idtoken-unsigned (OIDCCIdTokenUnsigned): a provider need not offer unsigned ID
    tokens; the OIDF suite skips the module when discovery's id_token_signing_alg_values_supported
    lacks "none". It does, and no ID token is unsigned (the registration half is
    test_oidcc_idtoken_unsigned_is_refused_at_registration)."""
    assert "none" not in provider.meta["id_token_signing_alg_values_supported"]
    _, _, tokens = rp.code_flow(browser, account)
    assert tokens.id_header["alg"] != "none" and tokens.id_token.split(".")[2]


def _app_create(server: LiveServer, owner: Account, *flags: str) -> subprocess.CompletedProcess[str]:
    """`openplate app create`, as the operator runs it on the server's machine."""
    return subprocess.run(
        [sys.executable, "-m", "openplate.cli", "app", "create", "--owner", owner.username,
         "--name", "OIDF RP alg", "--redirect-uri", REDIRECT_URI, "--json", *flags],
        env=server.env, cwd=server.folder, capture_output=True, text=True, timeout=120)


def test_oidcc_idtoken_unsigned_is_refused_at_registration(
    server: LiveServer, provider: Provider, seeder: Seeder, browser: Browser, account: Account
) -> None:
    """oidcc-idtoken-unsigned, the registration half: the module registers
    id_token_signed_response_alg=none and then expects ID tokens signed so
    (CheckIdTokenSignatureAlgorithm). A provider that does not offer none refuses that
    registration and honours the algorithms it offers: `app create --id-token-alg none` fails,
    `--id-token-alg ES256` gives a client whose ID tokens are ES256, under the kid of a published
    ES256 key."""
    owner = seeder.user("algdev")
    refused = _app_create(server, owner, "--id-token-alg", "none")
    assert refused.returncode != 0 and "none" in refused.stderr, refused.stderr
    created = _app_create(server, owner, "--id-token-alg", "ES256")
    assert created.returncode == 0, created.stderr
    registered = json.loads(created.stdout)
    assert registered["id_token_alg"] == "ES256"
    assert "ES256" in provider.meta["id_token_signing_alg_values_supported"]
    app = App(registered["client_id"], registered["client_secret"],
              tuple(registered["redirect_uris"]), registered["name"])
    rp = RelyingParty(Provider.discover(server.url), app, signing_alg="ES256")
    _, _, tokens = rp.code_flow(browser, account)
    assert tokens.id_header["alg"] == "ES256"


def test_oidcc_ensure_request_without_nonce_succeeds_for_code_flow(
    rp: RelyingParty, browser: Browser, account: Account
) -> None:
    """oidcc-ensure-request-without-nonce-succeeds-for-code-flow: the code flow needs no nonce;
    the code comes, and the ID token then carries no nonce (ValidateIdTokenNonce)."""
    request = rp.request(nonce=False)
    assert request.get("nonce") is None
    _, _, tokens = rp.code_flow(browser, account, request)
    assert "nonce" not in tokens.id_claims


def test_oidcc_ensure_request_with_unknown_parameter_succeeds(
    rp: RelyingParty, browser: Browser, account: Account
) -> None:
    """oidcc-ensure-request-with-unknown-parameter-succeeds: extra=foobar is ignored
    (RFC 6749 §3.1: "The authorization server MUST ignore unrecognized request parameters")."""
    request = rp.request(extra="foobar")
    _, outcome, _ = rp.code_flow(browser, account, request, expect_pages=("sign-in", "consent"))
    assert "foobar" not in (outcome.location or "")


def _plain_sign_in_page(rp: RelyingParty, browser: Browser, account: Account, **extra: str) -> str:
    """A request with ``extra`` that must change nothing: the normal sign-in and consent pages,
    then a code and tokens. Returns the sign-in page."""
    request = rp.request(params=extra)
    _, outcome, _ = rp.code_flow(browser, account, request, expect_pages=("sign-in", "consent"))
    return outcome.page_texts["sign-in"]


def test_oidcc_display_page(rp: RelyingParty, browser: Browser, account: Account) -> None:
    """oidcc-display-page: display=page (OIDC Core §3.1.2.1, §15.1) must not cause an error; the
    usual full-page sign-in is shown."""
    page = _plain_sign_in_page(rp, browser, account, display="page")
    assert "<html" in page and 'name="login"' in page


def test_oidcc_display_popup(rp: RelyingParty, browser: Browser, account: Account) -> None:
    """oidcc-display-popup: display=popup must not cause an error either."""
    page = _plain_sign_in_page(rp, browser, account, display="popup")
    assert "<html" in page and 'name="login"' in page


def test_oidcc_login_hint(rp: RelyingParty, browser: Browser, account: Account) -> None:
    """oidcc-login-hint: a login_hint (here the person's e-mail, as the module's configuration
    may name one) must not cause an error; Openplate pre-fills the sign-in form with it."""
    page = _plain_sign_in_page(rp, browser, account, login_hint=account.email)
    assert f'name="login" value="{account.email}"' in page


def test_oidcc_ui_locales(rp: RelyingParty, browser: Browser, account: Account) -> None:
    """oidcc-ui-locales: ui_locales=se (the module's default) must not cause an error; pages
    stay in the one language Openplate has."""
    page = _plain_sign_in_page(rp, browser, account, ui_locales="se")
    assert '<html lang="en">' in page


def test_oidcc_claims_locales(rp: RelyingParty, browser: Browser, account: Account) -> None:
    """oidcc-claims-locales: claims_locales=se must not cause an error (OIDC Core §5.2, §15.1)."""
    _plain_sign_in_page(rp, browser, account, claims_locales="se")


def test_oidcc_ensure_request_with_acr_values_succeeds(
    rp: RelyingParty, provider: Provider, browser: Browser, account: Account
) -> None:
    """oidcc-ensure-request-with-acr-values-succeeds: acr_values (discovery's
    acr_values_supported, or "1 2" when it names none) must not cause an error, and the ID token
    SHOULD then name one of them in acr. Openplate offers urn:openplate:acr:pwd and
    urn:openplate:acr:mfa; this account has no second factor, so it signs in with the password
    and the ID token says urn:openplate:acr:pwd: no warning."""
    requested = " ".join(provider.meta.get("acr_values_supported", [])) or "1 2"
    assert requested == "urn:openplate:acr:pwd urn:openplate:acr:mfa"
    request = rp.request(acr_values=requested)
    _, _, tokens = rp.code_flow(browser, account, request, expect_pages=("sign-in", "consent"))
    acr = tokens.id_claims.get("acr")
    if acr not in requested.split():
        rp.warn("ValidateIdTokenACRClaimAgainstAcrValuesRequest", f"acr is {acr!r}")
    assert acr == "urn:openplate:acr:pwd" and tokens.id_claims.get("amr") == ["pwd"]
    assert rp.warnings == {}


def test_oidcc_ensure_request_with_valid_pkce_succeeds(
    rp: RelyingParty, provider: Provider, browser: Browser, account: Account
) -> None:
    """oidcc-ensure-request-with-valid-pkce-succeeds: a confidential client that also sends PKCE
    (S256, a 128-character verifier) gets its tokens; the verifier is checked, so the code
    without it is refused."""
    assert "S256" in provider.meta["code_challenge_methods_supported"]
    request = rp.request(pkce=True)
    assert request.get("code_challenge_method") == "S256" and request.code_verifier
    outcome = browser.authorize(request.url, account)
    tokens = rp.redeem(outcome, request)
    assert dict(parse_qsl(tokens.sent.content.decode()))["code_verifier"] == request.code_verifier
    # The same flow again, redeemed without the verifier: refused (RFC 7636 §4.6).
    again = rp.request(pkce=True)
    code = rp.check_callback(browser.authorize(again.url, account), again)
    refused = rp.token_request(grant_type="authorization_code", code=code,
                               redirect_uri=rp.app.redirect_uris[0])
    ensure_json_error(refused, status=400, error="invalid_grant")


def test_oidcc_ensure_post_request_succeeds(rp: RelyingParty, browser: Browser,
                                            account: Account) -> None:
    """oidcc-ensure-post-request-succeeds: the authorisation request POSTed as a form from the
    client's site (OIDC Core §3.1.2.1: GET and POST) completes like a GET, and the redirect URI is
    called."""
    request = rp.request()
    endpoint = rp.provider.meta["authorization_endpoint"]
    outcome = browser.authorize(endpoint, account, form=dict(request.params))
    assert outcome.pages == ["sign-in", "consent"]
    tokens = rp.redeem(outcome, request)
    rp.check_userinfo(rp.userinfo(tokens.access_token), tokens)


def test_oidcc_alternate_happy_flow(rp: RelyingParty, browser: Browser, account: Account) -> None:
    """oidcc-alternate-happy-flow (the "other scope order" module): scope "email openid", the
    parameters in reverse alphabetical order (RFC 6749 §3.3: order does not matter), then the
    checks of oidcc-scope-email. Openplate puts the e-mail in the ID token as well as in UserInfo,
    which the suite warns about (EnsureIdTokenDoesNotContainEmailForScopeEmail)."""
    request = rp.request(scope="openid email")
    request = rp.request(scope=" ".join(reversed(request.scope)), reverse=True)
    assert request.scope == ["email", "openid"]
    names = [name for name, _ in request.params]
    assert names == sorted(names, reverse=True)
    _, _, tokens = rp.code_flow(browser, account, request, expect_pages=("sign-in", "consent"))
    assert set(tokens.body["scope"].split()) == {"openid", "email"}
    info = rp.check_email_scope(tokens, request)
    assert info["email"] == account.email
    assert set(rp.warnings) == {"EnsureIdTokenDoesNotContainEmailForScopeEmail"}

