"""Basic OP: requests a provider must refuse, and how it refuses them.

Each test is one module of the OpenID Foundation's "Basic OP" plan, named after its test name.
An error goes back to the client (the app is the operator's, so trusted for automatic error
redirects) with state and iss, and nothing else it should not carry; an unregistered redirect URI
gets a page of ours and never a redirect.
"""

from __future__ import annotations

import base64
import json
import secrets
from urllib.parse import urlencode, urlsplit

import httpx

from tests.conformance.oidf import REDIRECT_URI, Browser, Provider, RelyingParty, Request
from tests.support.seed import Account


def test_oidcc_response_type_missing(rp: RelyingParty, browser: Browser) -> None:
    """oidcc-response-type-missing: no response_type. The client gets invalid_request or
    unsupported_response_type (RFC 6749 §3.1.1), with its state and iss and no code, in the
    query; the description uses only the characters RFC 6749 allows."""
    request = rp.request(drop=("response_type",))
    assert request.get("response_type") is None
    outcome = browser.authorize(request.url, None)
    assert outcome.pages == []
    got = rp.check_error_callback(outcome, request, {"invalid_request", "unsupported_response_type"})
    assert got["error_description"]
    assert rp.warnings == {}


def _unregistered(rp: RelyingParty) -> str:
    """CreateBadRedirectUriByAppending: the client's own origin, a random path under /callback/."""
    parts = urlsplit(REDIRECT_URI)
    return f"{parts.scheme}://{parts.netloc}/callback/{secrets.token_urlsafe(8)}"


def _refused_on_our_page(response: httpx.Response) -> None:
    """ExpectRedirectUriErrorPage: our page names the problem; no Location, so no redirect."""
    assert response.status_code == 400, response.status_code
    assert "location" not in response.headers
    assert "redirect_uri is not registered" in response.text, response.text[:1000]


def test_oidcc_ensure_registered_redirect_uri(rp: RelyingParty, browser: Browser,
                                              account: Account) -> None:
    """oidcc-ensure-registered-redirect-uri: a redirect_uri that was never registered gets an
    error page; the browser is sent neither there nor to the registered URI. The same holds for
    a person who is signed in and has allowed the app before."""
    request = rp.request(replace={"redirect_uri": _unregistered(rp)})
    outcome = browser.authorize(request.url, None)
    assert outcome.pages == []
    _refused_on_our_page(outcome.response)
    rp.code_flow(browser, account)  # signed in, the app allowed
    again = browser.authorize(rp.request(replace={"redirect_uri": _unregistered(rp)}).url, None)
    assert again.pages == []
    _refused_on_our_page(again.response)


# --- Request objects (OIDC Core §6) ----------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unsigned(claims: dict[str, str]) -> str:
    """SerializeRequestObjectWithNullAlgorithm: a JWT with alg none and no signature."""
    header = _b64(json.dumps({"alg": "none"}).encode())
    return f"{header}.{_b64(json.dumps(claims).encode())}."


def _by_request_object(rp: RelyingParty, name: str, value: str, inner: Request,
                       **outer: str) -> Request:
    """AbstractBuildRequestObjectRedirectToAuthorizationEndpoint: response_type, client_id,
    scope and redirect_uri also in the query (OIDC Core §6.1); state and nonce only inside."""
    params = {key: val for key, val in inner.params
              if key in ("response_type", "client_id", "scope", "redirect_uri")}
    params.update(outer)
    params[name] = value
    url = rp.provider.meta["authorization_endpoint"] + "?" + urlencode(params)
    return Request(url, list(params.items()), outer.get("state"), None)


def test_oidcc_unsigned_request_object_supported_correctly_or_rejected_as_unsupported(
    rp: RelyingParty, provider: Provider, browser: Browser
) -> None:
    """oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported: a request
    object passed by value, unsigned. Openplate does not support request objects (discovery says
    request_parameter_supported false) and answers request_not_supported (OIDC Core §3.1.2.6),
    which the module accepts as "rejected as unsupported". With the state only inside the object
    none comes back; with one in the query too, it does."""
    assert provider.meta["request_parameter_supported"] is False
    inner = rp.request()
    claims = dict(inner.params)
    request = _by_request_object(rp, "request", _unsigned(claims), inner)
    got = rp.check_error_callback(browser.authorize(request.url, None), request,
                                  {"request_not_supported"}, state_inside_request_object=True)
    assert "state" not in got
    with_state = _by_request_object(rp, "request", _unsigned(claims), inner, state="outer-st")
    got = rp.check_error_callback(browser.authorize(with_state.url, None), with_state,
                                  {"request_not_supported"})
    assert got["state"] == "outer-st"
    assert rp.warnings == {}


def test_oidcc_request_uri_unsigned_supported_correctly_or_rejected_as_unsupported(
    rp: RelyingParty, provider: Provider, browser: Browser
) -> None:
    """oidcc-request-uri-unsigned-supported-correctly-or-rejected-as-unsupported: the request
    object by reference (request_uri). Not supported (request_uri_parameter_supported false), so
    the client gets request_uri_not_supported, redirected with iss (and state when the query has
    one). The OIDF suite runs this module for dynamically registered clients only."""
    assert provider.meta["request_uri_parameter_supported"] is False
    inner = rp.request()
    uri = f"https://rp.example.org/requests/{secrets.token_urlsafe(8)}#{secrets.token_hex(4)}"
    request = _by_request_object(rp, "request_uri", uri, inner, state="outer-st")
    got = rp.check_error_callback(browser.authorize(request.url, None), request,
                                  {"request_uri_not_supported"})
    assert got["state"] == "outer-st"
    assert rp.warnings == {}


def test_oidcc_ensure_request_object_with_redirect_uri(rp: RelyingParty, browser: Browser) -> None:
    """oidcc-ensure-request-object-with-redirect-uri: the registered redirect URI inside an
    unsigned request object, a wrong one (…/callback_invalid) in the query. The provider must use
    the object's or show an error page; redirecting request_not_supported to the registered URI
    would be a failure (EnsureOPDoesNotUseDefaultRedirectUriInCaseOfInvalidRedirectUri).
    Openplate shows the page."""
    inner = rp.request()
    parts = urlsplit(REDIRECT_URI)
    invalid = parts._replace(path=parts.path + "_invalid").geturl()
    request = _by_request_object(rp, "request", _unsigned(dict(inner.params)), inner,
                                 redirect_uri=invalid)
    assert request.get("redirect_uri") == invalid
    outcome = browser.authorize(request.url, None)
    assert outcome.pages == []
    _refused_on_our_page(outcome.response)
