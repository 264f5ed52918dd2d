"""Attempt counters in Redis, shared by every node; the database takes over if Redis fails.

``take`` is one Lua script (atomic in Redis): if every key is below its limit, each is
incremented (its expiry, the window, starts with its first attempt); otherwise nothing is, and
the script answers how long the fullest key still has.

**Fail-over.** Counts below a limit live only where they were made, but a *block* (a key at its
limit) must hold whichever store is answering (docs/security.md, "Throttling"):

- a key that reaches its limit in Redis is also written to the database as full for the same
  window (one write per key that fills up: under attack, not in normal traffic), so if Redis
  goes away the database counters refuse it too; an attempt given back in Redis that makes the
  key no longer full does the same in the database;
- while Redis answers, the database is read as well (one indexed read per ``take``, and per
  ``retry_after`` that is not answered from the per-process memory of clear keys), so a key
  filled in the database while Redis was away, or lost when Redis restarted empty, stays
  refused when Redis is back.

So a fail-over, in either direction, never unblocks a key; at most, counts below the limit
start again from zero on the other store, once per fail-over.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from redis.asyncio import Redis
from redis.exceptions import RedisError

from openplate.oauth.tokens import Digester
from openplate.store.throttle_repo import SqlCounters
from openplate.throttling import Counted, Limit, Refused, Taken

log = logging.getLogger("openplate.redis")
WHERE = "redis"

# KEYS: the counters; ARGV: limit and window of each key, in order. When a key is at its limit,
# nothing is counted and the answer is {0, seconds1, seconds2, ...}: for each key, the seconds
# left in its window if it is at its limit, else 0. Otherwise {1, count1, ttl1, count2, ...}.
_TAKE = """
local full = {0}
local any = false
for i, name in ipairs(KEYS) do
  local count = tonumber(redis.call('GET', name) or '0')
  local left = 0
  if count >= tonumber(ARGV[2 * i - 1]) then
    left = redis.call('TTL', name)
    if left < 0 then
      left = tonumber(ARGV[2 * i])
      redis.call('EXPIRE', name, left)
    end
    any = true
  end
  full[#full + 1] = left
end
if any then return full end
local out = {1}
for i, name in ipairs(KEYS) do
  local count = redis.call('INCR', name)
  local ttl = redis.call('TTL', name)
  if ttl < 0 then
    ttl = tonumber(ARGV[2 * i])
    redis.call('EXPIRE', name, ttl)
  end
  out[#out + 1] = count
  out[#out + 1] = ttl
end
return out
"""

# KEYS: counters to give one attempt back to (never below zero, never recreating a key); ARGV:
# their limits. Answers, for each key, 1 if it was at its limit before (0 otherwise).
_GIVE_BACK = """
local out = {}
for i, name in ipairs(KEYS) do
  local count = tonumber(redis.call('GET', name) or '0')
  if count > 0 then redis.call('DECR', name) end
  if count >= tonumber(ARGV[i]) then out[i] = 1 else out[i] = 0 end
end
return out
"""


class RedisCounters:
    """Attempt counters in Redis, shared by every node."""

    def __init__(self, redis: Redis, digester: Digester, prefix: str) -> None:
        self._redis = redis
        self._digester = digester
        self._prefix = prefix
        self._take = redis.register_script(_TAKE)
        self._give_back = redis.register_script(_GIVE_BACK)

    def stored_key(self, key: str) -> str:
        """The key's digest: the same as the database's (so a block can be kept in both)."""
        return self._digester.digest_recurring("throttle:" + key)

    def _name(self, stored: str) -> str:
        return f"{self._prefix}throttle:{stored}"

    async def take(
        self, keys: Mapping[str, Limit], *, now: int
    ) -> tuple[Taken | Refused, list[tuple[str, Limit, int]]]:
        """What was taken or refused, and the keys found full or filled by this take, as
        (stored key, limit, start of its window)."""
        args: list[int] = []
        for limit in keys.values():
            args += [limit.attempts, limit.window]
        stored = [self.stored_key(key) for key in keys]
        answer = await self._take(keys=[self._name(key) for key in stored], args=args)
        limits = list(keys.values())
        if int(answer[0]) == 0:
            left = [int(seconds) for seconds in answer[1:]]
            full = [(key, limit, now + seconds - limit.window)
                    for key, limit, seconds in zip(stored, limits, left, strict=True) if seconds]
            return Refused(max(left)), full
        counted: list[Counted] = []
        filled: list[tuple[str, Limit, int]] = []
        for index, (key, limit) in enumerate(zip(stored, limits, strict=True)):
            count, ttl = int(answer[1 + 2 * index]), int(answer[2 + 2 * index])
            start = now + ttl - limit.window
            counted.append(Counted(key, start, limit.attempts))
            if count == limit.attempts:
                filled.append((key, limit, start))
        return Taken(WHERE, tuple(counted)), filled

    async def give_back(self, taken: Taken) -> list[Counted]:
        """Give the attempts back; those whose key was at its limit until now."""
        was_full = await self._give_back(keys=[self._name(c.key) for c in taken.counted],
                                         args=[c.limit for c in taken.counted])
        return [c for c, full in zip(taken.counted, was_full, strict=True) if int(full)]

    async def retry_after(self, keys: Mapping[str, Limit], *, now: int) -> int | None:
        names = [self._name(self.stored_key(k)) for k in keys]
        async with self._redis.pipeline(transaction=False) as pipe:
            for name in names:
                pipe.get(name)
                pipe.ttl(name)
            answers = await pipe.execute()
        wait = 0
        for index, limit in enumerate(keys.values()):
            count, ttl = answers[2 * index], answers[2 * index + 1]
            if count is not None and int(count) >= limit.attempts and ttl > 0:
                wait = max(wait, int(ttl))
        return wait or None


class FallbackCounters:
    """Redis, with every block also kept in the database; the database alone if Redis fails
    (fail closed: never unlimited)."""

    def __init__(self, primary: RedisCounters, database: SqlCounters) -> None:
        self._primary = primary
        self._database = database

    async def take(self, keys: Mapping[str, Limit], *, now: int) -> Taken | Refused:
        # A block kept in the database (from an outage, or mirrored) holds while Redis answers.
        wait = await self._database.retry_after(keys, now=now)
        if wait is not None:
            return Refused(wait)
        try:
            taken, full = await self._primary.take(keys, now=now)
        except (RedisError, OSError) as error:
            log.warning("redis unavailable, throttling on the database: %s", type(error).__name__)
            return await self._database.take(keys, now=now)
        # Keys this take filled are kept as full in the database too. So are keys it found full
        # in Redis but not in the database (a mirror write lost, or Redis filled by an earlier
        # release): written once, as from then on the database read above refuses first.
        for key, limit, start in full:
            await self._database.fill(key, limit, window_start=start)
        return taken

    async def give_back(self, taken: Taken) -> None:
        if taken.where != WHERE:
            await self._database.give_back(taken)
            return
        try:
            were_full = await self._primary.give_back(taken)
        except (RedisError, OSError) as error:  # the attempt stays counted: fail closed
            log.warning("redis unavailable, attempt not given back: %s", type(error).__name__)
            return
        for counted in were_full:  # no longer full in Redis: no longer in the database either
            await self._database.unfill(counted.key, counted.limit)

    async def retry_after(self, keys: Mapping[str, Limit], *, now: int) -> int | None:
        database = await self._database.retry_after(keys, now=now)
        try:
            redis = await self._primary.retry_after(keys, now=now)
        except (RedisError, OSError) as error:
            log.warning("redis unavailable, throttling on the database: %s", type(error).__name__)
            return database
        return max(database or 0, redis or 0) or None
