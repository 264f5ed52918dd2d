"""The relying party of the OIDF modules: one server for the folder (the session's SQLite one),
one operator-registered app per test file, a fresh person and a fresh browser per test. The
"Dynamic OP" modules use ``open_registration_server`` instead: SQLite too, with
OPENPLATE_REGISTRATION=open, where each relying party registers itself."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conformance.oidf import REDIRECT_URI, Browser, Provider, RelyingParty
from tests.support.seed import Account, App, Seeder
from tests.support.server import LiveServer, start_server

#: Enough self-registrations from one address for every Dynamic OP module (the default is 10 an
#: hour, which the throttling tests in tests/web/test_client_registration.py prove).
REGISTRATIONS_PER_IP = "500"


@pytest.fixture(scope="session")
def open_registration_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A SQLite deployment where anyone may register an app (RFC 7591 at /oauth/register)."""
    live = start_server(tmp_path_factory.mktemp("oidf-dynamic"), extra_env={
        "OPENPLATE_REGISTRATION": "open", "OPENPLATE_REGISTRATIONS_PER_IP": REGISTRATIONS_PER_IP})
    try:
        yield live
    finally:
        live.stop()


@pytest.fixture(scope="module")
def provider(server: LiveServer) -> Provider:
    return Provider.discover(server.url)


@pytest.fixture(scope="module")
def app(seeder: Seeder) -> App:
    """Registered as `openplate app create` does (trusted for automatic error redirects), with
    the redirect URI the OIDF instructions ask for."""
    return seeder.app(seeder.user("rpdev"), redirect_uris=(REDIRECT_URI,), name="OIDF RP")


@pytest.fixture()
def rp(provider: Provider, app: App) -> RelyingParty:
    return RelyingParty(provider, app)


@pytest.fixture()
def account(seeder: Seeder) -> Account:
    return seeder.user("oidf")


@pytest.fixture()
def browser(server: LiveServer) -> Iterator[Browser]:
    opened = Browser(server.url)
    try:
        yield opened
    finally:
        opened.close()
