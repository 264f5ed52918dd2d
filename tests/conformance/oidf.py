"""The OpenID Foundation's conformance checks, written again in Python as a relying party's tools.

The OIDF suite (github.com/openid-certification/conformance-suite) runs each module of a
certification plan as a relying party: it reads discovery, sends a browser to the authorisation
endpoint, redeems the code, calls UserInfo and judges every answer with named *conditions*. This
module plays the same roles against a live Openplate:

- ``Provider``: the discovery document and the JWKS, read over HTTP;
- ``Browser``: plain httpx with a cookie jar; it signs in and presses Allow when asked, and says
  which pages it was shown on the way;
- ``Provider.register``: the relying party registers itself at the registration endpoint
  (RFC 7591), as the "Dynamic OP" plan's modules do, with the suite's checks on the answer;
- ``RelyingParty``: Authlib's ``OAuth2Client`` builds the requests and redeems codes, joserfc
  checks the ID token's signature with the key its ``kid`` names; the checks around them are the
  OIDF conditions, each function named after the condition it follows.

A condition the OIDF suite fails on raises ``AssertionError`` here. One it only warns about is
recorded in ``RelyingParty.warnings`` (condition name -> why), so every test says exactly which
warnings Openplate earns; docs/conformance.md lists them.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import math
import re
import secrets
import string
import time
import warnings as python_warnings
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
from authlib.integrations.httpx_client import OAuth2Client
from joserfc import jwt
from joserfc.jwk import import_key

from tests.support.browser_flow import hidden_fields
from tests.support.seed import Account, App, Seeder

#: The OIDF suite's allowance for clocks that disagree (ValidateIdToken and others): 5 minutes.
SKEW = 300
#: As the OIDF instructions ask: a registered redirect URI with a query, which must come back.
REDIRECT_URI = "https://rp.example.org/callback?dummy1=lorem&dummy2=ipsum"
CALLBACK_EXTRAS = {"dummy1": "lorem", "dummy2": "ipsum"}
#: OIDCC §3.1.2.6 / RFC 6749 §4.1.2.1: what an error response may carry (and RFC 9207's iss).
ERROR_RESPONSE_PARAMS = {"error", "error_description", "error_uri", "state", "session_state", "iss"}
#: RFC 6749 §5.2 / §4.1.2.1: error and error_description use %x20-21 / %x23-5B / %x5D-7E.
_ERROR_TEXT = re.compile(r"[\x20-\x21\x23-\x5b\x5d-\x7e]+")
_DESCRIPTION_TEXT = re.compile(r"[\x09\x0a\x0d\x20-\x21\x23-\x5b\x5d-\x7e]+")
_VSCHAR = re.compile(r"[\x20-\x7e]+")  # RFC 6749 Appendix A.12 / A.17: token characters
#: OIDC Core §5.4, as the OIDF suite maps scopes to the claims they release.
SCOPE_CLAIMS: dict[str, tuple[str, ...]] = {
    "openid": ("sub",),
    "profile": ("name", "given_name", "family_name", "middle_name", "nickname", "profile",
                "picture", "website", "gender", "birthdate", "zoneinfo", "locale", "updated_at",
                "preferred_username"),
    "email": ("email", "email_verified"),
    "address": ("address",),
    "phone": ("phone_number", "phone_number_verified"),
    "offline_access": (),
}
#: OIDC Core §2 and the JWT claims an ID token may carry whatever was asked for
#: (EnsureIdTokenDoesNotContainNonRequestedClaims).
ID_TOKEN_CLAIMS = {"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "azp",
                   "at_hash", "c_hash", "s_hash", "nbf", "jti", "sid"}


# --- Small checks on values ------------------------------------------------------------------


def shannon_bits(value: str) -> float:
    """The OIDF suite's estimate of a secret's entropy (AbstractEnsureMinimumEntropy)."""
    counts = Counter(value)
    per_char = -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())
    return per_char * len(value)


def ensure_unguessable(name: str, value: str) -> None:
    """EnsureMinimum*Length (128 bits) and EnsureMinimum*Entropy (above 96 bits)."""
    assert len(value.encode()) * 8 >= 128, f"{name} is shorter than 128 bits: {value!r}"
    assert shannon_bits(value) > 96, f"{name} looks guessable ({shannon_bits(value):.0f} bits)"


def ensure_token_characters(name: str, value: str) -> None:
    """EnsureAccessTokenContainsAllowedCharactersOnly / EnsureRefreshToken...: %x20-7E only."""
    assert _VSCHAR.fullmatch(value), f"{name} holds characters outside %x20-7E: {value!r}"


def random_state(length: int = 10) -> str:
    """CreateRandomStateValue: alphanumerics; longer values end in every URL-safe mark."""
    alphabet = string.ascii_letters + string.digits
    if length <= 10:
        return "".join(secrets.choice(alphabet) for _ in range(length))
    return "".join(secrets.choice(alphabet) for _ in range(length - 4)) + "-._~"


def content_type(response: httpx.Response) -> str:
    value: str = response.headers.get("content-type", "")
    return value.split(";", 1)[0].strip().lower()


def ensure_json_error(response: httpx.Response, *, status: int, error: str) -> dict[str, Any]:
    """CheckTokenEndpointHttpStatus400, ...ReturnedJsonContentType, CheckErrorFrom...Error and
    ValidateErrorFromTokenEndpointResponseError / ValidateErrorDescription...: a JSON RFC 6749
    §5.2 error whose fields use only the allowed characters."""
    assert response.status_code == status, (response.status_code, response.text[:300])
    assert content_type(response) == "application/json", response.headers
    body: dict[str, Any] = response.json()
    assert body.get("error") == error, body
    assert _ERROR_TEXT.fullmatch(body["error"]), body
    description = body.get("error_description")
    if description is not None:
        assert _DESCRIPTION_TEXT.fullmatch(description), body
    assert "error_uri" not in body or urlsplit(body["error_uri"]).scheme in ("http", "https")
    return body


# --- Standard claims (AbstractValidateOpenIdStandardClaims) ----------------------------------


def _text(value: object) -> bool:
    """A string with content: not blank, and not the word "null" (servers have sent that)."""
    return isinstance(value, str) and bool(value.strip()) and value.strip().lower() != "null"


def _birthdate(value: object) -> bool:
    """YYYY-MM-DD (year 0000 when withheld) or YYYY, with a year from 1850 to this one."""
    if not isinstance(value, str):
        return False
    this_year = time.gmtime().tm_year
    if re.fullmatch(r"\d{4}", value):
        return 1850 <= int(value) <= this_year
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return False
    year = int(value[:4])
    try:
        datetime.date(year or 2000, int(value[5:7]), int(value[8:10]))
    except ValueError:
        return False
    return year == 0 or 1850 <= year <= this_year


def _address(value: object) -> bool:
    return (isinstance(value, dict) and bool(value)
            and all(_text(v) for k, v in value.items()
                    if k in ("formatted", "street_address", "locality", "region", "postal_code",
                             "country")))


_STANDARD: dict[str, Any] = {
    **{name: _text for name in (
        "sub", "name", "given_name", "family_name", "middle_name", "nickname",
        "preferred_username", "profile", "picture", "website", "email", "gender", "zoneinfo",
        "locale", "phone_number", "txn")},
    "email_verified": lambda v: isinstance(v, bool),
    "phone_number_verified": lambda v: isinstance(v, bool),
    "birthdate": _birthdate,
    "address": _address,
    "updated_at": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "_claim_names": lambda v: isinstance(v, dict),
    "_claim_sources": lambda v: isinstance(v, dict),
}


def validate_standard_claims(claims: dict[str, Any], where: str) -> None:
    """ValidateIdTokenStandardClaims / ValidateUserInfoStandardClaims: every standard claim
    present has its type (unknown claims are allowed), and at least one identity claim is there."""
    identity = {k: v for k, v in claims.items() if k not in ID_TOKEN_CLAIMS - {"sub"}}
    assert identity, f"{where} holds no identity claims"
    bad = {k: v for k, v in identity.items() if k in _STANDARD and not _STANDARD[k](v)}
    assert not bad, f"{where}: malformed standard claims {bad}"
    updated_at = identity.get("updated_at")
    if updated_at is not None:  # EnsureIdTokenUpdatedAtValid / EnsureUserInfoUpdatedAtValid
        assert 631152000 <= updated_at <= time.time() + SKEW, f"{where}: updated_at {updated_at}"


# --- The server under test -------------------------------------------------------------------


@dataclass(frozen=True)
class Provider:
    """What a relying party learns from discovery (GetDynamicServerConfiguration, FetchServerKeys)."""

    meta: dict[str, Any]
    jwks: dict[str, Any]

    @classmethod
    def discover(cls, base_url: str) -> Provider:
        answer = httpx.get(base_url + "/.well-known/openid-configuration", timeout=20)
        assert answer.status_code == 200 and content_type(answer) == "application/json", answer
        meta: dict[str, Any] = answer.json()
        # CheckServerConfiguration: the endpoints a code flow needs, as URLs.
        for key in ("issuer", "authorization_endpoint", "token_endpoint"):
            assert isinstance(meta.get(key), str) and urlsplit(meta[key]).netloc, (key, meta)
        keys = httpx.get(meta["jwks_uri"], timeout=20)
        assert keys.status_code == 200, keys.text
        return cls(meta, keys.json())

    @property
    def issuer(self) -> str:
        issuer: str = self.meta["issuer"]
        return issuer

    def keys_for(self, kid: str) -> list[dict[str, Any]]:
        return [key for key in self.jwks["keys"] if key.get("kid") == kid]

    # Dynamic registration (CallDynamicRegistrationEndpoint and the checks after it)

    def register(self, metadata: dict[str, Any]) -> httpx.Response:
        """POST the metadata to discovery's registration_endpoint, as JSON (RFC 7591 §3.1)."""
        endpoint = self.meta.get("registration_endpoint")
        assert isinstance(endpoint, str) and endpoint, "discovery offers no registration_endpoint"
        return httpx.post(endpoint, json=metadata, timeout=20)

    def register_client(self, metadata: dict[str, Any]) -> tuple[App, dict[str, Any]]:
        """CallDynamicRegistrationEndpointAndVerifySuccessfulResponse: 201 JSON without an error,
        a client_id (ExtractDynamicRegistrationResponse), registration_client_uri and
        registration_access_token together (VerifyClientManagementCredentials, here on the
        issuer's scheme and under it), a secret with its client_secret_expires_at for a
        confidential client (VerifyDynamicRegistrationResponseClientCredentials) and none for a
        public one; and (RFC 7591 §3.2.1) the metadata as registered: redirect_uris and every
        other member sent that the provider keeps, echoed unchanged."""
        answer = self.register(metadata)
        assert content_type(answer) == "application/json", answer.headers  # EnsureContentTypeJson
        assert answer.status_code == 201, (answer.status_code, answer.text[:500])
        body: dict[str, Any] = answer.json()
        assert "error" not in body, body  # CheckNoErrorFromDynamicRegistrationEndpoint
        client_id = body.get("client_id")
        assert isinstance(client_id, str) and client_id, body
        assert ("registration_client_uri" in body) == ("registration_access_token" in body), body
        if "registration_client_uri" in body:
            uri, token = body["registration_client_uri"], body["registration_access_token"]
            assert isinstance(uri, str) and uri.startswith(self.issuer + "/"), (uri, self.issuer)
            assert urlsplit(uri).scheme == urlsplit(self.issuer).scheme, uri
            assert isinstance(token, str) and token, body
        secret = body.get("client_secret")
        if metadata.get("token_endpoint_auth_method", "client_secret_basic") == "none":
            assert secret is None, body
        else:
            assert isinstance(secret, str), body
            ensure_unguessable("the client secret", secret)
            expires = body.get("client_secret_expires_at")
            assert isinstance(expires, int) and (expires == 0 or expires > time.time()), body
        assert isinstance(body.get("client_id_issued_at", 0), int), body
        assert body.get("redirect_uris") == metadata.get("redirect_uris"), body
        for name in ("client_name", "grant_types", "response_types", "token_endpoint_auth_method",
                     "contacts", "id_token_signed_response_alg", "policy_uri", "client_uri"):
            if name in metadata:
                assert body.get(name) == metadata[name], (name, body.get(name), metadata[name])
        app = App(client_id, secret, tuple(body["redirect_uris"]), body.get("client_name", ""))
        return app, body

    def refuse_registration(self, metadata: dict[str, Any], allowed: set[str]) -> dict[str, Any]:
        """A registration the provider must refuse: EnsureContentTypeJson,
        EnsureHttpStatusCodeIs400 and CheckErrorFromDynamicRegistrationEndpointIs... (RFC 7591
        §3.2.2), with an error_description of the allowed characters; nothing registered."""
        answer = self.register(metadata)
        assert answer.status_code == 400, (answer.status_code, answer.text[:500])
        assert content_type(answer) == "application/json", answer.headers
        body: dict[str, Any] = answer.json()
        assert body.get("error") in allowed, (body, allowed)
        assert "client_id" not in body and "client_secret" not in body, body
        description = body.get("error_description")
        if description is not None:
            assert _DESCRIPTION_TEXT.fullmatch(description), body
        return body


