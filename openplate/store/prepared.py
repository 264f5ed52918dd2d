"""Hot statements, compiled once and run on the SQLite driver directly.

A statement executed through SQLAlchemy's ``Connection`` pays for its cache lookup, execution
context, event dispatch and result wrapping: about 40 µs a statement on our benchmark machine,
several times what SQLite itself needs for an indexed lookup or a one-row insert. The handful of
statements on the token endpoint and the bearer check are therefore written as ``Prepared``: a
SQLAlchemy Core statement (so it is still built from ``tables.py`` and still runs on PostgreSQL
through SQLAlchemy unchanged), compiled to SQLite's SQL once per set of parameter names and then
executed with the standard library's ``sqlite3`` cursor inside the same transaction.

Only plain column types may be used in a ``Prepared`` statement (integers, text, booleans stored
as integers): no result or bind processing happens on this path. ``compile`` refuses an insert
that would need a Python-side column default it cannot apply.
"""

from __future__ import annotations

import sqlite3
from collections import namedtuple
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, Protocol, cast

from sqlalchemy.engine.interfaces import Dialect
from sqlalchemy.exc import DBAPIError, MultipleResultsFound, NoResultFound, StatementError
from sqlalchemy.sql import Insert
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement


@dataclass(slots=True)
class _Compiled:
    sql: str
    order: tuple[str, ...]
    fixed: dict[str, Any]
    returns_rows: bool
    row_class: Any = None
    #: The parameter values in ``order``, from the caller's mapping (and ``fixed``).
    pick: Callable[[Mapping[str, Any]], tuple[Any, ...]] = field(init=False)

    def __post_init__(self) -> None:
        self.pick = _picker(self.order, self.fixed)


def _picker(
    order: tuple[str, ...], fixed: dict[str, Any]
) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """A C-speed ``tuple(values[name] for name in order)`` (``itemgetter``), fixed values merged."""
    if not order:
        return lambda values: ()
    get = itemgetter(*order)
    one = len(order) == 1
    if fixed:
        if one:
            return lambda values: (get({**fixed, **values}),)
        return lambda values: get({**fixed, **values})
    if one:
        return lambda values: (get(values),)
    return get


@dataclass(eq=False)
class Prepared:
    """A Core statement plus its compilations, by dialect and the names of the parameters."""

    statement: ClauseElement
    _compiled: dict[tuple[str, str, tuple[str, ...]], _Compiled] = field(
        default_factory=dict, repr=False)

    def compile_for(self, dialect: Dialect, names: tuple[str, ...]) -> _Compiled:
        key = (dialect.name, dialect.paramstyle, names)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = self._compile(dialect, names)
        return compiled

    def _compile(self, dialect: Dialect, names: tuple[str, ...]) -> _Compiled:
        statement = self.statement
        if isinstance(statement, Insert):
            table = statement.table
            missing = [
                column.name for column in getattr(table, "columns", ())
                if column.name not in names and (column.default is not None or column.onupdate)
            ]
            if missing:
                raise ValueError(f"{table} has column defaults a Prepared insert skips: {missing}")
        if not dialect.positional:
            raise ValueError(f"Prepared statements need a positional paramstyle, not {dialect.paramstyle}")
        compiled = cast(SQLCompiler, statement.compile(dialect=dialect, column_keys=list(names)))
        order = tuple(compiled.positiontup or ())
        fixed = {name: value for name, value in compiled.params.items() if name not in names}
        dml = compiled.isinsert or compiled.isupdate or compiled.isdelete
        returns_rows = not dml or bool(compiled.effective_returning)
        return _Compiled(str(compiled), order, fixed, returns_rows)

    def bind(self, dialect: Dialect, params: Mapping[str, Any] | None) -> tuple[_Compiled, tuple[Any, ...]]:
        """The compiled statement for these parameter names, and the values in its order."""
        values = params or {}
        names = tuple(values)
        compiled = self._compiled.get((dialect.name, dialect.paramstyle, names))
        if compiled is None:
            compiled = self.compile_for(dialect, names)
        return compiled, compiled.pick(values)


