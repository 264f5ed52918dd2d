"""Write-ahead-log checkpoints on a thread of their own, off the event loop.

By default SQLite checkpoints inside the ``COMMIT`` that takes the log past 1,000 pages: that
commit copies the pages back into the database file and waits for two ``fsync`` calls, with
the event loop (every request of the process) stopped behind it. On our benchmark machine half
of the wall time of the group commits of client-credentials tokens went there.

Here the serving connection never checkpoints on commit (``wal_autocheckpoint=0``). After
every ``every`` group commits, a ``PASSIVE`` checkpoint runs on a second connection in a worker
thread (the driver releases the GIL while SQLite works), one at a time, while writers go on
appending to the log. SQLite starts the log from its beginning again only when a writer begins
with every page of it already copied back, which a checkpoint racing the writers never
achieves; so when the thread is done, the serving connection copies the few pages written
meanwhile itself, before it begins its next group (the *tail*), and that group's first write
rewinds the log. The log file stays at about ten megabytes under sustained token load;
without the tail it grew without bound.

A server whose load stops (the end of a burst) also checkpoints once it has been quiet for
``idle`` seconds, so that the log it leaves behind is copied back while nobody waits, not by the
first requests of the next burst.

Durability does not depend on the checkpoints: a transaction is durable once its ``COMMIT`` has
written it to the log and synced the log (``synchronous=FULL``, engine.py); a checkpoint only
copies it into the database file, syncing the log before and the file after. If a checkpoint
fails, the failure is logged and the serving connection goes back to SQLite's own checkpoints.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from concurrent.futures import Future, ThreadPoolExecutor

log = logging.getLogger("openplate.store")

#: Group commits between checkpoints: a few thousand log pages at most under token load.
CHECKPOINT_EVERY = 64
#: Seconds without a commit after which the log is checkpointed, however few groups it holds.
IDLE_SECONDS = 0.5


class Checkpointer:
    """Runs ``PRAGMA wal_checkpoint(PASSIVE)`` for one database file on a worker thread."""

    def __init__(self, path: str, *, every: int = CHECKPOINT_EVERY,
                 idle: float = IDLE_SECONDS) -> None:
        self.path = path
        self.every = every
        self.idle = idle
        #: Group commits seen, and the timer that watches for a quiet spell (one at a time).
        self.commits = 0
        self._idle_timer: asyncio.TimerHandle | None = None
        self._idle_loop: asyncio.AbstractEventLoop | None = None
        #: Checkpoints finished, and the last one's (busy, log pages, pages checkpointed).
        self.done = 0
        self.last: tuple[int, int, int] | None = None
        self.failed = False
        #: The thread finished a checkpoint: the serving connection copies the rest itself.
        self.tail_due = False
        self._since = 0
        self._running: Future[tuple[int, int, int]] | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._conn: sqlite3.Connection | None = None

    def committed(self, serving: sqlite3.Connection) -> None:
        """A group commit happened on ``serving``: start a checkpoint if one is due, else watch
        for the quiet spell after it."""
        self.commits += 1
        self._since += 1
        if self._since >= self.every:
            self._start(serving)
        loop = asyncio.get_running_loop()
        if self._idle_timer is None or self._idle_loop is not loop:  # none yet on this loop
            self._watch_for_quiet(serving, loop)

    def _watch_for_quiet(self, serving: sqlite3.Connection, loop: asyncio.AbstractEventLoop) -> None:
        seen = self.commits

        def look() -> None:
            self._idle_timer = None
            if self.failed:
                return
            if self.commits != seen or self._running is not None:
                self._watch_for_quiet(serving, loop)  # still busy: look again after a spell
            elif self._since:
                self._start(serving)

        self._idle_loop = loop
        self._idle_timer = loop.call_later(self.idle, look)

    def _start(self, serving: sqlite3.Connection) -> None:
        if self._running is not None or self.failed:
            return
        self._since = 0
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="openplate-checkpoint")
        self._running = running = self._executor.submit(self._checkpoint)
        loop = asyncio.get_running_loop()
        running.add_done_callback(
            lambda done: loop.call_soon_threadsafe(self._finished, done, serving))

    def _checkpoint(self) -> tuple[int, int, int]:
        if self._conn is None:
            self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        row = self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return int(row[0]), int(row[1]), int(row[2])

    def _finished(self, done: Future[tuple[int, int, int]], serving: sqlite3.Connection) -> None:
        self._running = None
        error = done.exception()
        if error is None:
            self.done += 1
            self.last = done.result()
            self.tail_due = True
            return
        self.failed = True
        log.warning("background checkpoint failed (%s: %s); SQLite checkpoints on commit again",
                    type(error).__name__, error)
        try:
            serving.execute("PRAGMA wal_autocheckpoint=1000")
        except sqlite3.Error:  # the serving connection is being replaced; it starts with 0
            pass

    def tail(self, serving: sqlite3.Connection) -> None:
        """Copy back what was written since the thread's checkpoint, on ``serving``, outside
        any transaction: the next write transaction then rewinds the log."""
        self.tail_due = False
        try:
            serving.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        except sqlite3.Error as error:  # busy or failing: the next round tries again
            log.warning("checkpoint of the log's tail failed (%s: %s)", type(error).__name__, error)

    def close(self) -> None:
        """Wait for a running checkpoint and close the thread's connection."""
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None
