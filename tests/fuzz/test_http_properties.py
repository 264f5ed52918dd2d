"""Property tests over real HTTP: whatever a client sends, every endpoint answers in its contract.

Malformed percent-encoding, invalid UTF-8, NUL bytes, oversized values and bodies, repeated
parameters, unexpected methods and content types, odd Authorization headers and raw bytes on the
wire each get a 4xx in the endpoint's own shape (an HTML page, an RFC 6749 §5.2 JSON error, an
RFC 6750 challenge), never a 5xx and never a traceback in the server log. Where the answer is fully
documented (docs/api.md), an independent oracle says which one it must be.
"""

from __future__ import annotations

import base64
import re
import unicodedata
from collections.abc import Iterator
from urllib.parse import parse_qs, quote, unquote_to_bytes, urlsplit

import httpx
import pytest
from hypothesis import assume, given, reject
from hypothesis import strategies as st

from openplate.library import MapRejected
from openplate.library.upload import parse_upload
from openplate.oauth.scopes import SCOPES
from openplate.oauth.token_endpoint import GRANTS
from openplate.web.routes.developer import APP_FORM_MAX_BYTES
from tests.fuzz.helpers import (
    CONTENT_TYPES,
    FUZZ,
    FUZZ_ORACLE,
    FUZZ_SLOW,
    PRINTABLE,
    QUERY_SAFE,
    FormData,
    Live,
    LogWatch,
    client,
    content_type,
    decode_form,
    describe,
    encode_pairs,
    encoded_text,
    error_body,
    fresh_address,
    header_value,
    is_html,
    junk_component,
    raw_body_bytes,
    raw_request,
)
from tests.support.browser_flow import hidden_fields, obtain_code, sign_in
from tests.support.mindmaps import make_freemind, make_xmind_json
from tests.support.seed import Account, App, Seeder
from tests.support.server import LiveServer

REDIRECT = "https://app.example.com/cb"
LOOPBACK = "http://127.0.0.1:9000/cb"
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"  # RFC 7636 appendix B
FORM = "application/x-www-form-urlencoded"
TOKEN_BODY_LIMIT = 64 * 1024

TOKEN_ERRORS = {"invalid_request", "invalid_client", "invalid_grant", "unauthorized_client",
                "unsupported_grant_type", "invalid_scope", "request_too_large",
                "unsupported_token_type", "request_not_supported", "unsupported_response_type",
                "invalid_target"}
THROTTLED = ("too_many_requests",)
MAP_ERRORS = {"invalid_request", "map_too_large", "request_too_large", "unsupported_map_format",
              "invalid_map", "unsafe_map"}


# --- fixtures ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def dev(seeder: Seeder) -> Account:
    return seeder.user("fuzzdev")


@pytest.fixture(scope="module")
def app(seeder: Seeder, dev: Account) -> App:
    return seeder.app(dev, redirect_uris=(REDIRECT, LOOPBACK), name="Fuzz Client")


def _tokens(server: LiveServer, app: App, account: Account, **extra: str) -> dict[str, str]:
    code = obtain_code(server.url, account, app.client_id, REDIRECT, **extra)
    with client(server) as http:
        response = http.post("/oauth/token", data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
            "client_id": app.client_id, "client_secret": app.client_secret or ""})
    assert response.status_code == 200, response.text
    tokens: dict[str, str] = response.json()
    return tokens


@pytest.fixture(scope="module")
def full_token(server: LiveServer, seeder: Seeder, app: App) -> str:
    return _tokens(server, app, seeder.user("fuzzer"))["access_token"]


@pytest.fixture(scope="module")
def maps_only_token(server: LiveServer, seeder: Seeder, app: App) -> str:
    return _tokens(server, app, seeder.user("narrow"), scope="maps")["access_token"]


@pytest.fixture(scope="module")
def mcp_token(server: LiveServer, seeder: Seeder, app: App) -> str:
    """A token asked for the MCP endpoint (RFC 8707): the one kind /mcp takes."""
    return _tokens(server, app, seeder.user("mcpfuzzer"),
                   resource=server.url + "/mcp")["access_token"]


@pytest.fixture()
def watch(server: LiveServer) -> LogWatch:
    return LogWatch(server)


@pytest.fixture()
def signed_in(server: LiveServer, seeder: Seeder) -> Iterator[httpx.Client]:
    """A browser signed in as a user who never authorised anything (so no remembered consent)."""
    with client(server) as browser:
        assert sign_in(browser, seeder.user("visitor")).status_code == 303
        yield browser


# --- /oauth/auth ------------------------------------------------------------------------------

AUTH_NAMES = ["client_id", "redirect_uri", "response_type", "state", "scope", "code_challenge",
              "code_challenge_method", "prompt", "max_age", "request"]
AUTH_VALUES = {
    "redirect_uri": [REDIRECT, LOOPBACK, "http://127.0.0.1:51234/cb", "http://127.0.0.1/cb",
                     "http://127.0.0.1:09000/cb", "http://127.0.0.1:0/cb", "http://127.0.0.1:65536/cb",
                     "http://localhost:9000/cb", "http://[::1]:9000/cb", REDIRECT + "/", REDIRECT.upper(),
                     "https://evil.example/cb", REDIRECT + "#x", "http://127.0.0.1:9000/cb?x=1"],
    "response_type": ["code", "token", "CODE", "code token", "id_token"],
    "state": ["xyz", "a b&c=d+e", "é\u2028\U0001f600", "%41", "x" * 500],
    "scope": ["account", "maps", "account maps", " maps  account ", "admin", "account+maps",
              "Account", "account\tmaps"],
    "code_challenge": [CHALLENGE, CHALLENGE[:-1], CHALLENGE + "A", CHALLENGE.replace("E", "=")],
    "code_challenge_method": ["S256", "plain", "s256", "S512"],
    "prompt": ["login", "consent", "none", "login consent", "none login", "select_account", "LOGIN"],
    # A day is longer than any test run: "86400" never asks for a new sign-in, "0" always does.
    "max_age": ["0", "86400", "-1", "1.5", "x", "12345678901"],
    "request": ["eyJhbGciOiJub25lIn0.e30."],
}


@st.composite
def authorize_query(draw: st.DrawFn, client_id: str) -> bytes:
    """A query for /oauth/auth: the real parameters, junk ones, repeats, every encoding mistake."""
    known = {**AUTH_VALUES, "client_id": [client_id, client_id + "x", "opc_unknown", client_id.upper()]}

    def value(name: str) -> bytes:
        sensible = st.sampled_from(known[name]).map(lambda s: quote(s, safe="").encode())
        return draw(st.one_of(sensible, sensible, sensible, junk_component()))

    pairs: list[tuple[bytes, bytes]] = []
    for name in AUTH_NAMES:
        likely = name in ("client_id", "redirect_uri", "response_type")
        if draw(st.integers(0, 9)) < (9 if likely else 4):
            pairs.append((name.encode(), value(name)))
    for _ in range(draw(st.integers(0, 3))):
        name = draw(st.sampled_from(AUTH_NAMES))
        if draw(st.booleans()):
            pairs.append((name.encode(), value(name)))  # a repeat (RFC 6749 §3.1)
        else:
            pairs.append((draw(junk_component()), draw(junk_component())))
    if draw(st.booleans()):
        pairs = list(draw(st.permutations(pairs)))
    return encode_pairs(pairs)