#: AbstractCondition.SUPPORT_EMAIL, which AddContactsToDynamicRegistrationRequest sends.
CONTACTS = ["certification@oidf.org"]


def registration_request(*, auth: str = "client_secret_basic",
                         redirect_uris: tuple[str, ...] = (REDIRECT_URI,),
                         **extra: Any) -> dict[str, Any]:
    """OIDCCCreateDynamicClientRegistrationRequest for response_type code (client_name,
    grant_types authorization_code, token_endpoint_auth_method, response_types, redirect_uris,
    contacts), for a client that authenticates with a secret; ``extra`` adds the module's own
    members."""
    return {
        "client_name": "OIDF dynamic RP " + secrets.token_hex(3),
        "grant_types": ["authorization_code"],
        "token_endpoint_auth_method": auth,
        "response_types": ["code"],
        "redirect_uris": list(redirect_uris),
        "contacts": list(CONTACTS),
        **extra,
    }


def client_public_jwks() -> dict[str, Any]:
    """GenerateRS256ClientJWKs: a fresh RSA key with a kid; its public half."""
    from joserfc.jwk import RSAKey

    key = RSAKey.generate_key(2048, parameters={"kid": secrets.token_hex(8), "use": "sig",
                                                "alg": "RS256"})
    public: dict[str, Any] = key.as_dict(private=False)
    return {"keys": [public]}


