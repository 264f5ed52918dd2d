"""RP-Initiated Logout OP (OIDCCRpInitiatedLogoutTestPlan) and Back-Channel OP
(OIDCCBackchannelRpInitiatedLogoutTestPlan): a normal sign-in, then the browser sent to the
end_session_endpoint as each module sends it. Where the suite waits at its
post_logout_redirect_uri, the redirect must come with the right state; where it expects "an
error screen or a confirmation" (and fails if its post_logout_redirect_uri is called), Openplate
must answer with a page of its own and never that redirect. After a real sign-out, a prompt=none
request must need the user again (CheckErrorFromAuthorizationEndpointIsOneThatRequiredAUserInterface).
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest

from tests.conformance.oidf import REDIRECT_URI, Browser, Provider, RelyingParty, Tokens
from tests.conftest import _backend_server
from tests.support.browser_flow import hidden_fields
from tests.support.logout_receiver import Receiver, logout_receiver
from tests.support.seed import Account, App, Seeder
from tests.support.server import LiveServer
from tests.support.waiting import wait_until

#: CreatePostLogoutRedirectUri: "the same url as the redirect url but replacing the portion
#: after the alias with '/post_logout_redirect'".
POST_LOGOUT = "https://rp.example.org/post_logout_redirect"
NEEDS_THE_USER = {"interaction_required", "login_required", "account_selection_required",
                  "consent_required"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server of its own: the back-channel module's receiver listens on loopback, which only
    the development setting lets the server post to."""
    yield from _backend_server("sqlite", tmp_path_factory, extra_env={
        "OPENPLATE_ALLOW_PRIVATE_CLIENT_URLS": "1", "OPENPLATE_MAIL_POLL_INTERVAL": "1"})


@pytest.fixture(scope="module")
def receiver(server: LiveServer) -> Iterator[Receiver]:
    with logout_receiver(server.url) as live:
        yield live


@pytest.fixture(scope="module")
def app(seeder: Seeder) -> App:
    """The suite's static client: its redirect URI and post_logout_redirect_uri registered."""
    return seeder.app(seeder.user("rpdev"), redirect_uris=(REDIRECT_URI,), name="OIDF RP",
                      post_logout_redirect_uris=(POST_LOGOUT,))


def _signed_in(rp: RelyingParty, browser: Browser, account: Account) -> Tokens:
    request = rp.request()
    outcome = browser.authorize(request.url, account)
    assert outcome.pages == ["sign-in", "consent"]
    return rp.redeem(outcome, request)


def _end_session(provider: Provider, browser: Browser, params: dict[str, str]) -> httpx.Response:
    """BuildRedirectToEndSessionEndpoint, then the person's answer to our page if one is shown:
    the answer that leaves Openplate (a redirect) or the page it ends on."""
    endpoint = provider.meta["end_session_endpoint"]
    response = browser.http.get(endpoint + ("?" + urlencode(params) if params else ""))
    if response.status_code == 200 and "Sign out of Openplate?" in response.text:
        response = browser.http.post("/oauth/logout/confirm", data=hidden_fields(response.text))
    return response


def _request(tokens: Tokens, **changes: str | None) -> dict[str, str]:
    """CreateEndSessionEndpointRequest: id_token_hint, post_logout_redirect_uri and a state
    (CreateRandomEndSessionState), each changed or removed as the module asks."""
    params: dict[str, str | None] = {"id_token_hint": tokens.id_token,
                                     "post_logout_redirect_uri": POST_LOGOUT,
                                     "state": secrets.token_urlsafe(24)}
    params.update(changes)
    return {name: value for name, value in params.items() if value is not None}


def _returned(response: httpx.Response, params: dict[str, str]) -> dict[str, str]:
    """The post_logout_redirect the suite receives: exactly the registered URI, with the state
    (CheckPostLogoutState / CheckNoPostLogoutState) and nothing else
    (CheckForUnexpectedParametersInPostLogoutRedirect)."""
    assert response.status_code == 303, (response.status_code, response.text[:300])
    parts = urlsplit(response.headers["location"])
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == POST_LOGOUT
    got = dict(parse_qsl(parts.query, keep_blank_values=True))
    assert got == ({"state": params["state"]} if "state" in params else {}), got
    return got


def _not_returned(response: httpx.Response) -> None:
    """The module fails if its post_logout_redirect_uri is called: our page instead."""
    location = response.headers.get("location", "")
    assert not location.startswith(POST_LOGOUT), location
    assert response.status_code in (200, 303, 400), response.status_code
    if response.status_code == 303:
        assert location == "/oauth/logout/done", location