def _registered(uri: str | None) -> bool:
    """docs/api.md: exact match, or for a loopback URI the same host and path with any port."""
    if uri is None:
        return False
    if uri in (REDIRECT, LOOPBACK):
        return True
    match = re.fullmatch(r"http://127\.0\.0\.1(?::(\d{1,5}))?(/[^#]*)?", uri, re.ASCII)
    return bool(match) and match.group(2) == "/cb" and (
        match.group(1) is None or 0 < int(match.group(1)) < 65536)


def expected_authorization(query: bytes, client_id: str) -> tuple[str, str | None]:
    """("page", None) for an error page, ("error", code) for an error sent to the app, ("go", None)
    for a request that goes on to sign-in or consent."""
    form = decode_form(query)
    if form is None:
        return "page", None
    values, repeated = form.values, form.duplicated
    if "client_id" in repeated or values.get("client_id") != client_id:
        return "page", None
    if "redirect_uri" in repeated or not _registered(values.get("redirect_uri")):
        return "page", None
    if repeated:
        return "error", "invalid_request"
    response_type = values.get("response_type")
    if response_type is None:
        return "error", "invalid_request"
    if response_type != "code":
        return "error", "unsupported_response_type"
    if "request" in values:
        return "error", "request_not_supported"
    if "request_uri" in values:
        return "error", "request_uri_not_supported"
    named = [s for s in (values.get("scope") or "").split(" ") if s]
    if named and not any(s in SCOPES for s in named):  # unknown scopes alone are ignored
        return "error", "invalid_scope"
    challenge, method = values.get("code_challenge"), values.get("code_challenge_method")
    if challenge is None:
        if method is not None:
            return "error", "invalid_request"
    elif method != "S256" or not re.fullmatch(r"[A-Za-z0-9_-]{43}", challenge, re.ASCII):
        return "error", "invalid_request"
    prompt = (values.get("prompt") or "").split()
    unknown = any(p not in ("none", "login", "consent") for p in prompt)
    if unknown or ("none" in prompt and len(set(prompt)) > 1):
        return "error", "invalid_request"
    max_age = values.get("max_age")
    if max_age is not None and not (max_age.isdigit() and len(max_age) <= 10):
        return "error", "invalid_request"
    return "go", None


def _goes_on_to(query: bytes, *, signed_in: bool) -> tuple[str, str | None]:
    """For a valid request: ("signin", None), ("consent", None) or ("error", code), for a browser
    signed out or signed in (a while ago, never having allowed the app)."""
    form = decode_form(query)
    assert form is not None
    prompt, max_age = (form.values.get("prompt") or "").split(), form.values.get("max_age")
    if not signed_in:
        return ("error", "login_required") if "none" in prompt else ("signin", None)
    if "none" in prompt:
        return "error", "consent_required"
    if "login" in prompt or max_age == "0":
        return "signin", None
    return "consent", None


def check_authorization_answer(response: httpx.Response, query: bytes, client_id: str,
                               *, signed_in: bool, issuer: str) -> None:
    outcome, error = expected_authorization(query, client_id)
    if outcome == "go":
        outcome, error = _goes_on_to(query, signed_in=signed_in)
    status = {"page": 400, "consent": 200, "error": 303, "signin": 303}[outcome]
    assert response.status_code == status, (outcome, error, describe(response))
    if outcome == "page":
        assert "location" not in response.headers
        assert is_html(response), describe(response)
    elif outcome == "consent":
        assert is_html(response) and 'name="request"' in response.text, describe(response)
    elif outcome == "error":
        form = decode_form(query)
        assert form is not None
        redirect_uri = form.values["redirect_uri"]
        location = response.headers["location"]
        assert location.startswith(redirect_uri + "?"), (redirect_uri, location)
        got = parse_qs(location[len(redirect_uri) + 1:])
        assert got["error"] == [error], (error, location)
        state = form.values.get("state") if "state" not in form.duplicated else None
        assert got.get("state") == ([state] if state is not None else None), (state, location)
        assert got.get("iss", [issuer]) == [issuer], location  # RFC 9207, once it is sent
    else:
        location = urlsplit(response.headers["location"])
        assert location.path == "/signin" and not location.netloc, location
        # The request waits on the server; the sign-in page only gets its handle.
        assert parse_qs(location.query)["next"][0].startswith("/oauth/auth/resume?request=")


@FUZZ_ORACLE
@given(data=st.data())
def test_authorization_endpoint_follows_the_documented_rules(
    live: Live, app: App, watch: LogWatch, data: st.DataObject
) -> None:
    query = data.draw(authorize_query(app.client_id), label="query")
    assume(len(query) < 60_000)  # httpx refuses longer URLs (the raw-socket tests go further)
    with client(live) as browser:
        response = browser.get("/oauth/auth?" + query.decode("ascii"))
    watch.check(query)
    assert response.request.url.query == query  # what we meant is what went on the wire
    check_authorization_answer(response, query, app.client_id, signed_in=False, issuer=live.url)


@FUZZ_SLOW
@given(data=st.data())
def test_authorization_endpoint_signed_in(
    live: Live, app: App, signed_in: httpx.Client, watch: LogWatch, data: st.DataObject
) -> None:
    query = data.draw(authorize_query(app.client_id), label="query")
    assume(len(query) < 60_000)
    response = signed_in.get("/oauth/auth?" + query.decode("ascii"))
    watch.check(query)
    check_authorization_answer(response, query, app.client_id, signed_in=True, issuer=live.url)


# --- /oauth/token -----------------------------------------------------------------------------

def _basic(user: bytes, password: bytes) -> bytes:
    return b"Basic " + base64.b64encode(user + b":" + password)


def authorization_headers(app: App) -> st.SearchStrategy[bytes | None]:
    good = _basic(app.client_id.encode(), (app.client_secret or "").encode())
    values = st.one_of(
        st.none(),
        st.just(good),
        st.tuples(st.binary(max_size=30), st.binary(max_size=30)).map(lambda t: _basic(*t)),
        st.tuples(junk_component(), junk_component()).map(lambda t: _basic(*t)),
        st.binary(max_size=40).map(lambda b: b"Basic " + base64.b64encode(b)),
        header_value().map(lambda v: (b"Basic " + v).strip()),
        header_value().map(lambda v: (b"Bearer " + v).strip()),
        header_value(),
        st.sampled_from([b"Basic", b"basic Zm9vOg==", b"BASIC " + good[6:], b"Basic =", b"Basic Og==",
                         b"Basic " + b"A" * 6000, b"Basic " + good[6:] + b"=", b"Basic  " + good[6:],
                         good + b" extra"]),
    )
    return values.map(lambda v: v.strip(b" \t") if v is not None else None)  # as h11 requires


