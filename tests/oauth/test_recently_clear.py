"""RememberingCounters: a key found clear is not read again for a second, unless a failure was
recorded for it here; a key blocked elsewhere is seen once the second is over."""

from __future__ import annotations

import asyncio

from openplate.throttling import Limit, RecentlyClear, RememberingCounters

LIMIT = Limit(failures=2, window=60)


class CountingCounters:
    """Failure counts in a dict, shared like a database; counts the reads."""

    def __init__(self, shared: dict[str, int]) -> None:
        self.shared = shared
        self.reads = 0

    async def retry_after(self, keys: dict[str, Limit], *, now: int) -> int | None:
        self.reads += 1
        blocked = any(self.shared.get(key, 0) >= limit.failures for key, limit in keys.items())
        return 30 if blocked else None

    async def record_failure(self, keys: dict[str, Limit], *, now: int) -> None:
        for key in keys:
            self.shared[key] = self.shared.get(key, 0) + 1

    async def clear(self, key: str) -> None:
        self.shared.pop(key, None)


def test_clear_keys_are_read_once_and_failures_reread() -> None:
    async def main() -> None:
        shared: dict[str, int] = {}
        store = CountingCounters(shared)
        here = RememberingCounters(store, RecentlyClear(seconds=60))
        keys = {"ip:1": LIMIT}
        assert await here.retry_after(keys, now=0) is None
        assert await here.retry_after(keys, now=0) is None
        assert store.reads == 1
        await here.record_failure(keys, now=0)
        await here.record_failure(keys, now=0)
        assert await here.retry_after(keys, now=0) == 30  # re-read after local failures
        assert store.reads == 2
        assert await here.retry_after({"ip:1": LIMIT, "client:x": LIMIT}, now=0) == 30

    asyncio.run(main())


def test_a_key_blocked_by_another_process_is_seen_after_the_interval() -> None:
    async def main() -> None:
        shared: dict[str, int] = {}
        node_a = RememberingCounters(CountingCounters(shared), RecentlyClear(seconds=0.2))
        node_b = RememberingCounters(CountingCounters(shared), RecentlyClear(seconds=0.2))
        keys = {"client:x": LIMIT}
        assert await node_b.retry_after(keys, now=0) is None  # b remembers "clear"
        await node_a.record_failure(keys, now=0)
        await node_a.record_failure(keys, now=0)
        assert await node_a.retry_after(keys, now=0) == 30
        assert await node_b.retry_after(keys, now=0) is None  # still within b's interval
        await asyncio.sleep(0.25)
        assert await node_b.retry_after(keys, now=0) == 30

    asyncio.run(main())


def test_the_table_is_bounded() -> None:
    clear = RecentlyClear(seconds=60, limit=3)
    for i in range(10):
        clear.remember({f"k{i}": LIMIT})
    assert len(clear._until) <= 3
