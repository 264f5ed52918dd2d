"""OIDC RP-Initiated Logout and Back-Channel Logout in the core: id_token_hint checks, the
end-session request, the logout token, the sid carried from code to refresh, and the outbound
address guard; over the in-memory store, no server."""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import json
from urllib.parse import parse_qs, urlsplit

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from openplate.accounts.applications import (
    InvalidApplication,
    check_backchannel_logout_uri,
    check_post_logout_redirect_uris,
)
from openplate.net_guard import AddressRefused, Target, address_allowed, resolve
from openplate.oauth.authorize import approve, validate_request
from openplate.oauth.errors import InvalidRequest
from openplate.oauth.models import Client, IssuedTokens
from openplate.oauth.oidc.end_session import return_location, validate_logout
from openplate.oauth.oidc.hints import MAX_HINT_CHARS, HintInvalid, verify_hint
from openplate.oauth.oidc.keys import AlgKey, KeyRing, generate, load_private
from openplate.oauth.oidc.logout_token import EVENT, build_logout_token
from openplate.oauth.params import Params, parse_params
from tests.oauth.memory_flows import DIGESTER, ISSUER, REDIRECT_URI, SECRET, T0, Site

BACK = "https://app.example/signed-out"


def _ring(alg: str = "RS256") -> KeyRing:
    key = generate(alg)
    return KeyRing.build(signing={alg: AlgKey(key.kid, alg, load_private(key.private_pem))},
                         default_alg=alg, published=[key.public_jwk])


RING = _ring()
OTHER_RING = _ring()


def _id_token(ring: KeyRing = RING, **claims: object) -> str:
    body: dict[str, object] = {"iss": ISSUER, "aud": "opc_app", "sub": "7", "iat": T0,
                               "exp": T0 + 3600, "sid": "s1"}
    body.update(claims)
    return ring.sign({k: v for k, v in body.items() if v is not None})


def _verify(token: str) -> object:
    return verify_hint(token, keys=RING.published, issuer=ISSUER)


# --- id_token_hint ----------------------------------------------------------------------------

def test_a_hint_we_signed_names_its_user_client_and_session_even_when_expired() -> None:
    hint = verify_hint(_id_token(exp=T0 - 86_400), keys=RING.published, issuer=ISSUER)
    assert (hint.subject, hint.client_id, hint.sid) == ("7", "opc_app", "s1")
    assert verify_hint(_id_token(aud=["opc_app"]), keys=RING.published,
                       issuer=ISSUER).client_id == "opc_app"


def _tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "1"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


@pytest.mark.parametrize("token", [
    _id_token(OTHER_RING),  # another server's key
    _tampered(_id_token()),  # a modified payload
    _id_token(iss="https://evil.example"),  # another issuer
    _id_token(aud=["opc_app", "opc_other"]),  # more than one audience
    _id_token(sub=None),  # no subject
    RING.sign({"iss": ISSUER, "aud": ISSUER, "sub": "7", "client_id": "opc_app"}, typ="at+jwt"),
    "a.b.c", "not a token", "", "x" * (MAX_HINT_CHARS + 1), "e30.e30.",  # garbage
    "eyJhbGciOiJub25lIn0.eyJzdWIiOiI3In0.",  # alg none
], ids=["other key", "modified", "other issuer", "two audiences", "no sub", "access token",
        "dots", "words", "empty", "huge", "empty json", "alg none"])
def test_a_hint_we_did_not_issue_is_refused(token: str) -> None:
    with pytest.raises(HintInvalid):
        _verify(token)


# --- the end-session request (RP-Initiated Logout §2-§3) -------------------------------------

class _Clients:
    def __init__(self, *clients: Client) -> None:
        self._clients = {c.client_id: c for c in clients}

    async def by_client_id(self, client_id: str) -> Client | None:
        return self._clients.get(client_id)


APP = Client(pk=1, client_id="opc_app", name="Mind Mapper", owner_id=2,
             redirect_uris=(REDIRECT_URI,), secret_digest=None,
             post_logout_redirect_uris=(BACK, "https://app.example/bye?lang=en"))
OTHER = Client(pk=2, client_id="opc_other", name="Other", owner_id=2, redirect_uris=(),
               secret_digest=None, post_logout_redirect_uris=("https://other.example/bye",))
CLIENTS = _Clients(APP, OTHER)


