"""Token-endpoint calls as a confidential client makes them."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import httpx

from tests.support.browser_flow import obtain_code
from tests.support.seed import Account, App

T = TypeVar("T")


def exchange(base_url: str, app: App, code: str, **extra: str) -> httpx.Response:
    return httpx.post(base_url + "/oauth/token", timeout=30, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": app.redirect_uris[0],
        "client_id": app.client_id, **({"client_secret": app.client_secret} if app.client_secret else {}),
        **extra})


def tokens_for(base_url: str, account: Account, app: App, **extra: str) -> dict[str, str]:
    """Run the browser half of the flow for ``account`` and redeem the code: the token answer."""
    code = obtain_code(base_url, account, app.client_id, app.redirect_uris[0], **extra)
    body: dict[str, str] = exchange(base_url, app, code).json()
    return body


def refresh(base_url: str, app: App, refresh_token: str, **extra: str) -> httpx.Response:
    return httpx.post(base_url + "/oauth/token", timeout=30, data={
        "grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": app.client_id,
        **({"client_secret": app.client_secret} if app.client_secret else {}), **extra})


def me(base_url: str, access_token: str) -> httpx.Response:
    return httpx.get(base_url + "/users/me", headers={"Authorization": f"Bearer {access_token}"},
                     timeout=30)


def all_at_once(count: int, call: Callable[[], T]) -> list[T]:
    """Run ``call`` on ``count`` threads released together by a barrier."""
    barrier = threading.Barrier(count)

    def run() -> T:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(lambda _: run(), range(count)))
