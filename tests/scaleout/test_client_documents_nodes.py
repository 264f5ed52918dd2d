"""Client ID metadata documents over two nodes sharing PostgreSQL and Redis: requests for one
new client at once on both nodes leave one app, and each node fetches at most once."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.conftest import REDIS_URL, _forget_redis_keys
from tests.support.document_host import DocumentHost, serve_documents
from tests.support.postgres import create_database, drop_database
from tests.support.seed import Seeder
from tests.support.server import LiveServer, start_server

CALLBACK = "http://127.0.0.1:43140/callback"


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, LiveServer]]:
    database_url = create_database()
    prefix = f"openplate-test-{secrets.token_hex(4)}:"
    env = {"OPENPLATE_REDIS_URL": REDIS_URL, "OPENPLATE_REDIS_PREFIX": prefix,
           "OPENPLATE_CLIENT_ID_METADATA_DOCUMENTS": "true",
           "OPENPLATE_ALLOW_PRIVATE_CLIENT_URLS": "true"}
    a = start_server(tmp_path_factory.mktemp("cimd-a"), database_url=database_url, extra_env=env)
    b = start_server(tmp_path_factory.mktemp("cimd-b"), database_url=database_url,
                     extra_env={**env, "OPENPLATE_PUBLIC_URL": a.url})
    try:
        yield a, b
    finally:
        a.stop()
        b.stop()
        drop_database(database_url)
        _forget_redis_keys(prefix)


@pytest.fixture(scope="module")
def host() -> Iterator[DocumentHost]:
    with serve_documents() as served:
        yield served


def test_a_new_document_client_asked_for_on_both_nodes_at_once_becomes_one_app(
        nodes: tuple[LiveServer, LiveServer], host: DocumentHost) -> None:
    a, b = nodes
    path = f"/c/{secrets.token_hex(4)}.json"
    client_id = host.serve(path, {"client_id": host.url + path, "client_name": "Two Nodes",
                                  "redirect_uris": [CALLBACK], "token_endpoint_auth_method": "none"})
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(
        hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    params = {"client_id": client_id, "redirect_uri": CALLBACK, "response_type": "code",
              "code_challenge": challenge, "code_challenge_method": "S256", "state": "s"}

    def ask(i: int) -> int:
        node = (a, b)[i % 2]
        with httpx.Client(base_url=node.url, timeout=30) as browser:
            return browser.get("/oauth/auth", params=params).status_code

    with ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(ask, range(12)))
    assert answers == [303] * 12
    assert 1 <= host.fetches[path] <= 2  # at most once per node
    assert Seeder(a).scalar("SELECT count(*) FROM clients WHERE client_id = :c",
                            c=client_id) == 1
