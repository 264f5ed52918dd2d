"""RememberingCounters: a key found clear is not read again for a second, unless an attempt was
counted on it here (or was being counted while it was read); a key blocked elsewhere is seen
once the second is over. The clock is the test's own: nothing waits on a timer."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from openplate.throttling import Limit, RecentlyClear, Refused, RememberingCounters, Taken

LIMIT = Limit(attempts=2, window=60)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class CountingCounters:
    """Attempt counts in a dict, shared like a database; counts the reads."""

    def __init__(self, shared: dict[str, int]) -> None:
        self.shared = shared
        self.reads = 0
        #: Set to make the next read wait until the test releases it.
        self.hold: asyncio.Event | None = None

    async def take(self, keys: Mapping[str, Limit], *, now: int) -> Taken | Refused:
        if any(self.shared.get(key, 0) >= limit.attempts for key, limit in keys.items()):
            return Refused(30)
        for key in keys:
            self.shared[key] = self.shared.get(key, 0) + 1
        return Taken("memory", tuple((key, now) for key in keys))

    async def give_back(self, taken: Taken) -> None:
        for key, _start in taken.counted:
            self.shared[key] -= 1

    async def retry_after(self, keys: Mapping[str, Limit], *, now: int) -> int | None:
        self.reads += 1
        blocked = any(self.shared.get(key, 0) >= limit.attempts for key, limit in keys.items())
        if self.hold is not None:
            hold, self.hold = self.hold, None
            await hold.wait()
        return 30 if blocked else None


def test_clear_keys_are_read_once_and_attempts_reread() -> None:
    async def main() -> None:
        store = CountingCounters({})
        here = RememberingCounters(store, RecentlyClear(seconds=60, clock=Clock()))
        keys = {"ip:1": LIMIT}
        assert await here.retry_after(keys, now=0) is None
        assert await here.retry_after(keys, now=0) is None
        assert store.reads == 1
        assert isinstance(await here.take(keys, now=0), Taken)
        assert isinstance(await here.take(keys, now=0), Taken)
        assert await here.retry_after(keys, now=0) == 30  # re-read after local attempts
        assert store.reads == 2
        assert await here.retry_after({"ip:1": LIMIT, "client:x": LIMIT}, now=0) == 30

    asyncio.run(main())


def test_a_read_overtaken_by_a_local_attempt_is_not_remembered() -> None:
    """A read that began before an attempt was counted here may have missed it: remembering
    its "clear" would let this process take a full key as clear for a second."""
    async def main() -> None:
        store = CountingCounters({"ip:1": 1})
        here = RememberingCounters(store, RecentlyClear(seconds=60, clock=Clock()))
        keys = {"ip:1": LIMIT}
        release = store.hold = asyncio.Event()
        reading = asyncio.create_task(here.retry_after(keys, now=0))
        await asyncio.sleep(0)  # the read has seen one attempt and waits
        assert isinstance(await here.take(keys, now=0), Taken)  # the key is full now
        release.set()
        assert await reading is None  # what the read saw
        assert await here.retry_after(keys, now=0) == 30  # read again, not remembered

    asyncio.run(main())


def test_a_key_blocked_by_another_process_is_seen_after_the_interval() -> None:
    async def main() -> None:
        shared: dict[str, int] = {}
        clock = Clock()
        node_a = RememberingCounters(CountingCounters(shared), RecentlyClear(seconds=1, clock=clock))
        node_b = RememberingCounters(CountingCounters(shared), RecentlyClear(seconds=1, clock=clock))
        keys = {"client:x": LIMIT}
        assert await node_b.retry_after(keys, now=0) is None  # b remembers "clear"
        await node_a.take(keys, now=0)
        await node_a.take(keys, now=0)
        assert await node_a.retry_after(keys, now=0) == 30
        assert await node_b.retry_after(keys, now=0) is None  # still within b's second
        clock.now = 1.001
        assert await node_b.retry_after(keys, now=0) == 30

    asyncio.run(main())


def test_the_table_is_bounded() -> None:
    clear = RecentlyClear(seconds=60, limit=3)
    for i in range(10):
        clear.remember({f"k{i}": LIMIT}, read_at=clear.generation)
    assert len(clear._until) <= 3
