"""DPoP across two nodes sharing PostgreSQL (with Redis, and without it): one node's nonce is
good on the other, and one proof sent to both nodes at once is let in exactly once (RFC 9449
§11.1), at the token endpoint and on the API."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import REDIS_URL, _forget_redis_keys
from tests.support.burst import ANSWER_WITHIN
from tests.support.dpop import DPoPKey
from tests.support.postgres import create_database, drop_database
from tests.support.seed import Seeder
from tests.support.server import LiveServer, start_server

#: Both nodes behind one name, as behind a load balancer: a proof names that URL (htu).
PUBLIC = "http://openplate.test"
BURST = 24


@pytest.fixture(scope="module", params=["redis", "database"])
def nodes(request: pytest.FixtureRequest,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, LiveServer]]:
    database_url = create_database()
    prefix = f"openplate-test-{secrets.token_hex(4)}:"
    env = {"OPENPLATE_PUBLIC_URL": PUBLIC, "OPENPLATE_DB_POOL_SIZE": "6",
           "OPENPLATE_DB_POOL_TIMEOUT": "120"}
    if request.param == "redis":
        env |= {"OPENPLATE_REDIS_URL": REDIS_URL, "OPENPLATE_REDIS_PREFIX": prefix}
    first: Path = tmp_path_factory.mktemp("dpop-node-a")
    second: Path = tmp_path_factory.mktemp("dpop-node-b")
    a = start_server(first, database_url=database_url, extra_env=env)
    b = start_server(second, database_url=database_url, extra_env=env)
    try:
        yield a, b
    finally:
        a.stop()
        b.stop()
        drop_database(database_url)
        _forget_redis_keys(prefix)


@pytest.fixture(autouse=True)
def no_traceback(nodes: tuple[LiveServer, LiveServer]) -> Iterator[None]:
    before = [len(node.log()) for node in nodes]
    yield
    for node, start in zip(nodes, before, strict=True):
        fresh = node.log()[start:]
        assert "Traceback" not in fresh and "unhandled error" not in fresh, fresh[-3000:]


async def _together(requests: list[tuple[str, str, dict[str, str], dict[str, str] | None,
                                         tuple[str, str] | None]]) -> list[httpx.Response]:
    """Every request on a connection of its own, opened first; then all sent at once."""
    clients = [httpx.AsyncClient(timeout=ANSWER_WITHIN) for _ in requests]
    try:
        await asyncio.gather(*(client.get("/".join(url.split("/", 3)[:3]) + "/healthz")
                               for client, (_, url, _, _, _) in zip(clients, requests,
                                                                    strict=True)))
        return list(await asyncio.gather(*(
            client.request(method, url, headers=headers, data=data, auth=auth)
            for client, (method, url, headers, data, auth) in zip(clients, requests,
                                                                  strict=True))))
    finally:
        await asyncio.gather(*(client.aclose() for client in clients))


def _client_app(nodes: tuple[LiveServer, LiveServer]) -> tuple[str, str]:
    seeder = Seeder(nodes[0])
    app = seeder.app(seeder.user("dpopnode"), grant_types=("client_credentials",))
    assert app.client_secret is not None
    return app.client_id, app.client_secret


def test_one_nodes_nonce_is_good_on_the_other_and_a_proof_is_taken_once(
    nodes: tuple[LiveServer, LiveServer],
) -> None:
    a, b = nodes
    auth = _client_app(nodes)
    key = DPoPKey()
    form = {"grant_type": "client_credentials", "scope": "maps"}
    asked = httpx.post(a.url + "/oauth/token", data=form, auth=auth, timeout=30,
                       headers={"DPoP": key.proof("POST", PUBLIC + "/oauth/token")})
    assert asked.json()["error"] == "use_dpop_nonce"
    nonce = asked.headers["dpop-nonce"]
    # The nonce node A handed out, in a proof sent to both nodes at once, BURST times.
    proof = key.proof("POST", PUBLIC + "/oauth/token", nonce=nonce)
    answers = asyncio.run(_together([
        ("POST", node.url + "/oauth/token", {"DPoP": proof}, form, auth)
        for node in (a, b) * (BURST // 2)]))
    granted = [answer for answer in answers if answer.status_code == 200]
    assert len(granted) == 1, [answer.text for answer in answers][:3]
    assert granted[0].json()["token_type"] == "DPoP"
    assert {answer.json()["error"] for answer in answers if answer.status_code != 200} == {
        "invalid_dpop_proof"}
    token = granted[0].json()["access_token"]
    # On the API: a fresh proof goes in once, wherever it lands.
    url = PUBLIC + "/maps"
    api_proof = key.proof("GET", url, access_token=token)
    listed = asyncio.run(_together([
        ("GET", node.url + "/maps", {"Authorization": f"DPoP {token}", "DPoP": api_proof},
         None, None) for node in (a, b) * (BURST // 2)]))
    assert sorted(answer.status_code for answer in listed) == [200] + [401] * (BURST - 1)
    for answer in listed:
        if answer.status_code == 401:
            assert answer.json()["error"] == "invalid_dpop_proof"
            assert answer.headers.get_list("www-authenticate")[0].startswith("DPoP ")
    # And each node takes the next proofs of the same key.
    for node in (a, b):
        again = httpx.get(node.url + "/maps", timeout=30, headers={
            "Authorization": f"DPoP {token}", "DPoP": key.proof("GET", url, access_token=token)})
        assert again.status_code == 200, again.text
