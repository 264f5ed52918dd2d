"""Brute-force throttling: failures counted per key in fixed windows, framework- and storage-free.

Only failures count, so honest traffic never pays for a counter write; a key that reached its
limit is refused (HTTP 429 with Retry-After) until its window ends. Keys are digested before they
are stored, so no login name or address rests in the counter table.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Limit:
    """At most ``failures`` failures per ``window`` seconds for one key."""

    failures: int
    window: int


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    signin_per_account: Limit = Limit(failures=10, window=900)
    signin_per_ip: Limit = Limit(failures=30, window=300)
    token_per_client: Limit = Limit(failures=60, window=60)
    token_per_ip: Limit = Limit(failures=120, window=60)

    @classmethod
    def of(
        cls, *, signin_account: int, signin_ip: int, token_client: int, token_ip: int
    ) -> ThrottlePolicy:
        """The default windows with the given failure counts."""
        return cls(
            signin_per_account=Limit(signin_account, 900),
            signin_per_ip=Limit(signin_ip, 300),
            token_per_client=Limit(token_client, 60),
            token_per_ip=Limit(token_ip, 60),
        )


class Counters(Protocol):
    """Where failure counts live: the database by default, Redis when several nodes share it."""

    async def retry_after(self, keys: dict[str, Limit], *, now: int) -> int | None:
        """Seconds until every key is below its limit again, or None if none is blocked."""
        ...

    async def record_failure(self, keys: dict[str, Limit], *, now: int) -> None: ...

    async def clear(self, key: str) -> None: ...


@dataclass
class RecentlyClear:
    """Keys found below their limits, taken as still below them for ``seconds``; per process.

    Most requests fail nothing, yet each one read the counters of its keys (a statement or a
    Redis round trip). A key found clear is remembered for a second; a failure recorded in this
    process forgets it at once, so the next request with it reads the counters again. A key
    blocked by failures in *another* process or node is noticed here within that second, after
    at most one more attempt (which fails, and so re-reads).
    """

    seconds: float = 1.0
    limit: int = 10_000
    _until: dict[str, float] = field(default_factory=dict)

    def all_clear(self, keys: dict[str, Limit]) -> bool:
        moment = time.monotonic()
        return all(self._until.get(key, 0.0) > moment for key in keys)

    def remember(self, keys: dict[str, Limit]) -> None:
        if len(self._until) >= self.limit:
            self._until.clear()
        until = time.monotonic() + self.seconds
        for key in keys:
            self._until[key] = until

    def forget(self, keys: dict[str, Limit]) -> None:
        for key in keys:
            self._until.pop(key, None)


class RememberingCounters:
    """``Counters`` that skip reading keys a ``RecentlyClear`` vouches for."""

    def __init__(self, counters: Counters, clear: RecentlyClear) -> None:
        self._counters = counters
        self._clear = clear

    async def retry_after(self, keys: dict[str, Limit], *, now: int) -> int | None:
        if self._clear.all_clear(keys):
            return None
        wait = await self._counters.retry_after(keys, now=now)
        if wait is None:
            self._clear.remember(keys)
        return wait

    async def record_failure(self, keys: dict[str, Limit], *, now: int) -> None:
        self._clear.forget(keys)
        await self._counters.record_failure(keys, now=now)

    async def clear(self, key: str) -> None:
        await self._counters.clear(key)
