"""Headless Chromium (Debian's /usr/bin/chromium) driven by Playwright's sync API.

One browser per test module; a fresh context (cookies, storage) and page for every test.
Never run ``playwright install``: the system Chromium is used through ``executable_path``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from tests.browser.helpers import sign_in
from tests.support.seed import Account, App, Seeder
from tests.support.server import LiveServer

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
#: How long a page, a navigation or a web-first assertion may take: Playwright's own deadline
#: (its failure names the locator and what was expected). Its default 5 s, and the 10 s used
#: here before, are tight for Chromium on a 2-core machine running another suite beside it.
TIMEOUT_MS = 30_000

expect.set_options(timeout=TIMEOUT_MS)

T = TypeVar("T")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture()
def open_context(browser: Browser, server: LiveServer) -> Iterator[Callable[..., BrowserContext]]:
    """Open a fresh context on the server (options as for ``new_context``); closed afterwards."""
    opened: list[BrowserContext] = []

    def make(**options: Any) -> BrowserContext:
        ctx = browser.new_context(base_url=server.url, **options)
        ctx.set_default_timeout(TIMEOUT_MS)
        ctx.set_default_navigation_timeout(TIMEOUT_MS)
        opened.append(ctx)
        return ctx

    try:
        yield make
    finally:
        for ctx in opened:
            ctx.close()


@pytest.fixture()
def context(open_context: Callable[..., BrowserContext]) -> BrowserContext:
    return open_context()


@pytest.fixture()
def page(context: BrowserContext) -> Page:
    return context.new_page()


def _off_loop(work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run ``work`` in a fresh thread.

    Playwright's sync API keeps an asyncio loop running on this thread, so ``asyncio.run`` (which
    the Seeder uses to reach the database) would raise "cannot be called from a running event
    loop" here. A worker thread has no running loop.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(work, *args, **kwargs).result()


class BrowserSeeder:
    """The shared Seeder, callable while the browser is open; plus one shared developer."""

    def __init__(self, seeder: Seeder) -> None:
        self._seeder = seeder
        self._developer: Account | None = None

    def user(self, prefix: str = "user") -> Account:
        return _off_loop(self._seeder.user, prefix)

    def app(self, owner: Account | None = None, **kwargs: Any) -> App:
        """An application of ``owner``, by default of the shared developer."""
        return _off_loop(self._seeder.app, owner or self.developer, **kwargs)

    def self_registered(self, metadata: dict[str, Any]) -> App:
        """An app that registered itself on an open server (owned by nobody)."""
        return _off_loop(self._seeder.self_registered, metadata)

    @property
    def developer(self) -> Account:
        """An account that owns applications where who owns them does not matter."""
        if self._developer is None:
            self._developer = self.user("dev")
        return self._developer


@pytest.fixture(scope="module")
def seed(seeder: Seeder) -> BrowserSeeder:
    return BrowserSeeder(seeder)


@dataclass(frozen=True)
class Member:
    """An account signed in once per module; ``state`` (cookies) starts a signed-in context."""

    account: Account
    state: Any


@pytest.fixture(scope="module")
def member(browser: Browser, server: LiveServer, seed: BrowserSeeder) -> Member:
    account = seed.user("member")
    ctx = browser.new_context(base_url=server.url)
    try:
        ctx.set_default_timeout(TIMEOUT_MS)
        sign_in(ctx.new_page(), account)
        return Member(account, ctx.storage_state())
    finally:
        ctx.close()


@pytest.fixture()
def member_page(open_context: Callable[..., BrowserContext], member: Member) -> Page:
    """A page in a fresh context that already carries ``member``'s session cookie."""
    return open_context(storage_state=member.state).new_page()