def plan_registration_request(**extra: Any) -> dict[str, Any]:
    """What the "Dynamic OP" plan itself registers for every module that needs a client: its
    variant is fixed to private_key_jwt, so the request carries the client's public keys
    (AddPublicJwksToDynamicRegistrationRequest) and token_endpoint_auth_method private_key_jwt."""
    return registration_request(auth="private_key_jwt", jwks=client_public_jwks(), **extra)


# --- The browser -----------------------------------------------------------------------------


@dataclass
class Outcome:
    """Where an authorisation request ended: the answer that left Openplate (a redirect to the
    client) or a page of ours, and the pages shown on the way (``sign-in``, ``consent``)."""

    response: httpx.Response
    pages: list[str] = field(default_factory=list)
    page_texts: dict[str, str] = field(default_factory=dict)

    @property
    def location(self) -> str | None:
        if self.response.status_code not in (302, 303):
            return None
        location: str = self.response.headers["location"]
        return location

    def callback(self) -> dict[str, str]:
        """The parameters the client received at its redirect URI, each sent once."""
        location = self.location
        assert location is not None, (self.response.status_code, self.response.text[:500])
        parts, registered = urlsplit(location), urlsplit(REDIRECT_URI)
        assert (parts.scheme, parts.netloc, parts.path) == (
            registered.scheme, registered.netloc, registered.path), location
        assert not parts.fragment, f"a code-flow answer belongs in the query: {location}"
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        names = [name for name, _ in pairs]
        assert len(names) == len(set(names)), f"a parameter came twice: {location}"
        return dict(pairs)


