"""The relying party of the OIDF modules: one server for the folder (the session's SQLite one),
one operator-registered app per test file, a fresh person and a fresh browser per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conformance.oidf import REDIRECT_URI, Browser, Provider, RelyingParty
from tests.support.seed import Account, App, Seeder
from tests.support.server import LiveServer


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