def _main_type(ctype: bytes | None) -> str:
    return (ctype or b"").decode("latin-1").split(";", 1)[0].strip().lower()


def expected_token_errors(form: FormData | None) -> set[tuple[int, str]]:
    """The answers docs/api.md allows for a form body the client could not use to get tokens."""
    if form is None:
        return {(400, "invalid_request")}
    throttled = {(429, "too_many_requests")}  # checked once the body is read
    values = form.values
    if form.duplicated:
        return throttled | {(400, "invalid_request")}
    grant_type = values.get("grant_type")
    if grant_type is None:
        if "code" not in values or values.get("response_type") not in (None, "token"):
            return throttled | {(400, "invalid_request")}
        grant_type = "authorization_code"
    if grant_type not in GRANTS:
        return throttled | {(400, "unsupported_grant_type")}
    return throttled | {(400, "invalid_request"), (401, "invalid_client"), (400, "invalid_grant"),
                        (400, "unauthorized_client"), (400, "invalid_scope")}


def check_token_answer(response: httpx.Response, allowed: set[tuple[int, str]]) -> None:
    """No tokens (the fuzz app may not use client_credentials, and codes cannot be guessed), and an
    error from ``allowed`` in the RFC 6749 §5.2 shape."""
    assert response.status_code != 200, "tokens for a forged request: " + describe(response)
    body = error_body(response, TOKEN_ERRORS | set(THROTTLED))
    assert (response.status_code, body["error"]) in allowed, (allowed, describe(response))
    assert response.headers["cache-control"] == "no-store"
    if response.status_code == 401:
        assert response.headers["www-authenticate"] == 'Basic realm="openplate"'
    if response.status_code == 429:
        assert int(response.headers["retry-after"]) > 0


CLIENT_ENDPOINTS = ["/oauth/token", "/oauth/revoke", "/oauth/introspect",
                    "/oauth/device_authorization", "/oauth/par"]
#: What POST /oauth/par (RFC 9126 §2.3) may answer a request it does not accept.
PAR_ERRORS = {(400, "invalid_request"), (401, "invalid_client"), (400, "request_not_supported"),
              (400, "unsupported_response_type"), (400, "unauthorized_client"),
              (400, "invalid_scope"), (400, "invalid_target"), (429, "too_many_requests")}


@FUZZ
@given(path=st.sampled_from(CLIENT_ENDPOINTS), body=raw_body_bytes(), ctype=content_type(),
       query=st.one_of(st.just(b""), junk_component()), data=st.data())
def test_client_endpoints_any_body_content_type_and_authorization(
    live: Live, app: App, watch: LogWatch, path: str, body: bytes, ctype: bytes | None, query: bytes,
    data: st.DataObject,
) -> None:
    """The token, revocation (RFC 7009) and introspection (RFC 7662) endpoints read their form
    the same strict way; with garbage they answer an RFC 6749 §5.2 error (revocation and
    introspection may answer 200 to an authenticated client about a token they do not know)."""
    authorization = data.draw(authorization_headers(app), label="authorization")
    headers = {}
    if ctype is not None:
        headers["Content-Type"] = ctype
    if authorization is not None:
        headers["Authorization"] = authorization
    url = path + ("?" + query.decode("ascii") if query else "")
    with client(live) as http:
        response = http.post(url, content=body, headers=headers)
    watch.check((url, headers, body))
    form = decode_form(body)
    if _main_type(ctype) != FORM or any(query.split(b"&")):
        check_token_answer(response, {(400, "invalid_request")})
    elif len(body) > TOKEN_BODY_LIMIT:
        check_token_answer(response, {(413, "request_too_large")})
    elif form is None:
        check_token_answer(response, {(400, "invalid_request")})
    elif path == "/oauth/token":
        check_token_answer(response, expected_token_errors(form))
    elif path == "/oauth/par":
        if response.status_code == 201:  # a well-formed request of the fuzz app: pushed
            assert set(response.json()) == {"request_uri", "expires_in"}, describe(response)
            assert response.headers["cache-control"] == "no-store"
        else:
            check_token_answer(response, PAR_ERRORS)
    elif path == "/oauth/device_authorization":  # RFC 8628 §3.1: the client authenticates
        if response.status_code == 200:
            assert {"device_code", "user_code", "interval"} <= set(response.json())
            assert response.headers["cache-control"] == "no-store"
        else:
            check_token_answer(response, {(400, "invalid_request"), (401, "invalid_client"),
                                          (400, "unauthorized_client"), (400, "invalid_scope"),
                                          (429, "too_many_requests")})
    elif response.status_code == 200:
        assert path == "/oauth/revoke" or response.json()["active"] in (False, True), describe(response)
        assert response.headers["cache-control"] == "no-store"
    else:  # revocation and introspection: the client authenticates, then names a token
        check_token_answer(response, {(400, "invalid_request"), (401, "invalid_client"),
                                      (400, "unsupported_token_type"), (429, "too_many_requests")})


TOKEN_NAMES = ["grant_type", "code", "redirect_uri", "client_id", "client_secret", "refresh_token",
               "scope", "code_verifier", "response_type"]


@st.composite
def token_form(draw: st.DrawFn, app: App) -> bytes:
    known = {
        "grant_type": ["authorization_code", "refresh_token", "password", "client_credentials",
                       "Authorization_Code", "urn:ietf:params:oauth:grant-type:device_code"],
        "code": ["opac_" + "A" * 43, "opac_", "opat_x", "opac_" + "é" * 10, "x"],
        "redirect_uri": [REDIRECT, LOOPBACK, "https://evil.example/cb"],
        "client_id": [app.client_id, "opc_unknown", app.client_id.lower()],
        "client_secret": [app.client_secret or "", "opcs_wrong", (app.client_secret or "") + " "],
        "refresh_token": ["oprt_" + "B" * 43, "oprt_", "oprt_!"],
        "scope": ["account", "maps", "account maps", "account+maps", "admin", "   "],
        "code_verifier": ["a" * 43, "a" * 42, "a" * 129, "~" * 60],
        "response_type": ["token", "code", "id_token"],
    }

    def value(name: str) -> bytes:
        sensible = st.sampled_from(known[name]).map(lambda s: quote(s, safe="").encode())
        return draw(st.one_of(sensible, sensible, junk_component()))

    pairs = [(name.encode(), value(name)) for name in TOKEN_NAMES if draw(st.booleans())]
    for _ in range(draw(st.integers(0, 3))):
        if draw(st.booleans()):
            name = draw(st.sampled_from(TOKEN_NAMES))
            pairs.append((name.encode(), value(name)))
        else:
            pairs.append((draw(junk_component()), draw(junk_component())))
    return encode_pairs(draw(st.permutations(pairs)))