def _is_sign_in(response: httpx.Response) -> bool:
    return response.status_code == 200 and 'name="password"' in response.text


def _is_consent(response: httpx.Response) -> bool:
    return response.status_code == 200 and 'action="/oauth/auth/decision"' in response.text


class Browser:
    """A person's browser: cookies, forms, and the pages Openplate shows."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.http = httpx.Client(base_url=base_url, timeout=20, follow_redirects=False)

    def close(self) -> None:
        self.http.close()

    def _ours(self, location: str) -> bool:
        return location.startswith("/") or location.startswith(self.base_url + "/")

    def _follow(self, response: httpx.Response) -> httpx.Response:
        """Follow Openplate's redirects to its own pages; stop at one that leaves the site."""
        for _ in range(10):
            if response.status_code not in (302, 303) or not self._ours(response.headers["location"]):
                return response
            response = self.http.get(response.headers["location"])
        raise AssertionError("redirected in circles")

    def authorize(
        self, url: str, account: Account | None, *, decision: str = "allow",
        form: dict[str, str] | None = None,
    ) -> Outcome:
        """Open an authorisation request (or POST ``form`` to ``url`` from the client's site),
        sign in if asked, answer the consent page if shown; stop when Openplate answers."""
        if form is None:
            response = self.http.get(url)
        else:
            # A form POSTed from another site carries no SameSite=Lax cookie of ours.
            response = httpx.post(url, data=form, timeout=20, follow_redirects=False)
        outcome = Outcome(self._follow(response))
        if _is_sign_in(outcome.response):
            outcome.pages.append("sign-in")
            outcome.page_texts["sign-in"] = outcome.response.text
            if account is None:
                return outcome
            signed = self.http.post("/signin", data={
                **hidden_fields(outcome.response.text), "login": account.username,
                "password": account.password})
            assert signed.status_code == 303, signed.text[:500]
            outcome.response = self._follow(signed)
        if _is_consent(outcome.response):
            outcome.pages.append("consent")
            outcome.page_texts["consent"] = outcome.response.text
            outcome.response = self._follow(self.http.post("/oauth/auth/decision", data={
                **hidden_fields(outcome.response.text), "decision": decision}))
        return outcome

    @property
    def session_cookie(self) -> str:
        value = self.http.cookies.get("openplate_session")
        assert value, "this browser has no session"
        return value


# --- Time, moved in the database instead of waited for ---------------------------------------


def sign_in_earlier(seeder: Seeder, browser: Browser, code: str, seconds: int) -> None:
    """Make the browser's sign-in, and the unredeemed ``code`` that came of it, ``seconds``
    older, as if that much time had passed since (no sleeping for max_age or auth_time)."""
    seeder.execute("UPDATE sessions SET auth_time = auth_time - :s WHERE digest = :d",
                   s=seconds, d=seeder.digester.digest(browser.session_cookie))
    code_digest = seeder.digester.digest(code)
    seeder.execute("UPDATE grants SET auth_time = auth_time - :s, created_at = created_at - :s "
                   "WHERE id = (SELECT grant_id FROM authorization_codes WHERE digest = :d)",
                   s=seconds, d=code_digest)
    seeder.execute("UPDATE authorization_codes SET auth_time = auth_time - :s WHERE digest = :d",
                   s=seconds, d=code_digest)


