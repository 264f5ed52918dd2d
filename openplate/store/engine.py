"""Database engines: SQLite (embedded default) and PostgreSQL through one SQLAlchemy code path.

PostgreSQL runs on asyncpg. SQLite runs on the standard library's driver *on the event loop's own
thread*: an indexed SQLite statement takes microseconds, while handing each one to a driver
thread (aiosqlite) cost about a quarter of a millisecond a hop, four or more hops a request —
measured, see docs/performance.md. Transactions on SQLite are serialised by an asyncio lock in
the process, so they never interleave; `BEGIN IMMEDIATE` serialises them across processes. The
server's units of work on SQLite are in sqlite_units.py (one connection, group commit); this
module's ``unit_of_work`` serves the command line and migrations. On both engines the
connection faces here also run ``Prepared`` statements on the driver itself (prepared.py).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeAlias, TypeVar

from sqlalchemy import Connection, Engine, event
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.engine.interfaces import Dialect

from openplate.settings import Settings
from openplate.store.prepared import DbConnection, Prepared, run_on_asyncpg, run_on_sqlite

if TYPE_CHECKING:  # the asyncio extension (and the ORM it imports) loads only for PostgreSQL
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

AnyEngine: TypeAlias = "AsyncEngine | Engine"
T = TypeVar("T")


class DatabaseUnavailable(Exception):
    """The database could not be reached or did not answer within its time limit (a 503).

    Raised in place of the driver's bare ``TimeoutError``/``OSError``, which say nothing about
    where they came from, so that the web layer never calls another failure a database outage.
    """


class UnstorableText(ValueError):
    """Text the database cannot hold (a NUL character, or a lone surrogate, which no UTF-8 can
    encode) was about to be sent to it: the request that carried it is bad input (a 400)."""


def _storable(value: str) -> bool:
    if "\x00" in value:
        return False
    if value.isascii():
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_text(parameters: Any) -> None:
    """Refuse, before PostgreSQL does, text parameters it cannot store: it answers a NUL with
    an error (``invalid byte sequence``) and asyncpg refuses a lone surrogate, and neither
    says the request was at fault. Every statement on PostgreSQL passes through here with the
    values it is about to send (``_before_sending``, and ``AsyncFace`` for ``Prepared`` ones),
    so any text from a request does, whatever route or repository took it there.
    ``parameters``: a mapping or a sequence of values, or a list of either (executemany)."""
    if not parameters:
        return
    rows = [parameters] if isinstance(parameters, dict | tuple) else parameters
    for row in rows:
        for value in row.values() if isinstance(row, dict) else row:
            if type(value) is str and not _storable(value):
                raise UnstorableText("text with a NUL character or invalid Unicode")


def _before_sending(_conn: Any, _cursor: Any, _statement: str, parameters: Any, _context: Any,
                    executemany: bool) -> None:
    """SQLAlchemy's ``before_cursor_execute``: the parameters as sent, bound values included."""
    if parameters:
        check_text(parameters if executemany else [parameters])


_UNREACHABLE = (TimeoutError, OSError)  # asyncpg's time limits and broken connections


def async_url(url: str) -> str:
    """Map a plain PostgreSQL URL to its async driver (asyncpg)."""
    for plain, driver in (("postgresql://", "postgresql+asyncpg://"),
                          ("postgres://", "postgresql+asyncpg://")):
        if url.startswith(plain):
            return driver + url[len(plain):]
    return url


def sqlite_url(url: str) -> str:
    return url.replace("sqlite+aiosqlite://", "sqlite://", 1)