@FUZZ_ORACLE
@given(data=st.data())
def test_token_endpoint_parameters(
    live: Live, app: App, watch: LogWatch, data: st.DataObject
) -> None:
    body = data.draw(token_form(app), label="body")
    authorization = data.draw(st.one_of(st.none(), authorization_headers(app)), label="authorization")
    headers = {"Content-Type": FORM}
    if authorization is not None:
        headers["Authorization"] = authorization  # type: ignore[assignment]
    with client(live) as http:
        response = http.post("/oauth/token", content=body, headers=headers)
    watch.check((headers, body))
    if len(body) > TOKEN_BODY_LIMIT:
        check_token_answer(response, {(413, "request_too_large")})
    else:
        check_token_answer(response, expected_token_errors(decode_form(body)))


@pytest.mark.parametrize("size", [64 * 1024 + 1, 200_000], ids=["over-64KiB", "200KB"])
def test_token_endpoint_oversized_body_is_413(live: Live, watch: LogWatch, size: int) -> None:
    body = b"grant_type=authorization_code&code=" + b"x" * (size - 35)
    with client(live) as http:
        response = http.post("/oauth/token", content=body, headers={"Content-Type": FORM})
    watch.check(size)
    assert response.status_code == 413, describe(response)
    assert error_body(response, {"request_too_large"})
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("size", [256 * 1024 + 1, 400_000, 3_000_000])
def test_token_endpoint_body_over_the_cap_is_413(
    live: Live, watch: LogWatch, size: int
) -> None:
    with client(live) as http:
        response = http.post("/oauth/token", content=b"a=" + b"x" * size, headers={"Content-Type": FORM})
    watch.check(size)
    assert response.status_code == 413, describe(response)
    assert error_body(response, {"request_too_large"})
    assert response.headers["cache-control"] == "no-store"


# --- /oauth/logout (OIDC RP-Initiated Logout) -------------------------------------------------

LOGOUT_NAMES = [b"id_token_hint", b"client_id", b"post_logout_redirect_uri", b"state",
                b"logout_hint", b"ui_locales"]


@FUZZ
@given(pairs=st.lists(st.tuples(st.one_of(st.sampled_from(LOGOUT_NAMES), junk_component()),
                                st.one_of(junk_component(),
                                          st.sampled_from([b"e30.e30.e30", b"a.b.c", REDIRECT.encode(),
                                                           b"opc_nope", b"x" * 8193]))),
                      max_size=3),
       signed_in_browser=st.booleans())
def test_the_end_session_endpoint_never_redirects_where_nothing_is_registered(
    live: Live, signed_in: httpx.Client, watch: LogWatch, pairs: list[tuple[bytes, bytes]],
    signed_in_browser: bool,
) -> None:
    """Whatever the query: a 400 page, the confirmation (signed in), or (signed out) our own
    signed-out page; never a redirect elsewhere, since no application here registered a
    post_logout_redirect_uri; never a 5xx."""
    query = encode_pairs(pairs).decode("ascii")
    assume(len(query) < 60_000)  # httpx refuses longer URLs before sending (the server's limit
    # for long lines is tested elsewhere)
    if signed_in_browser:
        response = signed_in.get("/oauth/logout?" + query)
    else:
        with client(live) as browser:
            response = browser.get("/oauth/logout?" + query)
    watch.check(query)
    if response.status_code == 303:
        assert not signed_in_browser and response.headers["location"] == "/oauth/logout/done"
    elif response.status_code == 200:
        assert signed_in_browser and "Sign out of Openplate?" in response.text, describe(response)
    else:
        assert response.status_code in (400, 414, 431) and is_html(response), describe(response)
        assert "location" not in response.headers


# --- unexpected methods -----------------------------------------------------------------------

ALLOWED_METHODS = {
    "/oauth/token": {"POST"}, "/oauth/par": {"POST"}, "/oauth/auth": {"GET", "POST"},
    "/oauth/auth/decision": {"POST"},
    "/users/me": {"GET"}, "/maps": {"GET", "POST"}, "/signin": {"GET", "POST"}, "/signup": {"GET", "POST"},
    "/signout": {"POST"}, "/applications/new": {"GET", "POST"}, "/": {"GET"},
    "/openapi.json": {"GET", "HEAD"}, "/mindmaps/abcdefg/x": {"GET"},
    "/mcp": {"POST"},  # the MCP server (docs/mcp.md): stateless, no GET stream, no DELETE
    "/oauth/device_authorization": {"POST"}, "/device": {"GET", "POST"},
    "/device/confirm": {"GET"}, "/device/decision": {"POST"}, "/device/done": {"GET"},
    "/device/qr": {"GET"},
    "/oauth/logout": {"GET", "POST"}, "/oauth/logout/confirm": {"POST"},
    "/oauth/logout/done": {"GET"},
}
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "PROPFIND", "SEARCH", "PURGE",
           "LOCK", "MKCOL"]


@FUZZ
@given(path=st.sampled_from(sorted(ALLOWED_METHODS)), method=st.sampled_from(METHODS),
       accept=st.sampled_from([None, "text/html", "application/json", "*/*", "text/html;q=0.1"]),
       body=st.binary(max_size=64))
def test_unexpected_methods_are_405(
    live: Live, watch: LogWatch, path: str, method: str, accept: str | None, body: bytes
) -> None:
    allowed = ALLOWED_METHODS[path]
    if method in allowed:
        return
    headers = {"Accept": accept} if accept else {}
    with client(live) as http:
        response = http.request(method, path, headers=headers, content=body)
    watch.check((method, path))
    assert response.status_code == 405, describe(response)
    # RFC 9110 §15.5.6: a 405 names the methods the resource does support.
    assert response.headers["allow"] and set(response.headers["allow"].split(", ")) <= allowed | {"HEAD"}
    if method == "GET" and "text/html" in (accept or ""):
        assert is_html(response), describe(response)  # a browser gets a page
    else:
        assert response.json() == {"error": "method_not_allowed",
                                   "error_description": "Method Not Allowed"}, describe(response)


@pytest.mark.parametrize("path", ["/oauth/token", "/signout", "/oauth/auth/decision"])
def test_405_page_for_browsers_names_the_allowed_methods(
    live: Live, watch: LogWatch, path: str
) -> None:
    with client(live) as browser:
        response = browser.get(path, headers={"Accept": "text/html"})
    watch.check(path)
    assert response.status_code == 405 and is_html(response), describe(response)
    assert response.headers.get("allow") == "POST", dict(response.headers)


@pytest.mark.parametrize("path,status", [("/", 200), ("/users/me", 401), ("/signin", 200),
                                         ("/mindmaps/abcdefg", 404), ("/docs", 200)])
def test_head_is_answered_like_get(live: Live, watch: LogWatch, path: str, status: int) -> None:
    with client(live) as http:
        response = http.head(path)
    watch.check(path)
    assert response.status_code == status, describe(response)
    assert response.content == b""


# --- /users/me --------------------------------------------------------------------------------