def age_redeemed_code(seeder: Seeder, code: str, seconds: int) -> None:
    """Move a redeemed code, its grant and the tokens issued from it ``seconds`` into the past."""
    code_digest = seeder.digester.digest(code)
    grant = "(SELECT grant_id FROM authorization_codes WHERE digest = :d)"
    for table in ("access_tokens", "refresh_tokens"):
        seeder.execute(f"UPDATE {table} SET created_at = created_at - :s, "
                       f"expires_at = expires_at - :s WHERE grant_id = {grant}",
                       s=seconds, d=code_digest)
    seeder.execute(f"UPDATE grants SET created_at = created_at - :s WHERE id = {grant}",
                   s=seconds, d=code_digest)
    seeder.execute("UPDATE authorization_codes SET created_at = created_at - :s, "
                   "expires_at = expires_at - :s, used_at = used_at - :s WHERE digest = :d",
                   s=seconds, d=code_digest)


# --- The relying party -----------------------------------------------------------------------


@dataclass
class Request:
    """One authorisation request as the relying party made it."""

    url: str
    params: list[tuple[str, str]]
    state: str | None
    nonce: str | None
    code_verifier: str | None = None

    def get(self, name: str) -> str | None:
        return next((value for key, value in self.params if key == name), None)

    @property
    def scope(self) -> list[str]:
        return (self.get("scope") or "").split()


@dataclass
class Tokens:
    """A token endpoint answer, the HTTP exchange behind it and the checked ID token."""

    body: dict[str, Any]
    response: httpx.Response
    sent: httpx.Request
    id_header: dict[str, Any] = field(default_factory=dict)
    id_claims: dict[str, Any] = field(default_factory=dict)

    @property
    def access_token(self) -> str:
        value: str = self.body["access_token"]
        return value

    @property
    def id_token(self) -> str:
        value: str = self.body["id_token"]
        return value


