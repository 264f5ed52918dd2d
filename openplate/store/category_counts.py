"""The home page's categories and how many public maps each holds, kept in memory.

Counting reads every map with a category (a ``GROUP BY`` over the whole library: tens of
milliseconds at 100,000 maps), and the home page is the library's busiest page. So each process
counts at most once every ``TTL`` seconds, and again at once after it wrote a map or a category
itself (``changed``). A write made by another node or by the ``openplate`` command shows on this
process's home page within ``TTL`` seconds. The operator's ``openplate category list`` always
counts afresh.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from openplate.store.map_records import CategoryRecord

#: The longest a process shows counts it read before (seconds).
TTL = 30.0


class CategoryCounts:
    def __init__(self, ttl: float = TTL, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl
        self._clock = clock
        self._kept: list[CategoryRecord] | None = None
        self._read_at = 0.0
        self._generation = 0

    @property
    def generation(self) -> int:
        """Changes whenever this process writes a map or a category (see ``keep``)."""
        return self._generation

    def changed(self) -> None:
        """This process wrote a map or a category: the next home page counts again."""
        self._generation += 1
        self._kept = None

    def fresh(self) -> list[CategoryRecord] | None:
        """The categories as last counted, if that was less than ``TTL`` seconds ago."""
        if self._kept is not None and self._clock() - self._read_at < self._ttl:
            return self._kept
        return None

    def keep(self, categories: list[CategoryRecord], generation: int) -> None:
        """Keep what was counted, unless a write of this process came in between (a count
        begun at ``generation``, before that write, may not have seen it)."""
        if generation == self._generation:
            self._kept = categories
            self._read_at = self._clock()
