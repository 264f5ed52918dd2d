"""Fixtures for the interoperability tests: the Node project and servers per signing algorithm."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from tests.interop.support import NodeClient, Site, Sites, ensure_node_project

SIGNING_ALGS = ("RS256", "ES256", "EdDSA")


@pytest.fixture(scope="session")
def js(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeClient]:
    """openid-client / oauth4webapi / jose, installed from the lock file on first use."""
    ensure_node_project()
    node = shutil.which("node")
    assert node is not None
    runner = NodeClient(node, tmp_path_factory.mktemp("node") / "stderr.log")
    try:
        yield runner
    finally:
        runner.close()


@pytest.fixture(scope="session")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sites]:
    started = Sites(tmp_path_factory)
    try:
        yield started
    finally:
        started.stop_all()


@pytest.fixture(scope="session")
def site(sites: Sites) -> Site:
    """The default configuration: RS256 ID tokens, opaque access tokens."""
    return sites.get("RS256", "opaque")


@pytest.fixture(scope="session", params=SIGNING_ALGS)
def signing_site(request: pytest.FixtureRequest, sites: Sites) -> Site:
    """One server per signing algorithm (OPENPLATE_SIGNING_ALG)."""
    return sites.get(request.param, "opaque")


@pytest.fixture(scope="session", params=("RS256", "EdDSA"))
def jwt_site(request: pytest.FixtureRequest, sites: Sites) -> Site:
    """RFC 9068 JWT access tokens (OPENPLATE_ACCESS_TOKEN_FORMAT=jwt)."""
    return sites.get(request.param, "jwt")


@pytest.fixture(autouse=True)
def no_interop_server_errors(sites: Sites) -> Iterator[None]:
    """Whatever the clients send, no server may log a traceback or an unhandled error."""
    before = {key: len(s.server.log()) for key, s in sites.started.items()}
    yield
    for key, started in sites.started.items():
        fresh = started.server.log()[before.get(key, 0):]
        assert "Traceback" not in fresh and "unhandled error" not in fresh, fresh[-3000:]
