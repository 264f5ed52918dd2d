"""Throttle counters in Redis, shared by every node; the database takes over if Redis fails.

A failure increments ``<prefix>throttle:<digest>`` and starts its expiry with the first failure
of a window (fixed windows, as in the database). If Redis cannot be reached, the same operation
runs on the database counters instead: limits are never silently lifted.
"""

from __future__ import annotations

import logging

from redis.asyncio import Redis
from redis.exceptions import RedisError

from openplate.oauth.tokens import Digester
from openplate.throttling import Counters, Limit

log = logging.getLogger("openplate.redis")


class RedisCounters:
    """Failure counters in Redis, shared by every node."""

    def __init__(self, redis: Redis, digester: Digester, prefix: str) -> None:
        self._redis = redis
        self._digester = digester
        self._prefix = prefix

    def _key(self, key: str) -> str:
        return f"{self._prefix}throttle:{self._digester.digest_recurring('throttle:' + key)}"

    async def retry_after(self, keys: dict[str, Limit], *, now: int) -> int | None:
        names = [self._key(k) for k in keys]
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
        return wait or None

    async def record_failure(self, keys: dict[str, Limit], *, now: int) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            for key, limit in keys.items():
                name = self._key(key)
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