def _logout(query: str):  # type: ignore[no-untyped-def]
    return asyncio.run(validate_logout(parse_params(query), CLIENTS, keys=RING.published,
                                       issuer=ISSUER))


def test_a_hint_and_a_registered_uri_send_the_browser_back_with_state() -> None:
    request = _logout(f"id_token_hint={_id_token()}&post_logout_redirect_uri={BACK}&state=xyz")
    assert request.client == APP and request.hint is not None
    assert return_location(request) == BACK + "?state=xyz"


def test_a_registered_query_is_kept_and_state_added() -> None:
    request = _logout("client_id=opc_app&post_logout_redirect_uri="
                      "https%3A%2F%2Fapp.example%2Fbye%3Flang%3Den&state=a%20b")
    location = return_location(request)
    assert location is not None and location.startswith("https://app.example/bye?lang=en&")
    assert parse_qs(urlsplit(location).query) == {"lang": ["en"], "state": ["a b"]}


def test_no_redirect_without_a_uri() -> None:
    for query in ("", "state=only", f"id_token_hint={_id_token()}", "client_id=opc_app",
                  "ui_locales=fr&logout_hint=alice"):
        assert return_location(_logout(query)) is None, query


@pytest.mark.parametrize("query", [
    f"post_logout_redirect_uri={BACK}",  # whose registration? neither client_id nor hint
    f"client_id=opc_app&post_logout_redirect_uri={BACK}/other",  # not registered
    "client_id=opc_app&post_logout_redirect_uri=https://other.example/bye",  # another app's
    f"client_id=opc_app&post_logout_redirect_uri={BACK}?",  # not exactly the registered one
    f"id_token_hint={_id_token()}&client_id=opc_other",  # the hint went to another client
    f"id_token_hint={_tampered(_id_token())}&post_logout_redirect_uri={BACK}",
    f"client_id=opc_gone&post_logout_redirect_uri={BACK}",  # unknown client
    f"client_id=opc_app&client_id=opc_app&post_logout_redirect_uri={BACK}",  # duplicated
    f"client_id=opc_app&post_logout_redirect_uri={BACK}&state=1&state=2",
    "client_id=opc_app&state=" + "s" * 2001,
], ids=["no client", "unregistered", "another app's", "not exact", "hint mismatch",
        "modified hint", "unknown client", "duplicated client_id", "duplicated state",
        "huge state"])
def test_a_request_that_cannot_be_honoured_is_refused(query: str) -> None:
    with pytest.raises(InvalidRequest):
        _logout(query)


# --- the logout token (Back-Channel Logout §2.4) -----------------------------------------------

def test_a_logout_token_carries_what_section_2_4_asks_and_no_nonce() -> None:
    token = build_logout_token(RING, issuer=ISSUER, client_id="opc_app", subject="7",
                               sid="s1", jti="j1", now=T0)
    decoded = jwt.decode(token, KeySet.import_key_set({"keys": list(RING.published)}))
    assert decoded.header["typ"] == "logout+jwt"
    claims = decoded.claims
    assert claims == {"iss": ISSUER, "aud": "opc_app", "iat": T0, "exp": T0 + 120, "jti": "j1",
                      "events": {EVENT: {}}, "sub": "7", "sid": "s1"}
    with pytest.raises(ValueError, match="sub or a sid"):
        build_logout_token(RING, issuer=ISSUER, client_id="c", subject=None, sid=None, jti="j",
                           now=T0)


# --- sid: from the approval to the code's ID token and every refresh's ---------------------------

def _claims(issued: IssuedTokens) -> dict[str, object]:
    assert issued.id_token is not None
    return jwt.decode(issued.id_token, KeySet.import_key_set({"keys": list(RING.published)})).claims


async def test_the_sid_travels_from_the_approval_to_every_id_token() -> None:
    site = Site.make(signer=RING)
    params = Params({"client_id": site.app.client_id, "redirect_uri": REDIRECT_URI,
                     "response_type": "code", "scope": "openid", "nonce": "n"})
    async with site.db.transaction(readonly=True) as store:
        request = await validate_request(params, store.clients, issuer=ISSUER)
    async with site.db.transaction() as store:
        location = await approve(request, user_id=site.alice.id, auth_time=T0, store=store,
                                 digester=DIGESTER, now=T0, code_ttl=60, issuer=ISSUER,
                                 sid="sid-of-5")
    code = parse_qs(urlsplit(location).query)["code"][0]
    first = await site.tokens({"grant_type": "authorization_code", "code": code,
                               "redirect_uri": REDIRECT_URI}, now=T0 + 1)
    assert _claims(first)["sid"] == "sid-of-5"
    assert first.refresh_token is not None
    second = await site.tokens({"grant_type": "refresh_token",
                                "refresh_token": first.refresh_token}, now=T0 + 100)
    assert _claims(second)["sid"] == "sid-of-5"
    assert "nonce" not in _claims(second)
    assert SECRET  # the confidential client authenticated with it


