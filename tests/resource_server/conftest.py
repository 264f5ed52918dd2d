"""Real Openplate servers for the resource-server tests: one issuing JWTs, one opaque tokens."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.resource_server.support import Env, new_env
from tests.support.server import LiveServer, start_server


def _assert_clean(live: LiveServer) -> None:
    log = live.log()
    assert "Traceback" not in log and "unhandled error" not in log, log[-3000:]


@pytest.fixture(scope="session")
def jwt_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    live = start_server(tmp_path_factory.mktemp("rs-jwt"),
                        extra_env={"OPENPLATE_ACCESS_TOKEN_FORMAT": "jwt"})
    try:
        yield new_env(live)
    finally:
        live.stop()
    _assert_clean(live)


@pytest.fixture(scope="session")
def opaque_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    live = start_server(tmp_path_factory.mktemp("rs-opaque"))
    try:
        yield new_env(live)
    finally:
        live.stop()
    _assert_clean(live)


@pytest.fixture(scope="module", params=["ES256", "EdDSA"])
def other_alg_env(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Env]]:
    """A JWT server signing with ES256 or EdDSA instead of the default RS256."""
    live = start_server(tmp_path_factory.mktemp(f"rs-{request.param}"), extra_env={
        "OPENPLATE_ACCESS_TOKEN_FORMAT": "jwt", "OPENPLATE_SIGNING_ALG": request.param})
    try:
        yield request.param, new_env(live)
    finally:
        live.stop()
    _assert_clean(live)
