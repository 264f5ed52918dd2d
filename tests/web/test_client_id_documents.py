"""Client ID metadata documents over HTTP, on each engine: a client_id that is a URL is fetched
through the address guard, checked, kept for its max-age and used like a registered public app;
every problem with the document is a page that names it, never a redirect; the server never
fetches from a private address unless the operator allows it."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.conftest import _backend_server
from tests.support.browser_flow import hidden_fields, redirect_params, sign_in
from tests.support.document_host import DocumentHost, serve_documents
from tests.support.seed import Seeder
from tests.support.server import LiveServer

CALLBACK = "http://127.0.0.1:43120/callback"


@pytest.fixture(scope="module")
def host() -> Iterator[DocumentHost]:
    with serve_documents() as served:
        yield served


@pytest.fixture(scope="module", params=["sqlite", "postgresql+redis"])
def server(request: pytest.FixtureRequest,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from _backend_server(request.param, tmp_path_factory, extra_env={
        "OPENPLATE_CLIENT_ID_METADATA_DOCUMENTS": "true",
        "OPENPLATE_ALLOW_PRIVATE_CLIENT_URLS": "true"})


def _document(client_id: str, **more: object) -> dict[str, object]:
    return {"client_id": client_id, "client_name": "Outline Assistant",
            "redirect_uris": [CALLBACK], "grant_types": ["authorization_code", "refresh_token"],
            "token_endpoint_auth_method": "none", **more}


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _params(client_id: str, challenge: str, **more: str) -> dict[str, str]:
    return {"client_id": client_id, "redirect_uri": CALLBACK, "response_type": "code",
            "scope": "openid maps", "state": "st", "code_challenge": challenge,
            "code_challenge_method": "S256", **more}


def test_an_assistant_known_only_by_its_document_signs_a_person_in(
        server: LiveServer, host: DocumentHost) -> None:
    path = f"/clients/{secrets.token_hex(4)}.json"
    client_id = host.url + path
    host.serve(path, _document(client_id), headers={"cache-control": "max-age=600"})
    verifier, challenge = _pkce()
    person = Seeder(server).user("cimd")
    with httpx.Client(base_url=server.url, timeout=20) as browser:
        first = browser.get("/oauth/auth", params=_params(client_id, challenge))
        assert first.status_code == 303, first.text[:800]
        next_path = parse_qs(urlsplit(first.headers["location"]).query)["next"][0]
        consent = browser.get(sign_in(browser, person, next_path=next_path).headers["location"])
        assert consent.status_code == 200, consent.text[:800]
        assert "This app registered itself." in consent.text
        port = host.url.rsplit(":", 1)[1]
        assert f'published by <strong class="vouching-host">127.0.0.1:{port}' in consent.text
        assert "Outline Assistant" in consent.text
        answered = browser.post("/oauth/auth/decision",
                                data={**hidden_fields(consent.text), "decision": "allow"})
    code = redirect_params(answered)["code"]
    tokens = httpx.post(server.url + "/oauth/token", timeout=20, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK,
        "client_id": client_id, "code_verifier": verifier})
    assert tokens.status_code == 200, tokens.text
    assert host.fetches[path] == 1  # kept for its max-age: the token request fetched nothing


def test_the_document_is_fetched_once_for_requests_at_once(server: LiveServer,
                                                           host: DocumentHost) -> None:
    path = f"/clients/{secrets.token_hex(4)}.json"
    client_id = host.url + path
    host.serve(path, _document(client_id))
    _, challenge = _pkce()

    def ask(_: int) -> int:
        with httpx.Client(base_url=server.url, timeout=30) as browser:
            return browser.get("/oauth/auth", params=_params(client_id, challenge)).status_code

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(ask, range(8)))
    assert answers == [303] * 8
    assert host.fetches[path] == 1


BAD = [
    ("another client_id", lambda cid: _document("https://other.example/c.json"), {}, 200,
     "names another client_id"),
    ("a secret", lambda cid: _document(cid, client_secret="s3cret"), {}, 200,
     "must not hold client_secret"),
    ("secret authentication", lambda cid: _document(cid, token_endpoint_auth_method=
                                                     "client_secret_basic"), {}, 200,
     "token_endpoint_auth_method"),
    ("client credentials", lambda cid: _document(cid, grant_types=["client_credentials"]), {},
     200, "client_credentials"),
    ("a bad redirect URI", lambda cid: _document(cid, redirect_uris=["https://x.example/*"]),
     {}, 200, "wildcard"),
    ("not found", lambda cid: {"error": "gone"}, {}, 404, "answered 404"),
    ("a redirect", lambda cid: {}, {"location": "http://127.0.0.1:1/"}, 302, "answered 302"),
    ("not JSON", lambda cid: b"<html>", {}, 200, "not JSON"),
    ("too large", lambda cid: b"[" + b"1," * 20_000 + b"1]", {}, 200, "too large"),
    ("not an object", lambda cid: [cid], {}, 200, "not a JSON object"),
]


@pytest.mark.parametrize(("what", "make", "headers", "status", "words"), BAD,
                         ids=[b[0] for b in BAD])
def test_a_bad_document_is_a_page_that_says_why(
        server: LiveServer, host: DocumentHost, what: str, make: Any, headers: dict[str, str],
        status: int, words: str) -> None:
    path = f"/clients/{secrets.token_hex(4)}.json"
    client_id = host.url + path
    host.serve(path, make(client_id), status=status, headers=headers)
    _, challenge = _pkce()
    answer = httpx.get(server.url + "/oauth/auth", params=_params(client_id, challenge),
                       timeout=20)
    assert answer.status_code == 400, (what, answer.status_code)
    assert "location" not in answer.headers
    assert words in answer.text.replace("&#39;", "'"), (what, answer.text[:3000])
    assert Seeder(server).scalar("SELECT count(*) FROM clients WHERE client_id = :c",
                                 c=client_id) == 0


@pytest.mark.parametrize("client_id", [
    "http://example.com/client.json",  # not https (and not loopback)
    "https://example.com",  # no path
    "https://example.com/",
    "https://example.com/a/../client.json",
    "https://user:pw@example.com/client.json",
    "https://example.com/client.json#frag",
])
def test_client_id_urls_follow_the_drafts_rules(server: LiveServer, client_id: str) -> None:
    answer = httpx.get(server.url + "/oauth/auth",
                       params=_params(client_id, _pkce()[1]), timeout=20)
    assert answer.status_code == 400 and "location" not in answer.headers, answer.text[:500]


def test_discovery_says_documents_are_accepted(server: LiveServer) -> None:
    metadata = httpx.get(server.url + "/.well-known/oauth-authorization-server", timeout=20).json()
    assert metadata["client_id_metadata_document_supported"] is True


@pytest.fixture(scope="module")
def guarded_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from _backend_server("sqlite", tmp_path_factory, extra_env={
        "OPENPLATE_CLIENT_ID_METADATA_DOCUMENTS": "true"})


@pytest.mark.parametrize("client_id", [
    "https://127.0.0.1/client.json", "https://localhost/client.json",
    "https://169.254.169.254/latest/meta-data/client.json", "https://10.0.0.8/client.json",
    "https://[::1]/client.json", "https://0.0.0.0/client.json",
])
def test_private_addresses_are_never_fetched_by_default(guarded_server: LiveServer,
                                                        client_id: str) -> None:
    answer = httpx.get(guarded_server.url + "/oauth/auth",
                       params=_params(client_id, _pkce()[1]), timeout=20)
    assert answer.status_code == 400, answer.text[:500]
    assert "non-public address" in answer.text, answer.text[:3000]


def test_documents_are_off_unless_the_operator_turns_them_on(flow_server: LiveServer) -> None:
    answer = httpx.get(flow_server.url + "/oauth/auth",
                       params=_params("https://app.example/client.json", _pkce()[1]), timeout=20)
    assert answer.status_code == 400 and "does not accept client ID metadata documents" in (
        answer.text)
    metadata = httpx.get(flow_server.url + "/.well-known/openid-configuration", timeout=20).json()
    assert "client_id_metadata_document_supported" not in metadata


def test_a_document_client_may_push_its_request_first(server: LiveServer,
                                                      host: DocumentHost) -> None:
    """RFC 9126 with a client known only by its document: the push fetches it."""
    path = f"/clients/{secrets.token_hex(4)}.json"
    client_id = host.url + path
    host.serve(path, _document(client_id))
    _, challenge = _pkce()
    pushed = httpx.post(server.url + "/oauth/par", timeout=20,
                        data=_params(client_id, challenge))
    assert pushed.status_code == 201, pushed.text
    answer = httpx.get(server.url + "/oauth/auth", timeout=20, params={
        "client_id": client_id, "request_uri": pushed.json()["request_uri"]})
    assert answer.status_code == 303 and answer.headers["location"].startswith("/signin")
    assert host.fetches[path] == 1
    broken = host.serve(f"/clients/{secrets.token_hex(4)}.json", {"client_id": "x"})
    refused = httpx.post(server.url + "/oauth/par", timeout=20, data=_params(broken, challenge))
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"
    assert "names another client_id" in refused.json()["error_description"]
