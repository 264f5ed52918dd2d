"""Units of work on SQLite: one long-lived connection per process, and group commit.

Units run one at a time (an asyncio lock; SQLite has one writer anyway), on one connection, so
no pool checkout, check-in or reset is paid per request. The transaction is begun and ended on
the driver itself; a statement that goes through SQLAlchemy joins it.

**Group commit.** A ``COMMIT`` costs more than everything else a token request asks of SQLite:
it writes every page the unit touched to the write-ahead log and waits for the log's ``fsync``
(``synchronous=FULL``, engine.py: an answer must survive a power cut, not just a crash), about
70 µs for the writes on our benchmark machine and 150-250 µs for the sync, against about 40 µs
for the statements themselves. So a writer does not commit alone.
The first writer opens a transaction (``BEGIN IMMEDIATE``); every unit then runs inside its own
``SAVEPOINT``, so a unit that fails is undone alone (``ROLLBACK TO``) and the others keep theirs;
a unit that succeeded waits for the commit; and one ``COMMIT``, scheduled for the end of the
event loop's current pass, makes the whole group durable and wakes every unit in it. While units
keep joining (each pass under load brings the requests that just arrived), the commit waits one
more pass for them, up to ``GROUP_WAIT_PASSES`` passes: the first pass that brings nobody
commits. So under load the groups are larger and the commits fewer, and a lone request waits one
pass more than it would (microseconds on an idle loop). No answer
leaves before its data is committed: a unit's ``async with`` block exits only after that commit,
and if the commit fails, every unit of the group fails with it (the client sees a 503 and
nothing it was told about is lost). Under load, the requests that arrived together commit
together; a lone request commits at once, two loop passes later.

A reader that finds no group open runs in its own deferred transaction (``BEGIN``), as before;
one that finds a group open joins it, and waits for its commit like a writer, so nothing it read
is answered before it is durable. A unit whose statements went through SQLAlchemy ends the group
there and then (SQLAlchemy commits the connection's transaction), which is just as correct.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from types import TracebackType
from typing import Generic, TypeVar

from sqlalchemy import Connection, Engine

from openplate.store.engine import InlineConnection, driver_connection
from openplate.store.prepared import DbConnection, sqlite_error
from openplate.store.sqlite_checkpoints import Checkpointer

T = TypeVar("T")


#: How many more loop passes an open group may wait for units still arriving (see ``_flush``).
GROUP_WAIT_PASSES = 3


def _connection_itself(conn: DbConnection) -> DbConnection:
    return conn


class SqliteUnits:
    """Serialised units of work on one connection, writers committed in groups."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.lock = asyncio.Lock()
        self._conn: Connection | None = None
        self._raw: sqlite3.Connection | None = None
        #: The open group: units that finished and wait for its commit. None: no group open.
        self._group: list[asyncio.Future[None]] | None = None
        self._flush_scheduled = False
        #: The group's size when ``_flush`` last looked at it, and how many passes it has waited.
        self._seen = 0
        self._waited = 0
        #: Group commits made (a lone reader's transaction is not counted).
        self.commits = 0
        path = engine.url.database
        on_disk = bool(path) and path != ":memory:" and not str(path).startswith("file:")
        #: Checkpoints off the event loop (see sqlite_checkpoints.py); None for in-memory.
        self.checkpointer = Checkpointer(str(path)) if on_disk else None

    def _connection(self) -> tuple[Connection, sqlite3.Connection]:
        if self._conn is None or self._raw is None:
            self._conn = self.engine.connect()
            self._raw = driver_connection(self._conn)
            if self.checkpointer is not None and not self.checkpointer.failed:
                self._raw.execute("PRAGMA wal_autocheckpoint=0")
        return self._conn, self._raw

    def begin(self, *, readonly: bool) -> SqliteUnit[DbConnection]:
        """One unit of work: ``async with units.begin(readonly=...) as conn``."""
        return SqliteUnit(self, readonly, _connection_itself)

    def unit(self, readonly: bool, wrap: Callable[[DbConnection], T]) -> SqliteUnit[T]:
        """A unit whose ``async with`` gives ``wrap(connection)`` (the store's repositories)."""
        return SqliteUnit(self, readonly, wrap)

    @staticmethod
    def _execute(raw: sqlite3.Connection, statement: str) -> None:
        try:
            raw.execute(statement)
        except sqlite3.Error as error:
            raise sqlite_error(statement, (), error) from error

    def _schedule_flush(self) -> None:
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        group = self._group
        if group is None:
            return
        if self.lock.locked():
            # A unit is between its statements (it awaited something inside its transaction);
            # committing now would commit half of it. It schedules the flush when it ends.
            return
        if len(group) > self._seen and self._waited < GROUP_WAIT_PASSES:
            # Units joined since the last look: requests are still coming in (a burst, or the
            # clients the last commit answered sending their next ones). Wait one more pass for
            # them rather than commit a small group now; a pass that brings nobody commits.
            self._seen = len(group)
            self._waited += 1
            self._schedule_flush()
            return
        self._commit_group()  # a failure reaches every waiting unit

    def _commit_group(self) -> Exception | None:
        """Commit the open group and wake its units; the error, if it failed, reaches each."""
        group, self._group = self._group or [], None
        self.commits += 1
        try:
            self._finish(commit=True)
        except Exception as error:  # noqa: BLE001 - handed to every unit of the group
            for done in group:
                if not done.done():
                    done.set_exception(error)
            return error
        for done in group:
            if not done.done():
                done.set_result(None)
        if self.checkpointer is not None and self._raw is not None:
            self.checkpointer.committed(self._raw)
        return None

    def _undo_unit(self, conn: Connection, raw: sqlite3.Connection) -> None:
        """A unit failed: undo its own changes and keep the group's."""
        try:
            raw.execute("ROLLBACK TO unit")
            raw.execute("RELEASE unit")
        except sqlite3.Error as error:
            self._abandon_group(sqlite_error("ROLLBACK TO unit", (), error))
            return
        if conn.in_transaction():
            self._commit_group()  # the unit's own error is what its caller sees
        elif self._group:
            self._schedule_flush()
        else:
            self._finish(commit=False)
            self._group = None

    def _abandon_group(self, error: BaseException) -> None:
        """The transaction cannot go on: roll everything back and fail every waiting unit."""
        group, self._group = self._group or [], None
        try:
            self._finish(commit=False)
        except Exception:  # noqa: BLE001 - already failing; the connection is replaced
            self.close()
        for done in group:
            if not done.done():
                done.set_exception(error)

    def _finish(self, *, commit: bool) -> None:
        """End the connection's transaction, through SQLAlchemy if it joined in."""
        conn, raw = self._conn, self._raw
        assert conn is not None and raw is not None
        try:
            if conn.in_transaction():
                conn.commit() if commit else conn.rollback()
            elif raw.in_transaction:
                raw.commit() if commit else raw.rollback()
        except BaseException as error:
            # A failed COMMIT (the database locked or gone) leaves nothing half-done behind:
            # roll back what is open, and start from a new connection if this one is broken.
            try:
                if conn.in_transaction():
                    conn.rollback()
                if raw.in_transaction:
                    raw.rollback()
            except Exception:  # noqa: BLE001 - the connection is unusable; replace it
                self.close()
            if conn.invalidated or conn.closed:
                self.close()
            if isinstance(error, sqlite3.Error):
                raise sqlite_error("COMMIT" if commit else "ROLLBACK", (), error) from error
            raise
        if conn.invalidated or conn.closed:
            self.close()

    def dispose(self) -> None:
        """Close the connection and stop the checkpoint thread (the app is shutting down)."""
        self.close()
        if self.checkpointer is not None:
            self.checkpointer.close()

    def close(self) -> None:
        """Close the connection; the next unit opens a new one."""
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None
                self._raw = None