@st.composite
def bearer_headers(draw: st.DrawFn, tokens: list[str]) -> bytes:
    token = draw(st.one_of(st.sampled_from(tokens), st.text(PRINTABLE + "-_", max_size=60),
                           st.just("opat_" + "A" * 43), st.just("opat_" + "A" * 600)))
    mangled = draw(st.one_of(
        st.just(token.encode()),
        st.tuples(st.just(token.encode()), header_value(10)).map(lambda t: t[0] + t[1]),
        st.tuples(header_value(10), st.just(token.encode())).map(lambda t: t[0] + t[1]),
        st.just(token[:-1].encode()), st.just(token.upper().encode()),
    ))
    scheme = draw(st.sampled_from([b"Bearer ", b"bearer ", b"BEARER ", b"Bearer  ", b"Bearer\t", b"",
                                   b"Basic ", b"Token ", b"Bearer:", b"\xc2\xa0Bearer ", b"DPoP ",
                                   b"dpop "]))
    return draw(st.one_of(
        st.just(scheme + mangled),
        header_value(200),
        st.sampled_from([b"", b"Bearer", b"Bearer ,", b"Bearer a b", b'Bearer realm="x"']),
        st.sampled_from([8_000, 70_000]).map(lambda n: b"Bearer " + b"\xff" * n),
    )).strip(b" \t")


@FUZZ
@given(data=st.data())
def test_users_me_any_authorization_header(
    live: Live, full_token: str, maps_only_token: str, watch: LogWatch, data: st.DataObject
) -> None:
    header = data.draw(bearer_headers([full_token, maps_only_token]), label="authorization")
    with client(live) as http:
        response = http.get("/users/me", headers={"Authorization": header})
    watch.check(header)
    text = header.decode("latin-1")  # how the server reads header bytes
    if response.status_code == 200:
        assert full_token in text and response.json()["UserName"], describe(response)
        return
    body = error_body(response, {"invalid_request", "invalid_token", "insufficient_scope",
                                 "invalid_dpop_proof"})
    status = {"invalid_request": 400, "invalid_token": 401, "insufficient_scope": 403,
              "invalid_dpop_proof": 401}[body["error"]]
    assert response.status_code == status, describe(response)
    # RFC 9449 §7.1: both schemes are challenged; the one the token came with first (DPoP for
    # the DPoP scheme, which without a proof header is invalid_dpop_proof).
    challenges = response.headers.get_list("www-authenticate")
    challenge = challenges[0]
    dpop = text.lstrip()[:5].lower() == "dpop "
    assert challenge.startswith('DPoP realm="openplate"' if dpop else 'Bearer realm="openplate"')
    assert sorted(c.split(" ", 1)[0] for c in challenges) == ["Bearer", "DPoP"], challenges
    if text.strip():  # a token was sent: RFC 6750 §3 names the error
        assert f'error="{body["error"]}"' in challenge, challenge
    else:  # none sent: only where to learn how to get one (RFC 9728 §5.1)
        assert challenge == ('Bearer realm="openplate", resource_metadata="'
                             f'{live.url}/.well-known/oauth-protected-resource"'), challenge
    if status == 403:
        assert maps_only_token in text and 'scope="account"' in challenge, (text, challenge)
    assert response.headers["cache-control"] == "no-store"


# --- /maps ------------------------------------------------------------------------------------

def check_map_rejection(response: httpx.Response) -> None:
    body = error_body(response, MAP_ERRORS)
    expected = {"invalid_request": (400,), "map_too_large": (413,), "request_too_large": (413,),
                "unsupported_map_format": (415,), "invalid_map": (422,), "unsafe_map": (422,)}
    assert response.status_code in expected[body["error"]], describe(response)


@FUZZ
@given(body=st.one_of(st.binary(max_size=2000), raw_body_bytes()), ctype=content_type())
def test_maps_any_body_and_content_type(
    live: Live, full_token: str, watch: LogWatch, body: bytes, ctype: bytes | None
) -> None:
    headers: dict[str, str | bytes] = {"Authorization": f"Bearer {full_token}"}
    if ctype is not None:
        headers["Content-Type"] = ctype
    with client(live) as http:
        response = http.post("/maps", content=body, headers=headers)
    watch.check((ctype, body))
    assert response.status_code != 201, describe(response)  # no mind map in these bytes
    check_map_rejection(response)
    if _main_type(ctype) != "multipart/form-data":
        assert response.status_code == 415, describe(response)
        assert response.json()["error"] == "unsupported_map_format", describe(response)


@pytest.mark.parametrize("ctype", ["application/json", "text/plain", FORM, "multipart/mixed; boundary=x"])
def test_maps_not_multipart_is_unsupported_map_format(
    live: Live, full_token: str, watch: LogWatch, ctype: str
) -> None:
    with client(live) as http:
        response = http.post("/maps", content=make_freemind(), headers={
            "Authorization": f"Bearer {full_token}", "Content-Type": ctype})
    watch.check(ctype)
    assert response.status_code == 415, describe(response)
    assert response.json()["error"] == "unsupported_map_format", describe(response)


TEXT_BYTES = st.text(st.characters(exclude_categories=("Cs",)), max_size=60).map(str.encode)
# A multipart part: (name, filename or None, content).
Part = tuple[bytes, bytes | None, bytes]
VALID_MAPS = [make_xmind_json("Root", ["a", "b"]), make_freemind("Free root", ["x"])]
# Parameter values in a Content-Disposition header: no quote, backslash, CR, LF or NUL.
DISPOSITION_SAFE = st.lists(
    st.sampled_from([9, 32, 33, *range(35, 92), *range(93, 127), *range(0x80, 0x100)]), max_size=20
).map(bytes)


@st.composite
def multipart_parts(draw: st.DrawFn) -> list[Part]:
    name = st.one_of(st.sampled_from([b"title", b"description", b"map", b"Map", b"map[]", b""]),
                     DISPOSITION_SAFE)
    text = st.one_of(TEXT_BYTES, st.binary(max_size=40), st.sampled_from([b"", b"\x00", b"\xff\xfe",
                                                                          b"\r\n--", b"x" * 70_000]))
    content = st.one_of(st.sampled_from(VALID_MAPS), st.binary(max_size=300), st.just(b""))
    filename = st.one_of(st.sampled_from([b"map.xmind", b"map.mm", b"", b"../../etc/passwd",
                                          b"\xff\xfe.xmind", b"a" * 300]), DISPOSITION_SAFE)
    parts: list[Part] = []
    if draw(st.integers(0, 9)) < 8:
        parts.append((b"map", draw(filename), draw(content)))
    for field in (b"title", b"description"):
        if draw(st.booleans()):
            parts.append((field, None, draw(text)))
    for _ in range(draw(st.integers(0, 3))):
        as_file = draw(st.booleans())
        parts.append((draw(name), draw(filename) if as_file else None,
                      draw(content) if as_file else draw(text)))
    if draw(st.integers(0, 9)) == 0:
        parts += [(b"f%d" % i, None, b"v") for i in range(9)]  # over max_fields
    return list(draw(st.permutations(parts)))