# --- the outbound guard (SSRF) -------------------------------------------------------------------

@pytest.mark.parametrize(("address", "private_ok", "public_only"), [
    ("93.184.216.34", True, True), ("2606:4700::1111", True, True),
    ("127.0.0.1", True, False), ("::1", True, False), ("10.1.2.3", True, False),
    ("192.168.1.1", True, False), ("172.16.0.1", True, False),
    ("169.254.169.254", True, False), ("fe80::1", True, False), ("fd00::1", True, False),
    ("100.64.0.1", True, False), ("::ffff:127.0.0.1", True, False),
    ("224.0.0.1", False, False), ("0.0.0.0", False, False),  # noqa: S104 - refused
    ("240.0.0.1", False, False),
    ("ff02::1", False, False),
])
def test_which_addresses_may_be_requested(address: str, private_ok: bool,
                                          public_only: bool) -> None:
    ip = ipaddress.ip_address(address)
    assert address_allowed(ip, allow_private=True) is private_ok
    assert address_allowed(ip, allow_private=False) is public_only


async def test_a_private_host_is_refused_unless_the_operator_allows_it() -> None:
    for url in ("http://127.0.0.1:9/x", "https://localhost/x", "https://[::1]/x",
                "https://169.254.169.254/latest/meta-data"):
        with pytest.raises(AddressRefused):
            await resolve(url, allow_private=False)
    target = await resolve("http://127.0.0.1:8123/logout?x=1", allow_private=True)
    assert target == Target("http://127.0.0.1:8123/logout?x=1", "127.0.0.1", 8123, "127.0.0.1")
    assert target.pinned_url == "http://127.0.0.1:8123/logout?x=1"
    for url in ("ftp://example.com/", "https:///nohost", "http://[::1/"):
        with pytest.raises(AddressRefused):
            await resolve(url, allow_private=True)


def test_the_pinned_url_keeps_the_path_and_brackets_ipv6() -> None:
    target = Target("https://rp.example/bc?a=1", "rp.example", 443, "2001:db8::5")
    assert target.pinned_url == "https://[2001:db8::5]:443/bc?a=1"


# --- registration rules ----------------------------------------------------------------------

def test_post_logout_redirect_uris_follow_the_redirect_uri_rules() -> None:
    assert check_post_logout_redirect_uris([BACK, BACK, "http://127.0.0.1/out"]) == [
        BACK, "http://127.0.0.1/out"]
    for bad in ("http://app.example/out", "https://app.example/out#x", "https://*.example/",
                "/relative", "https://app.example/a b"):
        with pytest.raises(InvalidApplication) as caught:
            check_post_logout_redirect_uris([bad])
        assert caught.value.field == "post_logout_redirect_uris"


def test_a_backchannel_logout_uri_is_https_and_public() -> None:
    assert check_backchannel_logout_uri("  ", allow_private=False) is None
    assert check_backchannel_logout_uri("https://rp.example/bc?x=1",
                                        allow_private=False) == "https://rp.example/bc?x=1"
    assert check_backchannel_logout_uri("http://127.0.0.1:8000/bc",
                                        allow_private=True) == "http://127.0.0.1:8000/bc"
    for bad, allow in [("http://rp.example/bc", True), ("http://127.0.0.1/bc", False),
                       ("https://rp.example/bc#f", False), ("https://10.0.0.1/bc", False),
                       ("https://localhost/bc", False), ("https://u:p@rp.example/", False),
                       ("https://224.0.0.1/bc", True), ("javascript:alert(1)", True),
                       ("https://rp.example:99999/", False)]:
        with pytest.raises(InvalidApplication) as caught:
            check_backchannel_logout_uri(bad, allow_private=allow)
        assert caught.value.field == "backchannel_logout_uri", bad
