"""Many requests at once: what an attacker's parallel burst looks like, from a chosen address.

Every request of a burst has its own connection, opened (with a GET of ``/healthz``) before the
first POST is sent, so the server has all of the POSTs in flight together. Any 127.0.0.0/8
address reaches a server on 127.0.0.1, so ``source`` gives each test addresses of its own:
per-address budgets of one test never spill into another's.
"""

from __future__ import annotations

import asyncio
import re
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx

#: Seconds a request of a burst may wait for its answer: hundreds are in flight at once, each
#: behind the server's throttling and password hashing, on a machine shared with other work.
ANSWER_WITHIN = 120


@dataclass(frozen=True)
class Post:
    url: str
    data: dict[str, str]
    source: str = "127.0.0.1"
    cookies: dict[str, str] = field(default_factory=dict)
    #: A JSON body instead of the form (``data`` is then left out).
    json: object = None
    headers: dict[str, str] = field(default_factory=dict)


def _named(error: httpx.TimeoutException, request: httpx.Request, seconds: float) -> Exception:
    """The same timeout, saying which request went unanswered (httpx says only "timed out")."""
    return type(error)(f"no answer to {request.method} {request.url} (from "
                       f"{request.extensions.get('source', '?')}) within {seconds:g} s: {error}",
                       request=request)


class _Transport(httpx.HTTPTransport):
    def __init__(self, source: str, **options: object) -> None:
        super().__init__(local_address=source, **options)  # type: ignore[arg-type]
        self.source = source

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.extensions["source"] = self.source
        try:
            return super().handle_request(request)
        except httpx.TimeoutException as error:
            raise _named(error, request, ANSWER_WITHIN) from error


class _AsyncTransport(httpx.AsyncHTTPTransport):
    def __init__(self, source: str, **options: object) -> None:
        super().__init__(local_address=source, **options)  # type: ignore[arg-type]
        self.source = source

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        request.extensions["source"] = self.source
        try:
            return await super().handle_async_request(request)
        except httpx.TimeoutException as error:
            raise _named(error, request, ANSWER_WITHIN) from error


def _origin(url: str) -> str:
    parts = httpx.URL(url)
    return f"{parts.scheme}://{parts.host}:{parts.port}"


async def _together(posts: Sequence[Post]) -> list[httpx.Response]:
    tls = ssl.create_default_context()  # one for all (each client would load the CA bundle)
    clients = [
        httpx.AsyncClient(transport=_AsyncTransport(post.source, verify=tls),
                          timeout=ANSWER_WITHIN, cookies=post.cookies)
        for post in posts
    ]
    try:
        await asyncio.gather(*(client.get(_origin(post.url) + "/healthz")
                               for client, post in zip(clients, posts, strict=True)))
        return list(await asyncio.gather(*(
            client.post(post.url, headers=post.headers,
                        **({"json": post.json} if post.json is not None else {"data": post.data}))
            for client, post in zip(clients, posts, strict=True)
        )))
    finally:
        await asyncio.gather(*(client.aclose() for client in clients))


async def _forms(url: str, count: int, source: str) -> list[tuple[dict[str, str], str]]:
    tls = ssl.create_default_context()

    async def one() -> tuple[dict[str, str], str]:
        async with httpx.AsyncClient(transport=_AsyncTransport(source, verify=tls),
                                     timeout=ANSWER_WITHIN) as client:
            page = await client.get(url)
            return dict(client.cookies), csrf_of(page)

    return list(await asyncio.gather(*(one() for _ in range(count))))


def fresh_forms(url: str, count: int, *, source: str) -> list[tuple[dict[str, str], str]]:
    """``count`` browsers' worth of a form page: each its own session cookie and CSRF token."""
    return asyncio.run(_forms(url, count, source))


def post_together(posts: Sequence[Post]) -> list[httpx.Response]:
    """Send every POST at once; the answers, in the same order."""
    return asyncio.run(_together(posts))


def statuses(responses: Sequence[httpx.Response]) -> dict[int, int]:
    """How many answers had each status code."""
    counts: dict[int, int] = {}
    for response in responses:
        counts[response.status_code] = counts.get(response.status_code, 0) + 1
    return dict(sorted(counts.items()))


def browser(base_url: str, source: str = "127.0.0.1") -> httpx.Client:
    """A client from ``source``, as a browser: it keeps cookies and does not follow redirects."""
    return httpx.Client(base_url=base_url, timeout=ANSWER_WITHIN, transport=_Transport(source))


def csrf_of(page: httpx.Response) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, page.text[:500]
    return found.group(1)


def metric(base_url: str, name: str, **labels: str) -> float:
    """One sample of the server's /metrics (0 if absent)."""
    wanted = name + ("{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}" if labels else "")
    for line in httpx.get(base_url + "/metrics", timeout=30).text.splitlines():
        if line.startswith(wanted + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0