def encode_multipart(parts: list[Part], boundary: bytes) -> bytes:
    out = b""
    for name, filename, content in parts:
        disposition = b'form-data; name="' + name + b'"'
        if filename is not None:
            disposition += b'; filename="' + filename + b'"'
        out += b"--" + boundary + b"\r\nContent-Disposition: " + disposition + b"\r\n"
        if filename is not None:
            out += b"Content-Type: application/octet-stream\r\n"
        out += b"\r\n" + content + b"\r\n"
    return out + b"--" + boundary + b"--\r\n"


def is_a_map(data: bytes) -> bool:
    """The oracle: random bytes can be a map too (``- a`` is a Markdown outline)."""
    try:
        parse_upload(None, data)
    except MapRejected:
        return False
    return True


def _clean(text: str) -> str:
    return "".join(c for c in text if unicodedata.category(c) not in ("Cc", "Cf", "Cs")).strip()


@FUZZ_ORACLE
@given(parts=multipart_parts(),
       boundary=st.text(PRINTABLE + "'()+_,-./:=?", min_size=1, max_size=70).map(str.encode))
def test_maps_multipart_bodies(
    live: Live, full_token: str, watch: LogWatch, parts: list[Part], boundary: bytes
) -> None:
    inside = b"".join(b"\n" + p[2] + b"\n" + (p[1] or b"") + b"\n" + p[0] for p in parts)
    for n in range(100):
        if b"--" + boundary not in inside:  # the boundary must not occur inside the parts
            break
        boundary = b"fuzz-boundary-%d" % n
    body = encode_multipart(parts, boundary)
    with client(live) as http:
        response = http.post("/maps", content=body, headers={
            "Authorization": f"Bearer {full_token}",
            "Content-Type": b'multipart/form-data; boundary="' + boundary + b'"'})
        watch.check(parts)
        files = [p for p in parts if p[1] is not None]
        fields = [p for p in parts if p[1] is None]
        maps = [p for p in parts if p[0] == b"map"]
        unreadable = len(files) > 1 or len(fields) > 8 or any(len(p[2]) > 64 * 1024 for p in fields)
        twice = any(len([p for p in parts if p[0] == n]) > 1 for n in (b"title", b"description"))
        if unreadable or twice or len(maps) != 1 or maps[0][1] is None:
            assert response.status_code == 400, describe(response)
            assert error_body(response, {"invalid_request"})
            return
        if response.status_code != 201:
            assert not is_a_map(maps[0][2]), describe(response)
            check_map_rejection(response)
            return
        assert is_a_map(maps[0][2]), describe(response)
        created = response.json()
        assert set(created) == {"id", "url", "title", "description", "format", "download_url",
                                "thumbnail_url", "visibility", "tags", "category"}, created
        assert response.headers["location"] == created["url"]
        assert 0 < len(created["title"]) <= 200 and created["title"] == _clean(created["title"])
        assert len(created["description"]) <= 10_000
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", created["url"].rsplit("/", 1)[1]), created
        page = http.get(created["url"])
        download = http.get(created["download_url"])
        watch.check(created)
        assert page.status_code == 200 and is_html(page), describe(page)
        assert download.status_code == 200 and download.content == maps[0][2]


# --- HTML form posts --------------------------------------------------------------------------

FORM_POSTS = ["/signin", "/signup", "/signout", "/oauth/auth/decision", "/applications/new",
              "/applications/opc_nope", "/applications/opc_nope/rotate-secret",
              "/applications/opc_nope/delete", "/account/password", "/account/apps/opc_nope/revoke",
              "/account/delete", "/password/forgot", "/password/reset/oppr_nope", "/account/email",
              "/account/email/resend", "/account/email/verify/opev_nope", "/account",
              "/account/sessions/1/sign-out", "/account/sessions/sign-out-others",
              "/account/maps/abcdefg/delete", "/device", "/device/decision",
              "/oauth/logout/confirm"]


#: The application forms (multipart, with a logo): bounded by the route, not the 256 KiB cap.
APP_FORMS = ("/applications/new", "/applications/opc_nope")


def _readable(ctype: bytes | None, body: bytes) -> FormData | None:
    """What the forms accept: URL-encoded, at most 64 KiB, well-formed, each field once."""
    if _main_type(ctype) != FORM or len(body) > 64 * 1024:
        return None
    form = decode_form(body)
    return None if form is None or form.duplicated else form


def sized_bodies() -> st.SearchStrategy[bytes]:
    return st.sampled_from([64 * 1024, 64 * 1024 + 1, 256 * 1024 + 1]).map(lambda n: b"a=" + b"x" * (n - 2))


@FUZZ
@given(path=st.sampled_from(FORM_POSTS), body=st.one_of(raw_body_bytes(), raw_body_bytes(), sized_bodies()),
       ctype=st.one_of(st.just(FORM.encode()), content_type()))
def test_form_posts_without_a_session(
    live: Live, watch: LogWatch, path: str, body: bytes, ctype: bytes | None
) -> None:
    headers = {"Content-Type": ctype} if ctype is not None else {}
    with client(live) as browser:
        response = browser.post(path, content=body, headers=headers)
    watch.check((path, ctype, body))
    if path in APP_FORMS:  # they may carry a logo: the route bounds them, answering with a page
        if len(body) > APP_FORM_MAX_BYTES:
            assert response.status_code == 413 and is_html(response), describe(response)
            return
    elif len(body) > 256 * 1024:
        assert response.status_code == 413, describe(response)
        assert error_body(response, {"request_too_large"})
        return
    expected = 403 if _readable(ctype, body) is not None else 400
    assert response.status_code == expected, describe(response)
    assert is_html(response) and "location" not in response.headers, describe(response)


TEXT_STR = st.text(st.characters(exclude_categories=("Cs",)), max_size=50)
SIGNUP_FIELDS = st.fixed_dictionaries({}, optional={
    "username": st.one_of(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.\-]{2,12}", fullmatch=True), TEXT_STR),
    "email": st.one_of(st.from_regex(r"[a-z0-9.+]{1,12}@[a-z]{1,8}\.example", fullmatch=True), TEXT_STR),
    "password": st.one_of(st.text(min_size=8, max_size=30), TEXT_STR),
    "login": TEXT_STR, "next": st.one_of(st.just("/applications"), TEXT_STR),
    "decision": st.one_of(st.sampled_from(["allow", "deny"]), TEXT_STR),
    "request": TEXT_STR, "name": TEXT_STR, "public": st.sampled_from(["1", "0", "on"]),
    "redirect_uris": TEXT_STR, "current_password": TEXT_STR, "new_password": TEXT_STR,
})


