"""RFC 9126 §2.2 and §4: pushed authorisation requests in SQL, each used at most once."""

from __future__ import annotations

from sqlalchemy import bindparam, select, update

from openplate.oauth.models import PushedRecord
from openplate.store.prepared import DbConnection, Prepared
from openplate.store.tables import pushed_requests

_INSERT = Prepared(pushed_requests.insert())
# One statement: of any number of uses at once, on any node, exactly one finds used_at NULL
# (PostgreSQL re-reads the row after the first writer commits; SQLite has one writer at a time).
# Another app's request_uri, or an expired one, is not matched and so not used up.
_CONSUME = Prepared(
    update(pushed_requests)
    .where(pushed_requests.c.digest == bindparam("d"),
           pushed_requests.c.client_pk == bindparam("cpk"),
           pushed_requests.c.used_at.is_(None),
           pushed_requests.c.expires_at > bindparam("now"))
    .values(used_at=bindparam("now"))
    .returning(pushed_requests.c.params)
)
_FIND = Prepared(
    select(pushed_requests.c.client_pk, pushed_requests.c.params, pushed_requests.c.expires_at,
           pushed_requests.c.used_at)
    .where(pushed_requests.c.digest == bindparam("d"))
)


class SqlPushedRequests:
    def __init__(self, conn: DbConnection) -> None:
        self._conn = conn

    async def create(
        self, *, digest: str, client_pk: int, params: str, now: int, expires_at: int,
    ) -> None:
        await self._conn.execute(_INSERT, {
            "digest": digest, "client_pk": client_pk, "params": params, "created_at": now,
            "expires_at": expires_at, "used_at": None,
        })

    async def consume(self, *, digest: str, client_pk: int, now: int) -> str | None:
        row = (await self._conn.execute(
            _CONSUME, {"d": digest, "cpk": client_pk, "now": now})).first()
        return str(row.params) if row is not None else None

    async def find(self, *, digest: str) -> PushedRecord | None:
        row = (await self._conn.execute(_FIND, {"d": digest})).first()
        if row is None:
            return None
        return PushedRecord(client_pk=row.client_pk, params=row.params,
                            expires_at=row.expires_at, used=row.used_at is not None)