class DbConnection(Protocol):
    """What repositories need of a connection: its dialect, and ``execute`` of Core statements
    or ``Prepared`` ones (SQLite's ``InlineConnection``, PostgreSQL's ``AsyncFace``)."""

    @property
    def dialect(self) -> Dialect: ...

    async def execute(
        self, statement: Executable | Prepared,
        parameters: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
    ) -> Any: ...


class Rows:
    """The few result methods our repositories use, over rows fetched in full."""

    __slots__ = ("_rows", "rowcount")

    def __init__(self, rows: Sequence[Any], rowcount: int) -> None:
        self._rows = rows
        self.rowcount = rowcount

    def __iter__(self) -> Iterator[Any]:
        return iter(self._rows)

    def first(self) -> Any:
        return self._rows[0] if self._rows else None

    def all(self) -> list[Any]:
        return list(self._rows)

    def scalar(self) -> Any:
        return self._rows[0][0] if self._rows else None

    def scalar_one(self) -> Any:
        if not self._rows:
            raise NoResultFound("No row was found when one was required")
        if len(self._rows) > 1:
            raise MultipleResultsFound("Multiple rows were found when exactly one was required")
        return self._rows[0][0]


def sqlite_error(sql: str, args: tuple[Any, ...], error: sqlite3.Error) -> StatementError:
    """A ``sqlite3`` error as the SQLAlchemy exception its class maps to (values not shown)."""
    return DBAPIError.instance(sql, args, error, sqlite3.Error, hide_parameters=True)


def run_on_sqlite(
    raw: sqlite3.Connection, dialect: Dialect, prepared: Prepared,
    params: Mapping[str, Any] | None,
) -> Rows:
    """Execute ``prepared`` on the driver connection; errors come out as SQLAlchemy's."""
    compiled, args = prepared.bind(dialect, params)
    try:
        cursor = raw.execute(compiled.sql, args)
        if cursor.description is None:
            return Rows((), cursor.rowcount)
        fetched = cursor.fetchall()
    except sqlite3.Error as error:
        raise sqlite_error(compiled.sql, args, error) from error
    row_class = compiled.row_class
    if row_class is None:
        names = [column[0] for column in cursor.description]
        row_class = compiled.row_class = namedtuple("Row", names)
    make = row_class._make
    return Rows([make(row) for row in fetched], cursor.rowcount)


async def run_on_asyncpg(
    adapted: Any, dialect: Dialect, prepared: Prepared, params: Mapping[str, Any] | None
) -> Rows:
    """Execute ``prepared`` on asyncpg, inside the transaction SQLAlchemy's adapter manages.

    ``adapted`` is SQLAlchemy's asyncpg connection adapter: its mutex keeps our statement from
    interleaving with one of SQLAlchemy's, and its transaction is started first, as SQLAlchemy
    does before its own statements, so both run in one transaction that SQLAlchemy ends.
    asyncpg keeps the server-side prepared statement per SQL text.
    """
    compiled, args = prepared.bind(dialect, params)
    try:
        async with adapted._execute_mutex:
            if adapted._transaction is None:
                await adapted._start_transaction()
            driver = adapted.driver_connection
            if not compiled.returns_rows:
                status = await driver.execute(compiled.sql, *args)
                count = status.rsplit(" ", 1)[-1]
                return Rows((), int(count) if count.isdigit() else -1)
            records = await driver.fetch(compiled.sql, *args)
    except Exception as error:  # noqa: BLE001 - re-raised as SQLAlchemy's exception for it
        raise _translated(adapted, compiled.sql, args, error) from error
    row_class = compiled.row_class
    if row_class is None:
        if not records:
            return Rows((), 0)
        row_class = compiled.row_class = namedtuple("Row", list(records[0].keys()))
    make = row_class._make
    return Rows([make(record.values()) for record in records], len(records))


def _translated(adapted: Any, sql: str, args: tuple[Any, ...], error: Exception) -> Exception:
    """asyncpg's error as the DBAPI error SQLAlchemy would have raised (IntegrityError, ...)."""
    if isinstance(error, DBAPIError):
        return error
    try:
        adapted._handle_exception(error)
    except Exception as dbapi_error:  # noqa: BLE001 - the adapter raises its translation
        error = dbapi_error
    return DBAPIError.instance(sql, args, error, Exception, hide_parameters=True)