@st.composite
def form_with_csrf(draw: st.DrawFn, csrf: str) -> bytes:
    """A readable form that carries the session's CSRF token, plus junk or broken fields."""
    fields = draw(SIGNUP_FIELDS)
    pairs = [(quote(k, safe="").encode(), quote(v, safe="").encode()) for k, v in fields.items()]
    pairs.append((b"csrf_token", quote(csrf, safe="").encode()))
    extra = draw(st.lists(st.tuples(junk_component(), junk_component()), max_size=2))
    return encode_pairs(draw(st.permutations(pairs + extra)))


def expected_with_csrf(path: str, form: FormData | None) -> set[int]:
    if form is None:
        return {400}
    if form.values.get("csrf_token") is None:
        return {403}
    return {
        "/signin": {401, 429},  # no such account (or that login was tried too often)
        "/signup": {303, 400, 409},
        "/signout": {303},
        "/password/forgot": {303, 400, 429},  # the same answer for any name, or a bad one
        "/password/reset/oppr_nope": {410},  # no such link
        "/account/email/verify/opev_nope": {410},
        # Signed out: nothing to end; on to our own page, or a request that cannot be used.
        "/oauth/logout/confirm": {303, 400},
    }.get(path, {303, 403})  # everything else wants a signed-in user: to /signin, or refused


@FUZZ_SLOW
@given(path=st.sampled_from(FORM_POSTS), data=st.data())
def test_form_posts_with_a_valid_csrf_token(
    live: Live, watch: LogWatch, path: str, data: st.DataObject
) -> None:
    with client(live) as browser:
        page = browser.get("/signup")
        csrf = hidden_fields(page.text)["csrf_token"]
        body = data.draw(form_with_csrf(csrf), label="body")
        response = browser.post(path, content=body, headers={"Content-Type": FORM})
    watch.check((path, body))
    form = _readable(FORM.encode(), body)
    assert response.status_code in expected_with_csrf(path, form), describe(response)
    if response.status_code == 303:
        location = response.headers["location"]
        assert location.startswith("/") and not location.startswith("//"), location
        if path == "/password/forgot":
            assert location.startswith("/password/forgot/sent?next="), location
        elif path == "/oauth/logout/confirm":
            assert location == "/oauth/logout/done", location
        elif path not in ("/signin", "/signup", "/signout"):
            assert location.startswith("/signin?next="), location
    else:
        assert is_html(response), describe(response)
        if response.status_code == 429:
            assert int(response.headers["retry-after"]) > 0


@FUZZ_SLOW
@given(path=st.sampled_from(["/oauth/auth/decision", "/applications/new", "/applications/opc_nope",
                             "/account/apps/opc_nope/revoke", "/account",
                             "/account/sessions/1/sign-out", "/device", "/device/decision"]),
       data=st.data())
def test_form_posts_signed_in(
    live: Live, signed_in: httpx.Client, watch: LogWatch, path: str, data: st.DataObject
) -> None:
    csrf = hidden_fields(signed_in.get("/applications").text)["csrf_token"]
    body = data.draw(form_with_csrf(csrf), label="body")
    response = signed_in.post(path, content=body, headers={"Content-Type": FORM})
    watch.check((path, body))
    form = _readable(FORM.encode(), body)
    if form is None:
        expected = {400}
    elif form.values.get("csrf_token") is None:
        expected = {403}
    else:
        expected = {"/oauth/auth/decision": {400}, "/applications/new": {303, 400},
                    "/account": {303, 400}, "/device": {400},
                    "/device/decision": {400}}.get(path, {404})
    assert response.status_code in expected, describe(response)
    if response.status_code == 303 and path == "/account":  # the display name: saved or kept
        assert response.headers["location"] == "/account", describe(response)
    elif response.status_code == 303:  # a new application: to its page, which says so
        assert response.headers["location"].startswith("/applications/opc_"), describe(response)
    else:
        assert is_html(response), describe(response)


# --- odd bytes anywhere in the request line or headers (raw HTTP/1.1) ------------------------

PATH_PREFIXES = [b"", b"/mindmaps", b"/mindmaps/abcdefg", b"/mindmaps/abcdefg/files", b"/static",
                 b"/docs/assets", b"/oauth", b"/users", b"/maps", b"/signin", b"/openapi.json"]
ODD_SEGMENTS = [b"%ff", b"%00", b"%", b"%zz", b"%2e%2e", b"..", b"%2F", b"\xff", b"\xc3\x28",
                b"\x00", b"\x7f", b"%c0%ae%c0%ae", b"%u002e", b";", b"\\", b"%5c..%5c", b"\xed\xa0\x80"]


ASCII_ODD_SEGMENTS = [s for s in ODD_SEGMENTS if all(0x21 <= c < 0x7F for c in s)]


@st.composite
def odd_target(draw: st.DrawFn, *, printable: bool = False) -> bytes:
    """A request target that names no page: odd bytes, bad escapes, dot segments, great length.

    ``printable`` keeps to visible ASCII (what an ordinary HTTP client will put in a URL)."""
    odd_segments = ASCII_ODD_SEGMENTS if printable else ODD_SEGMENTS
    raw = st.text(QUERY_SAFE, min_size=1, max_size=8).map(str.encode) if printable else st.binary(
        min_size=1, max_size=8)
    long = [1_000, 9_000, 30_000] if printable else [1_000, 9_000, 70_000]
    segments = draw(st.lists(st.one_of(
        st.sampled_from(odd_segments), encoded_text(), raw,
        st.sampled_from(long).map(lambda n: b"a" * n)), min_size=1, max_size=4))
    segments.insert(draw(st.integers(0, len(segments))), draw(st.sampled_from(odd_segments)))
    target = draw(st.sampled_from(PATH_PREFIXES)) + b"/" + b"/".join(segments)
    if draw(st.booleans()):
        target += b"?" + draw(junk_component() if printable else st.one_of(
            junk_component(), st.binary(max_size=20)))
    return target


def check_raw_answer(target: bytes, status: int, headers: dict[str, str], body: bytes) -> None:
    """A 4xx; or Starlette's redirect from a trailing slash to the same path without it."""
    path = unquote_to_bytes(target.split(b"?", 1)[0])
    if status == 307 and path.endswith(b"/"):
        location = urlsplit(headers["location"])
        assert location.path and not location.path.endswith("/"), (target, headers)
        return
    assert 400 <= status < 500, (target, status, headers, body[:300])


@FUZZ
@given(target=odd_target())
def test_odd_paths_are_4xx(live: Live, watch: LogWatch, target: bytes) -> None:
    response = raw_request(live, b"GET " + target + b" HTTP/1.1\r\nHost: fuzz\r\nConnection: close\r\n\r\n")
    watch.check(target)
    check_raw_answer(target, response.status, response.headers, response.body)


