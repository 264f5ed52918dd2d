"""Attempt counters for throttling, in the database (shared by every node, never "unlimited").

``take`` is one ``INSERT … ON CONFLICT DO UPDATE … WHERE below the limit … RETURNING`` per key:
the database serialises the statements on the key's row, so however many requests take at once,
at most ``limit`` of them get a row back in a window. On SQLite the units of work of a process
run one at a time and ``BEGIN IMMEDIATE`` serialises processes; on PostgreSQL the upsert locks
the row and re-checks its ``WHERE`` on the newest version. The column is still called
``failures`` (from when only failures were counted); it holds counted attempts: a password
attempt counts from before its check until it is given back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Table, bindparam, case, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from openplate.oauth.tokens import Digester
from openplate.store.prepared import DbConnection, Prepared
from openplate.store.tables import throttle
from openplate.throttling import Counted, Limit, Refused, Taken

WHERE = "database"


def _take(insert: Callable[[Table], Any]) -> Prepared:
    """Count one attempt unless the key is at its limit in a window that has not ended."""
    statement = insert(throttle)
    ended = throttle.c.window_start <= bindparam("stale")
    return Prepared(statement.on_conflict_do_update(
        index_elements=[throttle.c.key],
        set_={
            "failures": case((ended, 1), else_=throttle.c.failures + 1),
            "window_start": case((ended, statement.excluded.window_start),
                                 else_=throttle.c.window_start),
        },
        where=or_(ended, throttle.c.failures < bindparam("limit")),
    ).returning(throttle.c.failures, throttle.c.window_start))


def _fill(insert: Callable[[Table], Any]) -> Prepared:
    """Write a key as at its limit in a given window (a block reached in Redis)."""
    statement = insert(throttle)
    return Prepared(statement.on_conflict_do_update(
        index_elements=[throttle.c.key],
        set_={"failures": statement.excluded.failures,
              "window_start": statement.excluded.window_start},
    ))


_TAKE = {"sqlite": _take(sqlite_insert), "postgresql": _take(pg_insert)}
_FILL = {"sqlite": _fill(sqlite_insert), "postgresql": _fill(pg_insert)}
_GIVE_BACK = Prepared(
    update(throttle)
    .where(throttle.c.key == bindparam("name"), throttle.c.window_start == bindparam("start"),
           throttle.c.failures > 0)
    .values(failures=throttle.c.failures - 1)
)
_UNFILL = Prepared(
    update(throttle)
    .where(throttle.c.key == bindparam("name"), throttle.c.failures >= bindparam("full"))
    .values(failures=throttle.c.failures - 1)
)
_ONE_KEY = Prepared(select(throttle).where(throttle.c.key == bindparam("a")))
_TWO_KEYS = Prepared(select(throttle).where(
    or_(throttle.c.key == bindparam("a"), throttle.c.key == bindparam("b"))
))


class SqlCounters:
    def __init__(self, conn: DbConnection, digester: Digester) -> None:
        self._conn = conn
        self._digester = digester

    def stored_key(self, key: str) -> str:
        return self._digester.digest_recurring("throttle:" + key)

    async def take(self, keys: Mapping[str, Limit], *, now: int) -> Taken | Refused:
        # Rows are taken in one order (by stored key) so two takes never wait on each other.
        pending = sorted((self.stored_key(key), limit) for key, limit in keys.items())
        statement = _TAKE[self._conn.dialect.name]
        counted: list[Counted] = []
        for name, limit in pending:
            row = (await self._conn.execute(statement, {
                "key": name, "window_start": now, "failures": 1,
                "stale": now - limit.window, "limit": limit.attempts,
            })).first()
            if row is None:  # at its limit: undo this take's earlier keys, count nothing
                await self._give_back(counted)
                return Refused(await self._wait({name: limit}, now) or 1)
            counted.append(Counted(name, int(row.window_start), limit.attempts))
        return Taken(WHERE, tuple(counted))

    async def give_back(self, taken: Taken) -> None:
        await self._give_back(taken.counted)

    async def _give_back(self, counted: Sequence[Counted]) -> None:
        for name, start, _limit in counted:
            await self._conn.execute(_GIVE_BACK, {"name": name, "start": start})

    async def fill(self, key: str, limit: Limit, *, window_start: int) -> None:
        """Record a key (as stored) as at its limit in the window from ``window_start``: a block
        reached in Redis, kept here so that it holds while Redis is away."""
        await self._conn.execute(_FILL[self._conn.dialect.name], {
            "key": key, "window_start": window_start, "failures": limit.attempts})

    async def unfill(self, key: str, limit: int) -> None:
        """A key (as stored) that was full in Redis has one attempt given back there: if this
        database keeps it as full, one attempt is given back here too."""
        await self._conn.execute(_UNFILL, {"name": key, "full": limit})

    async def retry_after(self, keys: Mapping[str, Limit], *, now: int) -> int | None:
        return await self._wait({self.stored_key(key): limit for key, limit in keys.items()}, now)

    async def _wait(self, limits: dict[str, Limit], now: int) -> int | None:
        names = list(limits)
        if len(names) == 1:
            rows = await self._conn.execute(_ONE_KEY, {"a": names[0]})
        elif len(names) == 2:
            rows = await self._conn.execute(_TWO_KEYS, {"a": names[0], "b": names[1]})
        else:
            rows = await self._conn.execute(select(throttle).where(throttle.c.key.in_(names)))
        wait = 0
        for row in rows:
            limit = limits[row.key]
            ends = row.window_start + limit.window
            if row.failures >= limit.attempts and ends > now:
                wait = max(wait, ends - now)
        return wait or None
