"""Brute-force throttling: failures counted per key in fixed windows, framework- and storage-free.

Only failures count, so honest traffic never pays for a counter write; a key that reached its
limit is refused (HTTP 429 with Retry-After) until its window ends. Keys are digested before they
are stored, so no login name or address rests in the counter table.
"""

from __future__ import annotations

from dataclasses import dataclass
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