@FUZZ
@given(target=odd_target(printable=True))
def test_odd_paths_over_httpx_are_4xx(live: Live, watch: LogWatch, target: bytes) -> None:
    """The same, through an ordinary client: the app (not uvicorn's parser) has to answer."""
    assume(len(target) < 60_000)
    with client(live) as http:
        request = http.build_request("GET", live.url)
        try:
            request.url = request.url.copy_with(raw_path=target)
        except httpx.InvalidURL:
            reject()  # not a URL httpx will send ('#', ...); the raw-socket test sends those
        if request.url.raw_path != target:
            reject()  # httpx removed dot segments
        response = http.send(request)
    watch.check(target)
    check_raw_answer(target, response.status_code, dict(response.headers), response.content)
    if response.status_code == 404:
        assert is_html(response) or response.json()["error"] == "not_found", describe(response)


RAW_HEADER_VALUES = st.one_of(st.binary(max_size=40), header_value(), st.sampled_from(
    [b"\x00", b"Bearer \x00", b"Bearer opat_\x01", b"Basic \x7f", b"\xff" * 100, b"a\rb", b" \t "]))


@FUZZ
@given(path=st.sampled_from([b"/users/me", b"/oauth/token", b"/signin", b"/maps", b"/oauth/auth",
                             b"/mcp"]),
       name=st.sampled_from([b"Authorization", b"Content-Type", b"Cookie", b"Accept", b"X-Fuzz"]),
       value=RAW_HEADER_VALUES, body=st.binary(max_size=64))
def test_raw_header_bytes_are_4xx(
    live: Live, watch: LogWatch, path: bytes, name: bytes, value: bytes, body: bytes
) -> None:
    value = value.replace(b"\r\n", b"").replace(b"\n", b"")  # one header, no smuggled lines
    method = b"GET" if path in (b"/users/me", b"/oauth/auth") else b"POST"
    request = (method + b" " + path + b" HTTP/1.1\r\nHost: fuzz\r\nConnection: close\r\n" + name + b": "
               + value + b"\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    response = raw_request(live, request)
    watch.check(request)
    check_raw_answer(path, response.status, response.headers, response.body)


# --- /mcp (the MCP server; not in the OpenAPI document: the SDK reads JSON-RPC) --------------

JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
              st.text(max_size=20)),
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.text(max_size=10), inner, max_size=4)),
    max_leaves=12)
MCP_METHODS = ["initialize", "ping", "tools/list", "tools/call", "resources/list",
               "resources/templates/list", "resources/read", "server/discover", "prompts/list",
               "notifications/initialized", "no/such"]
TOOL_NAMES = ["search_maps", "get_map", "create_map", "update_map", "delete_map", "whoami", "nope"]


@st.composite
def json_rpc_bodies(draw: st.DrawFn) -> bytes:
    """A JSON-RPC message of any shape: good envelopes with junk params, tool calls with junk
    arguments, batches, bad envelopes, or not JSON at all."""
    tool_call = st.fixed_dictionaries({"name": st.sampled_from(TOOL_NAMES),
                                       "arguments": st.dictionaries(st.sampled_from(
                                           ["id", "query", "limit", "markdown", "outline", "tags",
                                            "visibility", "mine", "format", "x"]), JSON_VALUES,
                                           max_size=4)})
    message = st.fixed_dictionaries({
        "jsonrpc": st.sampled_from(["2.0", "2.0", "1.0"]),
        "method": st.one_of(st.sampled_from(MCP_METHODS), st.text(max_size=20)),
    }, optional={"id": st.one_of(st.integers(), st.text(max_size=8), st.none(), JSON_VALUES),
                 "params": st.one_of(tool_call, JSON_VALUES)})
    import json

    return draw(st.one_of(
        message.map(lambda m: json.dumps(m).encode()),
        st.lists(message, max_size=3).map(lambda m: json.dumps(m).encode()),
        JSON_VALUES.map(lambda v: json.dumps(v).encode()),
        st.binary(max_size=300), raw_body_bytes()))


def check_mcp_answer(response: httpx.Response) -> None:
    """A 4xx, a 202 for a notification, or a 200 with one JSON-RPC answer."""
    assert response.status_code in (200, 202) or 400 <= response.status_code < 500, describe(response)
    if response.status_code == 200:
        answer = response.json()
        assert answer["jsonrpc"] == "2.0" and ("result" in answer) != ("error" in answer), answer


@FUZZ
@given(body=json_rpc_bodies(), ctype=st.one_of(st.just(b"application/json"), content_type()),
       accept=st.sampled_from([b"application/json, text/event-stream", b"application/json",
                               b"text/event-stream", b"*/*", b"text/html"]),
       version=st.sampled_from([None, b"2025-11-25", b"2026-07-28", b"1999-01-01", b"x"]))
def test_mcp_any_body_content_type_and_version(
    live: Live, mcp_token: str, watch: LogWatch, body: bytes, ctype: bytes | None, accept: bytes,
    version: bytes | None,
) -> None:
    headers: dict[str, str | bytes] = {"Authorization": f"Bearer {mcp_token}", "Accept": accept}
    if ctype is not None:
        headers["Content-Type"] = ctype
    if version is not None:
        headers["MCP-Protocol-Version"] = version
    with client(live) as http:
        response = http.post("/mcp", content=body, headers=headers)
    watch.check((body, ctype, accept, version))
    check_mcp_answer(response)


@FUZZ
@given(data=st.data())
def test_mcp_any_authorization_header(
    live: Live, full_token: str, mcp_token: str, watch: LogWatch, data: st.DataObject
) -> None:
    header = data.draw(bearer_headers([mcp_token, full_token]), label="authorization")
    ping = b'{"jsonrpc":"2.0","id":1,"method":"ping"}'
    with client(live) as http:
        response = http.post("/mcp", content=ping, headers={
            "Authorization": header, "Content-Type": "application/json",
            "Accept": "application/json, text/event-stream"})
    watch.check(header)
    text = header.decode("latin-1")
    if response.status_code == 200:  # a token for /mcp opens it (an API token does not)
        assert mcp_token in text, describe(response)
        assert response.json()["result"] == {}, describe(response)
        return
    body = error_body(response, {"invalid_request", "invalid_token"})
    assert response.status_code == {"invalid_request": 400, "invalid_token": 401}[body["error"]]
    challenge = response.headers["www-authenticate"]
    metadata = f'resource_metadata="{live.url}/.well-known/oauth-protected-resource/mcp"'
    assert challenge.startswith(f'Bearer realm="openplate", {metadata}'), challenge
    if not text.strip():
        assert challenge == f'Bearer realm="openplate", {metadata}', challenge


# --- sanity: the strategies above send what they say ----------------------------------------

def test_content_types_cover_the_form_type() -> None:
    assert FORM in CONTENT_TYPES
    assert decode_form(b"a=%ff") is None and decode_form(b"a=1&a=2") == FormData({"a": "1"},
                                                                               frozenset({"a"}))
    assert fresh_address() != fresh_address()


def test_hypothesis_reports_name_the_failing_example() -> None:
    """Schemathesis blanks Hypothesis' failure reports process-wide; conftest.py undoes that."""
    from hypothesis import core
    from hypothesis.vendor import pretty

    assert core.RepresentationPrinter is pretty.RepresentationPrinter