class SqliteUnit(Generic[T]):
    """One unit of work, as an async context manager written out as a class: requests open
    one each, and a generator-based manager cost several microseconds more per request.

    Entering takes the lock and begins: a reader with no group open gets its own deferred
    transaction; anyone else a savepoint in the group's transaction (opened if need be).
    Leaving ends the reader's transaction, or releases the savepoint (rolls it back on error)
    and, outside the lock, waits for the group's commit.
    """

    __slots__ = ("_units", "_readonly", "_wrap", "_alone", "_conn", "_raw")

    def __init__(self, units: SqliteUnits, readonly: bool,
                 wrap: Callable[[DbConnection], T]) -> None:
        self._units = units
        self._readonly = readonly
        self._wrap = wrap
        self._alone = False
        self._conn: Connection | None = None
        self._raw: sqlite3.Connection | None = None

    async def __aenter__(self) -> T:
        units = self._units
        await units.lock.acquire()
        try:
            conn, raw = self._conn, self._raw = units._connection()
            if self._readonly and units._group is None:
                units._execute(raw, "BEGIN")
                self._alone = True
            else:
                if units._group is None:
                    checkpointer = units.checkpointer
                    if checkpointer is not None and checkpointer.tail_due:
                        checkpointer.tail(raw)
                    units._execute(raw, "BEGIN IMMEDIATE")
                    units._group = []
                    units._seen = units._waited = 0
                try:
                    units._execute(raw, "SAVEPOINT unit")
                except BaseException as error:
                    units._abandon_group(error)
                    raise
            return self._wrap(InlineConnection(conn, raw))
        except BaseException:
            units.lock.release()
            raise

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        units = self._units
        conn, raw = self._conn, self._raw
        assert conn is not None and raw is not None
        try:
            if self._alone:
                units._finish(commit=kind is None)
                return
            if kind is not None:
                units._undo_unit(conn, raw)
                return
            try:
                units._execute(raw, "RELEASE unit")
            except BaseException as failure:
                units._abandon_group(failure)
                raise
            if conn.in_transaction():
                # SQLAlchemy joined the transaction: it ends it, the group with it, right now.
                failed = units._commit_group()
                if failed is not None:
                    raise failed
                return
            done = asyncio.get_running_loop().create_future()
            assert units._group is not None
            units._group.append(done)
            units._schedule_flush()
        finally:
            units.lock.release()
        await done  # outside the lock: later units join the group meanwhile
