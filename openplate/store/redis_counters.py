"""Throttle counters in Redis, shared by every node; the database takes over if Redis fails.

A failure increments ``<prefix>throttle:<digest>`` and starts its expiry with the first failure
of a window (fixed windows, as in the database). If Redis cannot be reached, the same operation
runs on the database counters instead: limits are never silently lifted.
"""

from __future__ import annotations

import logging
import time

from redis.asyncio import Redis
from redis.exceptions import RedisError

from openplate.oauth.tokens import Digester
from openplate.throttling import Counters, Limit

log = logging.getLogger("openplate.redis")


#: How long a key Redis found below its limit is taken as still below it without asking again.
CLEAR_FOR_SECONDS = 1.0


class RedisCounters:
    """Failure counters in Redis, shared by every node; one per process.

    Most requests fail nothing, and asking Redis on every one of them cost a round trip per
    request. A key Redis found below its limit is therefore taken as clear for one second; any
    failure recorded here forgets that at once, so this node re-reads the count before its next
    request with the key. A key blocked by failures on *other* nodes is noticed here within
    that second (at most one more attempt per node, which then fails and re-reads).
    """

    def __init__(self, redis: Redis, digester: Digester, prefix: str) -> None:
        self._redis = redis
        self._digester = digester
        self._prefix = prefix
        self._clear_until: dict[str, float] = {}

    def _key(self, key: str) -> str:
        return f"{self._prefix}throttle:{self._digester.digest_recurring('throttle:' + key)}"

    async def retry_after(self, keys: dict[str, Limit], *, now: int) -> int | None:
        names = [self._key(k) for k in keys]
        moment = time.monotonic()
        if all(self._clear_until.get(name, 0.0) > moment for name in names):
            return None
        async with self._redis.pipeline(transaction=False) as pipe:
            for name in names:
                pipe.get(name)
                pipe.ttl(name)
            answers = await pipe.execute()
        wait = 0
        for index, limit in enumerate(keys.values()):
            count, ttl = answers[2 * index], answers[2 * index + 1]
            if count is not None and int(count) >= limit.failures and ttl > 0:
                wait = max(wait, int(ttl))
        if not wait:
            if len(self._clear_until) > 10_000:
                self._clear_until.clear()
            for name in names:
                self._clear_until[name] = moment + CLEAR_FOR_SECONDS
        return wait or None

    async def record_failure(self, keys: dict[str, Limit], *, now: int) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            for key, limit in keys.items():
                name = self._key(key)
                self._clear_until.pop(name, None)
                pipe.incr(name)
                pipe.expire(name, limit.window, nx=True)
            await pipe.execute()

    async def clear(self, key: str) -> None:
        await self._redis.delete(self._key(key))


class FallbackCounters:
    """Redis first; on any Redis error, the database counters (fail closed, never unlimited)."""

    def __init__(self, primary: RedisCounters, fallback: Counters) -> None:
        self._primary = primary
        self._fallback = fallback

    async def retry_after(self, keys: dict[str, Limit], *, now: int) -> int | None:
        try:
            return await self._primary.retry_after(keys, now=now)
        except (RedisError, OSError) as error:
            log.warning("redis unavailable, throttling on the database: %s", type(error).__name__)
            return await self._fallback.retry_after(keys, now=now)

    async def record_failure(self, keys: dict[str, Limit], *, now: int) -> None:
        try:
            await self._primary.record_failure(keys, now=now)
        except (RedisError, OSError) as error:
            log.warning("redis unavailable, throttling on the database: %s", type(error).__name__)
            await self._fallback.record_failure(keys, now=now)

    async def clear(self, key: str) -> None:
        try:
            await self._primary.clear(key)
        except (RedisError, OSError):
            await self._fallback.clear(key)
