"""Failure counters for throttling, in the database (shared by every node, never "unlimited")."""

from __future__ import annotations

from sqlalchemy import bindparam, case, delete, literal, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from openplate.oauth.tokens import Digester
from openplate.store.prepared import DbConnection, Prepared
from openplate.store.tables import throttle
from openplate.throttling import Limit

_TWO_KEYS = Prepared(select(throttle).where(
    or_(throttle.c.key == bindparam("a"), throttle.c.key == bindparam("b"))
))


class SqlCounters:
    def __init__(self, conn: DbConnection, digester: Digester) -> None:
        self._conn = conn
        self._digester = digester

    def _key(self, key: str) -> str:
        return self._digester.digest_recurring("throttle:" + key)

    async def retry_after(self, keys: dict[str, Limit], *, now: int) -> int | None:
        digests = {self._key(key): limit for key, limit in keys.items()}
        names = list(digests)
        if len(names) == 2:
            rows = await self._conn.execute(_TWO_KEYS, {"a": names[0], "b": names[1]})
        else:
            rows = await self._conn.execute(select(throttle).where(throttle.c.key.in_(names)))
        wait = 0
        for row in rows:
            limit = digests[row.key]
            ends = row.window_start + limit.window
            if row.failures >= limit.failures and ends > now:
                wait = max(wait, ends - now)
        return wait or None

    async def record_failure(self, keys: dict[str, Limit], *, now: int) -> None:
        insert = pg_insert if self._conn.dialect.name == "postgresql" else sqlite_insert
        for key, limit in keys.items():
            expired = throttle.c.window_start <= literal(now - limit.window)
            statement = insert(throttle).values(key=self._key(key), window_start=now, failures=1)
            await self._conn.execute(
                statement.on_conflict_do_update(
                    index_elements=[throttle.c.key],
                    set_={
                        "failures": case((expired, 1), else_=throttle.c.failures + 1),
                        "window_start": case((expired, now), else_=throttle.c.window_start),
                    },
                )
            )

    async def clear(self, key: str) -> None:
        await self._conn.execute(delete(throttle).where(throttle.c.key == self._key(key)))