class RelyingParty:
    """A confidential OpenID Connect client registered with Openplate, as the OIDF suite is."""

    def __init__(self, provider: Provider, app: App, *, auth: str = "client_secret_basic",
                 scope: str = "openid", signing_alg: str = "RS256",
                 redirect_uri: str = REDIRECT_URI) -> None:
        assert redirect_uri in app.redirect_uris, app.redirect_uris
        self.redirect_uri = redirect_uri
        self.provider = provider
        self.app = app
        self.auth = auth
        self.scope = scope
        #: The signature this client's ID tokens must have (RS256 unless it registered another).
        self.id_token_alg = signing_alg
        #: OIDF conditions that would end in a warning, by name, with the reason.
        self.warnings: dict[str, str] = {}
        self._exchanges: list[tuple[httpx.Request, httpx.Response]] = []

    def warn(self, condition: str, why: str) -> None:
        self.warnings[condition] = why

    def _client(self, *, pkce: bool = False) -> OAuth2Client:
        def keep(response: httpx.Response) -> None:
            response.read()
            self._exchanges.append((response.request, response))

        return OAuth2Client(
            self.app.client_id, self.app.client_secret, token_endpoint_auth_method=self.auth,
            scope=self.scope, redirect_uri=self.redirect_uri, timeout=20,
            code_challenge_method="S256" if pkce else None,
            event_hooks={"response": [keep]},
        )

    # The authorisation request (CreateAuthorizationRequestSteps)

    def request(
        self, *, scope: str | None = None, nonce: bool = True, pkce: bool = False,
        state_length: int = 10, drop: tuple[str, ...] = (), reverse: bool = False,
        replace: dict[str, str] | None = None, params: dict[str, str] | None = None, **extra: str,
    ) -> Request:
        """An authorisation request for ``response_type=code`` with a fresh state and nonce;
        ``params`` and ``extra`` add parameters, ``drop`` leaves some out, ``replace`` changes
        their values, ``reverse`` sends them
        in reverse alphabetical order (BuildPlainRedirectToAuthorizationEndpointReorderedParams)."""
        state = random_state(state_length)
        nonce_value = secrets.token_urlsafe(16) if nonce else None
        verifier = None
        if pkce:  # CreateRandomCodeVerifier: 128 characters of the unreserved set
            alphabet = string.ascii_letters + string.digits + "-._~"
            verifier = "".join(secrets.choice(alphabet) for _ in range(128))
        kwargs: dict[str, str] = {**(params or {}), **extra}
        if nonce_value is not None:
            kwargs["nonce"] = nonce_value
        if scope is not None:
            kwargs["scope"] = scope
        with self._client(pkce=pkce) as client:
            url, _ = client.create_authorization_url(
                self.provider.meta["authorization_endpoint"], state=state, code_verifier=verifier,
                **kwargs)
        parts = urlsplit(url)
        pairs = [(k, (replace or {}).get(k, v))
                 for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in drop]
        if reverse:
            pairs.sort(key=lambda pair: pair[0], reverse=True)
        return Request(urlunsplit(parts._replace(query=urlencode(pairs))), pairs, state,
                       nonce_value, verifier)

    # The authorisation response

    def check_callback(self, outcome: Outcome, request: Request) -> str:
        """The success checks of onAuthorizationCallbackResponse; the code."""
        got = outcome.callback()
        assert "error" not in got, got  # CheckIfAuthorizationEndpointError
        self.check_callback_common(got, request)
        code = got.get("code")
        assert code, got  # ExtractAuthorizationCodeFromAuthorizationResponse
        ensure_unguessable("the authorization code", code)
        assert set(got) == {"code", "state", "iss", *CALLBACK_EXTRAS}, got
        return code

    def check_callback_common(self, got: dict[str, str], request: Request,
                              *, state_inside_request_object: bool = False) -> None:
        # CheckMatchingCallbackParameters: the registered redirect URI's own query is kept.
        for name, value in CALLBACK_EXTRAS.items():
            assert got.get(name) == value, f"the redirect URI's {name} was lost: {got}"
        # ValidateIssIfPresentInAuthorizationResponse; RFC 9207 §2 makes it required here,
        # since discovery says authorization_response_iss_parameter_supported.
        assert self.provider.meta["authorization_response_iss_parameter_supported"] is True
        assert got.get("iss") == self.provider.issuer, got
        # CheckStateInAuthorizationResponse
        if not state_inside_request_object:
            assert got.get("state") == request.state, (got.get("state"), request.state)

    def check_error_callback(self, outcome: Outcome, request: Request, allowed: set[str], *,
                             state_inside_request_object: bool = False) -> dict[str, str]:
        """performGenericAuthorizationEndpointErrorResponseValidation and the expected codes."""
        got = outcome.callback()
        self.check_callback_common(got, request, state_inside_request_object=state_inside_request_object)
        assert "error" in got, got  # EnsureErrorFromAuthorizationEndpointResponse
        assert "code" not in got, got  # RejectAuthCodeInAuthorizationEndpointResponse
        unexpected = set(got) - ERROR_RESPONSE_PARAMS - set(CALLBACK_EXTRAS)
        if unexpected:  # CheckForUnexpectedParametersInErrorResponseFromAuthorizationEndpoint
            self.warn("CheckForUnexpectedParametersInErrorResponseFromAuthorizationEndpoint",
                      f"unexpected {sorted(unexpected)}")
        assert got["error"] in allowed, (got, allowed)
        assert _ERROR_TEXT.fullmatch(got["error"]), got
        description = got.get("error_description")
        if description is not None:  # ValidateErrorDescriptionFromAuthorizationEndpointResponseError
            assert _DESCRIPTION_TEXT.fullmatch(description), got
            if re.search(r"[\t\r\n]", description):
                self.warn("CheckErrorDescriptionFromAuthorizationEndpointResponseErrorContainsCRLFTAB",
                          description)
        if "error_uri" in got:  # ValidateErrorUriFromAuthorizationEndpointResponseError
            assert urlsplit(got["error_uri"]).scheme in ("http", "https"), got
        return got

    # The token endpoint

    def _last_exchange(self) -> tuple[httpx.Request, httpx.Response]:
        assert self._exchanges, "no request reached the server"
        return self._exchanges[-1]

    def redeem(self, outcome: Outcome, request: Request) -> Tokens:
        """The code for tokens, through Authlib (which also checks the state), then
        requestAuthorizationCode's checks and PerformStandardIdTokenChecks."""
        code = self.check_callback(outcome, request)
        assert outcome.location is not None
        with self._client(pkce=request.code_verifier is not None) as client:
            body = dict(client.fetch_token(
                self.provider.meta["token_endpoint"], authorization_response=outcome.location,
                state=request.state, code_verifier=request.code_verifier))
        sent, response = self._last_exchange()
        assert dict(parse_qsl(sent.content.decode()))["code"] == code
        tokens = Tokens(body, response, sent)
        self.check_token_answer(tokens)
        assert tokens.body.get("id_token"), "no ID token for scope openid"  # ExtractIdToken...
        self.check_id_token(tokens, request)
        return tokens

    def check_token_answer(self, tokens: Tokens) -> None:
        """The token answer as a client reads it (CheckTokenEndpointHttpStatus200, ...)."""
        response, body = tokens.response, tokens.body
        assert response.status_code == 200, response.text
        assert content_type(response) == "application/json", response.headers
        cache = [part.strip() for part in response.headers.get("cache-control", "").split(",")]
        assert "no-store" in cache, response.headers  # CheckTokenEndpointCacheHeaders
        assert str(body.get("token_type", "")).lower() == "bearer", body  # CheckTokenTypeIsBearer
        ensure_token_characters("the access token", tokens.access_token)
        assert shannon_bits(tokens.access_token) > 96  # EnsureMinimumAccessTokenEntropy
        expires_in = body.get("expires_in")  # ValidateExpiresIn
        assert isinstance(expires_in, int) and 0 < expires_in <= 31536000, body
        refresh = body.get("refresh_token")
        if refresh is not None:
            ensure_token_characters("the refresh token", refresh)
            ensure_unguessable("the refresh token", refresh)

    def check_id_token(self, tokens: Tokens, request: Request | None) -> None:
        """ValidateIdToken, ValidateIdTokenStandardClaims, ValidateIdTokenNonce,
        ValidateIdTokenSignature (with the key the kid names), CheckForSubjectInIdToken,
        EnsureIdTokenUpdatedAtValid, EnsureIdTokenContainsKid, and at_hash (ValidateAtHash)."""
        token = tokens.id_token
        header_part = token.split(".")[0]
        header: dict[str, Any] = json.loads(_b64decode(header_part))
        alg = header.get("alg")
        # Never unsigned; the algorithm discovery offers; the one this client gets.
        assert alg and alg != "none", header
        assert alg in self.provider.meta["id_token_signing_alg_values_supported"], header
        # EnsureIdTokenSignatureIsRS256, or CheckIdTokenSignatureAlgorithm for a registered alg.
        assert alg == self.id_token_alg, header
        kid = header.get("kid")
        assert isinstance(kid, str) and kid, f"no kid in the ID token header: {header}"
        # AbstractVerifyJwsSignature: exactly one published key with this kid, of the token's
        # key type, whose alg (if given) is the token's and whose use (if given) is sig.
        kty = {"RS256": "RSA", "ES256": "EC", "EdDSA": "OKP"}[alg]
        matching = [key for key in self.provider.keys_for(kid)
                    if key.get("kty") == kty and key.get("alg", alg) == alg
                    and key.get("use", "sig") == "sig"]
        assert len(matching) == 1, (kid, self.provider.jwks)
        with python_warnings.catch_warnings():  # joserfc flags "EdDSA" as deprecated (RFC 9864)
            python_warnings.simplefilter("ignore")
            decoded = jwt.decode(token, import_key(matching[0]), algorithms=[alg])
        claims: dict[str, Any] = dict(decoded.claims)
        now = time.time()
        # iss, then aud and azp.
        assert claims.get("iss") == self.provider.issuer, claims
        aud = claims.get("aud")
        audiences = aud if isinstance(aud, list) else [aud]
        assert self.app.client_id in audiences, claims
        if len(audiences) > 1 or "azp" in claims:  # OIDC Core §3.1.3.7 points 4 and 5
            assert claims.get("azp") == self.app.client_id, claims
        # exp and iat: numbers, sane, and not in milliseconds.
        exp, iat = claims.get("exp"), claims.get("iat")
        assert isinstance(exp, int) and exp > now - SKEW, claims
        assert exp < now + 50 * 365 * 86400, claims
        assert isinstance(iat, int) and now - SKEW <= iat <= now + SKEW, claims
        auth_time = claims.get("auth_time")
        if auth_time is not None:
            assert isinstance(auth_time, int) and now - 365 * 86400 < auth_time <= now + SKEW, claims
            assert auth_time <= iat + SKEW, claims
        acr = claims.get("acr")
        assert acr is None or (isinstance(acr, str) and acr), claims
        # CheckForSubjectInIdToken: at most 255 printable ASCII characters.
        sub = claims.get("sub")
        assert isinstance(sub, str) and 0 < len(sub) <= 255 and all(0x20 <= ord(c) < 0x7f for c in sub)
        validate_standard_claims(claims, "the ID token")
        # ValidateIdTokenNonce: the nonce sent, or none at all.
        if request is not None:
            assert claims.get("nonce") == request.nonce, (claims.get("nonce"), request.nonce)
        # at_hash, which Openplate always includes: right for this access token.
        assert claims.get("at_hash") == _half_hash(tokens.access_token, alg), claims
        tokens.id_header, tokens.id_claims = header, claims

    def id_token_claim_warnings(self, tokens: Tokens, request: Request) -> None:
        """The warnings OIDCCServerTest adds: EnsureIdTokenDoesNotContainName and
        EnsureIdTokenDoesNotContainNonRequestedClaims."""
        claims = tokens.id_claims
        if "name" in claims:
            self.warn("EnsureIdTokenDoesNotContainName", "name is in the ID token")
        allowed = set(ID_TOKEN_CLAIMS)
        if "openid" in request.scope:
            for scope in request.scope:
                allowed.update(SCOPE_CLAIMS.get(scope, ()))
        extra = set(claims) - allowed
        if extra:
            self.warn("EnsureIdTokenDoesNotContainNonRequestedClaims", f"{sorted(extra)}")

    def refresh(self, refresh_token: str, **extra: str) -> Tokens:
        with self._client() as client:
            body = dict(client.refresh_token(self.provider.meta["token_endpoint"],
                                             refresh_token=refresh_token, **extra))
        sent, response = self._last_exchange()
        tokens = Tokens(body, response, sent)
        self.check_token_answer(tokens)
        return tokens

    def token_request(self, **form: str) -> httpx.Response:
        """A raw token request authenticated as this client would (for answers that must fail)."""
        data = dict(form)
        auth = None
        if self.auth == "client_secret_post":
            data.update(client_id=self.app.client_id, client_secret=self.app.client_secret or "")
        else:
            auth = (self.app.client_id, self.app.client_secret or "")
        return httpx.post(self.provider.meta["token_endpoint"], data=data, auth=auth, timeout=20)

    # UserInfo (AbstractOIDCCUserInfoTest)

    def userinfo(self, access_token: str, how: str = "get") -> httpx.Response:
        endpoint = self.provider.meta["userinfo_endpoint"]
        bearer = {"Authorization": f"Bearer {access_token}"}
        if how == "get":
            return httpx.get(endpoint, headers=bearer, timeout=20)
        if how == "post-header":
            return httpx.post(endpoint, headers=bearer, timeout=20)
        assert how == "post-body"  # RFC 6750 §2.2, CallUserInfoEndpointWithBearerTokenInBody
        return httpx.post(endpoint, data={"access_token": access_token}, timeout=20)

    def check_userinfo(self, response: httpx.Response, tokens: Tokens) -> dict[str, Any]:
        """EnsureHttpStatusCodeIs200, EnsureContentTypeJson, ValidateUserInfoStandardClaims,
        EnsureUserInfoContainsSub, EnsureUserInfoUpdatedAtValid, the _claim_names references and
        VerifyUserInfoAndIdTokenInTokenEndpointSameSub."""
        assert response.status_code == 200, (response.status_code, response.text)
        assert content_type(response) == "application/json", response.headers
        info: dict[str, Any] = response.json()
        validate_standard_claims(info, "UserInfo")
        assert isinstance(info.get("sub"), str) and info["sub"], info
        names, sources = info.get("_claim_names", {}), info.get("_claim_sources", {})
        assert all(source in sources for source in names.values()), info
        assert info["sub"] == tokens.id_claims["sub"], (info, tokens.id_claims)
        return info

    def scope_claim_warnings(self, info: dict[str, Any], request: Request) -> None:
        """VerifyScopesReturnedInUserInfoClaims: every claim the requested scopes stand for."""
        expected = {claim for scope in request.scope for claim in SCOPE_CLAIMS.get(scope, ())}
        missing = expected - set(info)
        if missing:
            self.warn("VerifyScopesReturnedInUserInfoClaims", f"missing {sorted(missing)}")

    def check_email_scope(self, tokens: Tokens, request: Request) -> dict[str, Any]:
        """oidcc-scope-email's checks beyond the standard ones: the warnings
        EnsureIdTokenDoesNotContainName, EnsureIdTokenDoesNotContainEmailForScopeEmail (with an
        access token, the e-mail belongs in UserInfo), EnsureUserInfoDoesNotContainName and
        VerifyScopesReturnedInUserInfoClaims; returns UserInfo."""
        self.id_token_claim_warnings(tokens, request)
        if "email" in tokens.id_claims:
            self.warn("EnsureIdTokenDoesNotContainEmailForScopeEmail", "email is in the ID token")
        info = self.check_userinfo(self.userinfo(tokens.access_token), tokens)
        if "name" in info:
            self.warn("EnsureUserInfoDoesNotContainName", "name is in UserInfo")
        self.scope_claim_warnings(info, request)
        return info

    # The whole code flow (OIDCCServerTest's happy path)

    def code_flow(self, browser: Browser, account: Account | None, request: Request | None = None,
                  *, expect_pages: tuple[str, ...] | None = None) -> tuple[Request, Outcome, Tokens]:
        request = request or self.request()
        outcome = browser.authorize(request.url, account)
        if expect_pages is not None:
            assert tuple(outcome.pages) == expect_pages, (outcome.pages, expect_pages)
        tokens = self.redeem(outcome, request)
        return request, outcome, tokens


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _half_hash(value: str, alg: str) -> str:
    """OIDC Core §3.1.3.6, computed independently of openplate.oauth.oidc.jws."""
    digest = (hashlib.sha512 if alg == "EdDSA" else hashlib.sha256)(value.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode("ascii")