def _configure_sqlite(engine: Engine, *, foreign_keys: bool, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the driver so BEGIN is ours (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # A new file gets incremental vacuum (the purge hands free pages back); on a file that
        # has tables this only applies at its next VACUUM (purge_repo.enable_incremental_vacuum).
        cursor.execute("PRAGMA auto_vacuum=INCREMENTAL")
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: every COMMIT syncs the write-ahead log before it returns, so an answer sent after
        # it (sqlite_units.py sends none before) survives a power cut, not just a crash. NORMAL
        # synced only at checkpoints. With group commit one sync serves a whole group.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers take the write lock up front, so two writers never deadlock upgrading a
        # read lock; readers stay deferred and, under WAL, never wait for a writer.
        if conn.connection.dbapi_connection.in_transaction:
            return  # SqliteUnits began this unit on the driver itself
        readonly = conn.get_execution_options().get("openplate_readonly", False)
        conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")


def create_engine(settings: Settings, *, foreign_keys: bool = True,
                  statement_limit: bool = True) -> AnyEngine:
    """The engine for ``settings.database_url``: a sync one for SQLite, async for PostgreSQL.

    ``foreign_keys=False`` is for migrations only: SQLite rebuilds a table to alter it, and with
    foreign keys on, dropping the old copy would cascade into every table that refers to it.

    On PostgreSQL every call has a time limit (settings ``db_*_timeout``): opening a connection,
    waiting for one from the pool, and each statement, ``COMMIT`` and ``ROLLBACK`` included
    (asyncpg's ``command_timeout``, which the pool's pre-ping obeys too). A database that stops
    answering then fails the unit of work (``DatabaseUnavailable``, a 503) instead of holding it
    for as long as the database hangs. ``statement_limit=False`` lifts the statement limit, for
    migrations. Every statement's parameters are checked on their way (``check_text``).
    """
    url = settings.database_url
    if url.startswith("sqlite"):
        engine = create_sync_engine(sqlite_url(url), echo=settings.sql_echo, pool_size=2,
                                    max_overflow=4, connect_args={"check_same_thread": False})
        _configure_sqlite(engine, foreign_keys=foreign_keys,
                          busy_timeout_ms=settings.sqlite_busy_timeout_ms)
        return engine
    from sqlalchemy.ext.asyncio import create_async_engine

    # Connections beyond pool_size are closed when given back, so a pool smaller than the
    # requests in flight opens (TLS negotiation, authentication) a connection per request.
    connect_args: dict[str, object] = {"timeout": settings.db_connect_timeout}
    if statement_limit:
        connect_args["command_timeout"] = settings.db_statement_timeout
    pooled = create_async_engine(
        async_url(url), echo=settings.sql_echo, pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_size, pool_pre_ping=True,
        pool_timeout=settings.db_pool_timeout, connect_args=connect_args,
    )
    event.listen(pooled.sync_engine, "before_cursor_execute", _before_sending)
    return pooled


class InlineConnection:
    """The async face of a sync SQLite connection: each ``execute`` runs right here, no thread.

    ``Prepared`` statements go straight to the driver (see prepared.py); others through
    SQLAlchemy, in the same transaction.
    """

    def __init__(self, conn: Connection, raw: sqlite3.Connection | None = None) -> None:
        self._conn = conn
        self._raw = raw if raw is not None else driver_connection(conn)
        self.dialect: Dialect = conn.dialect

    @property
    def driver(self) -> sqlite3.Connection:
        """The sqlite3 connection itself, in this unit's transaction (for pragmas)."""
        return self._raw

    async def execute(self, statement: Any, parameters: Any = None) -> Any:
        try:
            if type(statement) is Prepared:
                return run_on_sqlite(self._raw, self.dialect, statement, parameters)
            return self._conn.execute(statement, parameters)
        except UnicodeEncodeError as error:  # a lone surrogate: sqlite3 cannot encode it
            raise UnstorableText("text with invalid Unicode") from error


_ADAPTER_PARTS = ("_execute_mutex", "_transaction", "_start_transaction", "_handle_exception",
                  "driver_connection")


class AsyncFace:
    """An ``AsyncConnection`` that also takes ``Prepared`` statements.

    On asyncpg they run on the driver directly (see ``prepared.run_on_asyncpg``), in the same
    transaction; if SQLAlchemy's adapter lacks what that needs (another version), they run as
    the plain Core statements they are.
    """

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn
        self.dialect: Dialect = conn.dialect
        self._adapter: Any = None

    async def _driver_adapter(self) -> Any:
        if self._adapter is None:
            raw = await self._conn.get_raw_connection()
            adapter = raw.dbapi_connection
            usable = self.dialect.driver == "asyncpg" and all(
                hasattr(adapter, part) for part in _ADAPTER_PARTS)
            self._adapter = adapter if usable else False
        return self._adapter

    async def execute(self, statement: Any, parameters: Any = None) -> Any:
        try:
            if type(statement) is Prepared:
                adapter = await self._driver_adapter()
                if adapter:
                    check_text(parameters)  # Core statements: see _before_sending
                    return await run_on_asyncpg(adapter, self.dialect, statement, parameters)
                statement = statement.statement
            return await self._conn.execute(statement, parameters)
        except _UNREACHABLE as error:
            # Past its time limit the connection is mid-statement: close it rather than wait
            # for a ROLLBACK that a frozen server would not answer either.
            await self._conn.invalidate()
            raise DatabaseUnavailable(f"{type(error).__name__} from the database") from error


def driver_connection(conn: Connection) -> sqlite3.Connection:
    raw = conn.connection.dbapi_connection
    assert isinstance(raw, sqlite3.Connection)
    return raw


@asynccontextmanager
async def unit_of_work(
    engine: AnyEngine, *, readonly: bool = False, lock: asyncio.Lock | None = None
) -> AsyncIterator[DbConnection]:
    """One transaction: committed when the block ends normally, rolled back on an exception."""
    if isinstance(engine, Engine):
        assert lock is not None
        async with lock:
            with engine.connect() as sync_conn:
                if readonly:
                    sync_conn = sync_conn.execution_options(openplate_readonly=True)
                with sync_conn.begin():
                    # Repositories are written against AsyncConnection's execute/dialect, which
                    # InlineConnection provides.
                    yield InlineConnection(sync_conn)
        return
    async with _reached(engine.connect()) as conn:
        if readonly:
            conn = await conn.execution_options(openplate_readonly=True)
        async with _reached(conn.begin()):
            yield AsyncFace(conn)


class _reached(Generic[T]):  # noqa: N801 - a wrapper used like the context manager it wraps
    """An async context manager whose own database work, connecting (pool checkout, pre-ping,
    connect) on entry and COMMIT/ROLLBACK/check-in on exit, raises ``DatabaseUnavailable``
    rather than a bare ``TimeoutError``/``OSError``. The block's own exceptions pass as they are.
    """

    __slots__ = ("_inner",)

    def __init__(self, inner: AbstractAsyncContextManager[T]) -> None:
        self._inner = inner

    async def __aenter__(self) -> T:
        try:
            return await self._inner.__aenter__()
        except _UNREACHABLE as error:
            raise DatabaseUnavailable(f"{type(error).__name__} from the database") from error

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        trace: TracebackType | None) -> bool | None:
        try:
            return await self._inner.__aexit__(kind, error, trace)
        except _UNREACHABLE as failure:
            if failure is error:
                raise
            raise DatabaseUnavailable(f"{type(failure).__name__} from the database") from failure


async def dispose(engine: AnyEngine) -> None:
    if isinstance(engine, Engine):
        engine.dispose()
    else:
        await engine.dispose()