def _logged_out(rp: RelyingParty, browser: Browser) -> None:
    """The second authorisation, with prompt=none: an error that needs the user."""
    request = rp.request(prompt="none")
    outcome = browser.authorize(request.url, None)
    assert outcome.pages == []
    rp.check_error_callback(outcome, request, NEEDS_THE_USER)


def _still_signed_in(rp: RelyingParty, browser: Browser) -> None:
    request = rp.request(prompt="none")
    rp.check_callback(browser.authorize(request.url, None), request)


def test_oidcc_rp_initiated_logout_discovery_endpoint_verification(provider: Provider) -> None:
    """oidcc-rp-initiated-logout-discovery-endpoint-verification: CheckDiscEndSessionEndpoint
    (an absolute URL on the issuer's host; https where the issuer is)."""
    endpoint = urlsplit(provider.meta["end_session_endpoint"])
    issuer = urlsplit(provider.issuer)
    assert (endpoint.scheme, endpoint.netloc) == (issuer.scheme, issuer.netloc)
    assert endpoint.path == "/oauth/logout" and not endpoint.query


def test_oidcc_rp_initiated_logout(rp: RelyingParty, provider: Provider, browser: Browser,
                                   account: Account) -> None:
    """oidcc-rp-initiated-logout: back to the post_logout_redirect_uri with the (long) state,
    then prompt=none needs the user: the session really ended."""
    tokens = _signed_in(rp, browser, account)
    params = _request(tokens, state=secrets.token_urlsafe(96))  # requested_state_length 128
    _returned(_end_session(provider, browser, params), params)
    _logged_out(rp, browser)


def test_oidcc_rp_initiated_logout_bad_post_logout_redirect_uri(
        rp: RelyingParty, provider: Provider, browser: Browser, account: Account) -> None:
    """oidcc-rp-initiated-logout-bad-post-logout-redirect-uri: an unregistered URI gets our
    error page (ExpectPostLogoutRedirectUriNotRegisteredErrorPage), not a redirect."""
    tokens = _signed_in(rp, browser, account)
    answer = _end_session(provider, browser, _request(
        tokens, post_logout_redirect_uri="https://rp.example.org/elsewhere"))
    _not_returned(answer)
    assert answer.status_code == 400 and "not registered" in answer.text
    _still_signed_in(rp, browser)


def test_oidcc_rp_initiated_logout_query_added_to_post_logout_redirect_uri(
        rp: RelyingParty, provider: Provider, browser: Browser, account: Account) -> None:
    """oidcc-rp-initiated-logout-query-added-to-post-logout-redirect-uri: the registered URI
    with '?foo=bar' added is not the registered one: an error page."""
    tokens = _signed_in(rp, browser, account)
    answer = _end_session(provider, browser, _request(
        tokens, post_logout_redirect_uri=POST_LOGOUT + "?foo=bar"))
    _not_returned(answer)
    assert answer.status_code == 400


def _modified(token: str) -> str:
    """What the suite's modified-hint module sends: the signature's bytes changed."""
    header, payload, signature = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
    raw[5] ^= 0x01
    return f"{header}.{payload}.{base64.urlsafe_b64encode(bytes(raw)).rstrip(b'=').decode()}"


def test_oidcc_rp_initiated_logout_modified_id_token_hint(
        rp: RelyingParty, provider: Provider, browser: Browser, account: Account) -> None:
    """oidcc-rp-initiated-logout-modified-id-token-hint: a hint whose signature was altered is
    refused with an error page; the post_logout_redirect_uri is not called."""
    tokens = _signed_in(rp, browser, account)
    answer = _end_session(provider, browser, _request(tokens, id_token_hint=_modified(
        tokens.id_token)))
    _not_returned(answer)
    assert answer.status_code == 400
    _still_signed_in(rp, browser)


def test_oidcc_rp_initiated_logout_bad_id_token_hint(
        rp: RelyingParty, provider: Provider, browser: Browser, account: Account,
        seeder: Seeder) -> None:
    """oidcc-rp-initiated-logout-bad-id-token-hint (earlier plan versions): the hint is a real
    ID token of this server, but for another user (a second sign-in, then the first token): the
    OP must not sign out silently; our page says the request is about another account."""
    other = _signed_in(rp, browser, seeder.user("other"))
    browser.http.cookies.clear()
    _signed_in(rp, browser, account)
    page = browser.http.get(provider.meta["end_session_endpoint"] + "?" + urlencode(
        _request(other)))
    assert page.status_code == 200 and 'id="other-account"' in page.text
    assert "location" not in page.headers
    _still_signed_in(rp, browser)


def test_oidcc_rp_initiated_logout_no_id_token_hint(
        rp: RelyingParty, provider: Provider, browser: Browser, account: Account) -> None:
    """oidcc-rp-initiated-logout-no-id-token-hint: a post_logout_redirect_uri without
    id_token_hint (nor client_id) names no client to check it against: an error page
    (ExpectIdTokenHintRequiredErrorPage), never the redirect."""
    tokens = _signed_in(rp, browser, account)
    answer = _end_session(provider, browser, _request(tokens, id_token_hint=None))
    _not_returned(answer)
    assert answer.status_code == 400 and "client_id or id_token_hint" in answer.text


def test_oidcc_rp_initiated_logout_no_params(
        rp: RelyingParty, provider: Provider, browser: Browser, account: Account) -> None:
    """oidcc-rp-initiated-logout-no-params: no parameters at all: the confirmation, then our
    own signed-out page; the session ends."""
    _signed_in(rp, browser, account)
    answer = _end_session(provider, browser, {})
    _not_returned(answer)
    assert answer.status_code == 303
    assert "You are signed out" in browser.http.get(answer.headers["location"]).text
    _logged_out(rp, browser)


def test_oidcc_rp_initiated_logout_no_post_logout_redirect_uri(
        rp: RelyingParty, provider: Provider, browser: Browser, account: Account) -> None:
    """oidcc-rp-initiated-logout-no-post-logout-redirect-uri: only the hint (and state): the
    person is signed out and stays on our page."""
    tokens = _signed_in(rp, browser, account)
    answer = _end_session(provider, browser, _request(tokens, post_logout_redirect_uri=None))
    _not_returned(answer)
    assert answer.status_code == 303
    _logged_out(rp, browser)


def test_oidcc_rp_initiated_logout_no_state(
        rp: RelyingParty, provider: Provider, browser: Browser, account: Account) -> None:
    """oidcc-rp-initiated-logout-no-state: back to the post_logout_redirect_uri without any
    state (CheckNoPostLogoutState), then prompt=none needs the user."""
    tokens = _signed_in(rp, browser, account)
    params = _request(tokens, state=None)
    assert _returned(_end_session(provider, browser, params), params) == {}
    _logged_out(rp, browser)


def test_oidcc_rp_initiated_logout_only_state(
        rp: RelyingParty, provider: Provider, browser: Browser, account: Account) -> None:
    """oidcc-rp-initiated-logout-only-state: only a state: no client, so no redirect; the
    confirmation, then our page."""
    _signed_in(rp, browser, account)
    answer = _end_session(provider, browser, {"state": "only-" + secrets.token_urlsafe(8)})
    _not_returned(answer)
    _logged_out(rp, browser)


# --- Back-Channel OP (OIDCCBackchannelRpInitiatedLogoutTestPlan) --------------------------------

def test_oidcc_backchannel_logout_discovery_endpoint_verification(provider: Provider) -> None:
    """oidcc-backchannel-logout-discovery-endpoint-verification: end_session_endpoint,
    backchannel_logout_supported true (and session support stated as a boolean)."""
    assert provider.meta["end_session_endpoint"].startswith(provider.issuer)
    assert provider.meta["backchannel_logout_supported"] is True
    assert provider.meta["backchannel_logout_session_supported"] is True


def test_oidcc_backchannel_rp_initiated_logout(
        provider: Provider, browser: Browser, account: Account, seeder: Seeder,
        receiver: Receiver) -> None:
    """oidcc-backchannel-rp-initiated-logout: the client registered a backchannel_logout_uri;
    after the end-session redirect the OP POSTs a logout token there (validated as §2.6 says:
    signature, typ, iss, aud, iat, jti, events, sid matching the ID token's, no nonce), and the
    post_logout_redirect follows with the state."""
    app = seeder.app(seeder.user("bcdev"), redirect_uris=(REDIRECT_URI,), name="OIDF BC RP",
                     post_logout_redirect_uris=(POST_LOGOUT,),
                     backchannel_logout_uri=receiver.url + "/oidf-backchannel",
                     backchannel_logout_session_required=True)
    rp = RelyingParty(provider, app)
    tokens = _signed_in(rp, browser, account)
    params = _request(tokens)
    _returned(_end_session(provider, browser, params), params)
    (claims,) = wait_until(lambda: receiver.for_client(app.client_id) or None,
                           "the logout token at the back-channel URI",
                           seen=lambda: (receiver.seen, receiver.rejected))
    assert claims["sid"] == tokens.id_claims["sid"]
    assert claims["sub"] == tokens.id_claims["sub"]
    assert claims["iss"] == provider.issuer and claims["aud"] == app.client_id
    assert json.dumps(claims).count("nonce") == 0
    _logged_out(rp, browser)
