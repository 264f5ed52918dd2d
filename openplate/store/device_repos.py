"""The SQL repository of RFC 8628 device authorisations (``openplate.oauth.ports.DeviceCodeStore``).

The two steps a burst of polls races on are one statement each: ``pace`` (of parallel polls
only one finds its interval over; the others grow it, §3.5 slow_down) and ``consume``
(``UPDATE … WHERE used_at IS NULL``: the code gives tokens once).

A slow_down grows the interval but leaves the time of the last poll that went on: a client that
polls every few milliseconds never gets through (the interval outgrows the time that passes),
while one whose count of slow_downs fell behind (an answer lost on the way) catches up, since
each of its waits is longer than the 5 seconds the interval grows by.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, or_, select, update

from openplate.oauth.models import DeviceRecord
from openplate.store.prepared import DbConnection, Prepared
from openplate.store.tables import clients, device_codes, users

#: §3.5: "the interval MUST be increased by 5 seconds for this and all subsequent requests".
SLOW_DOWN_STEP = 5

_COLUMNS = (
    device_codes.c.id, device_codes.c.client_pk, device_codes.c.scope, device_codes.c.created_at,
    device_codes.c.expires_at, device_codes.c.poll_interval, device_codes.c.status,
    device_codes.c.user_id, device_codes.c.claimed_by, device_codes.c.used_at,
    device_codes.c.auth_time, device_codes.c.amr,
)
_INSERT = Prepared(device_codes.insert().returning(device_codes.c.id))
_READ = select(*_COLUMNS, clients.c.client_id).join(
    clients, clients.c.id == device_codes.c.client_pk)
_BY_DEVICE = Prepared(_READ.where(device_codes.c.device_digest == bindparam("d")))
_BY_USER = Prepared(_READ.where(device_codes.c.user_digest == bindparam("d"))
                    .order_by(device_codes.c.id.desc()).limit(1))
_BY_ID = Prepared(_READ.where(device_codes.c.id == bindparam("did")))
_LIVE_USER_CODE = Prepared(select(device_codes.c.id).where(
    device_codes.c.user_digest == bindparam("d"), device_codes.c.expires_at > bindparam("now"))
    .limit(1))
_PACE_OK = Prepared(
    update(device_codes)
    .where(device_codes.c.id == bindparam("did"),
           or_(device_codes.c.last_polled_at.is_(None),
               device_codes.c.last_polled_at + device_codes.c.poll_interval <= bindparam("at")))
    .values(last_polled_at=bindparam("at"))
    .returning(device_codes.c.id)
)
_PACE_SLOWER = Prepared(
    update(device_codes)
    .where(device_codes.c.id == bindparam("did"))
    .values(poll_interval=device_codes.c.poll_interval + SLOW_DOWN_STEP)
    .returning(device_codes.c.poll_interval)
)
_CLAIM = Prepared(update(device_codes).where(device_codes.c.id == bindparam("did"))
                  .values(claimed_by=bindparam("uid")))
_DECIDE = Prepared(
    update(device_codes)
    .where(device_codes.c.id == bindparam("did"), device_codes.c.status == "pending",
           device_codes.c.claimed_by == bindparam("uid"),
           device_codes.c.expires_at > bindparam("at"))
    .values(status=bindparam("decision"), user_id=bindparam("uid"), decided_at=bindparam("at"),
            auth_time=bindparam("at_auth"), amr=bindparam("how"))
    .returning(device_codes.c.id)
)
# A device code whose user or application was disabled meanwhile gives no tokens.
_CONSUME = Prepared(
    update(device_codes)
    .where(device_codes.c.id == bindparam("did"), device_codes.c.used_at.is_(None),
           device_codes.c.status == "allowed",
           select(users.c.id).where(users.c.id == device_codes.c.user_id,
                                    users.c.disabled_at.is_(None)).exists(),
           select(clients.c.id).where(clients.c.id == device_codes.c.client_pk,
                                      clients.c.disabled_at.is_(None)).exists())
    .values(used_at=bindparam("at"))
    .returning(*_COLUMNS)
)


def _record(row: Any) -> DeviceRecord:
    return DeviceRecord(
        id=row.id, client_pk=row.client_pk, scope=row.scope, created_at=row.created_at,
        expires_at=row.expires_at, interval=row.poll_interval, status=row.status,
        user_id=row.user_id, claimed_by=row.claimed_by, used=row.used_at is not None,
        auth_time=row.auth_time, amr=row.amr, client_id=getattr(row, "client_id", ""),
    )


class SqlDeviceCodes:
    def __init__(self, conn: DbConnection) -> None:
        self._conn = conn

    async def create(
        self, *, device_digest: str, user_digest: str, client_pk: int, scope: str, now: int,
        expires_at: int, interval: int,
    ) -> int:
        result = await self._conn.execute(_INSERT, {
            "device_digest": device_digest, "user_digest": user_digest, "client_pk": client_pk,
            "scope": scope, "created_at": now, "expires_at": expires_at,
            "poll_interval": interval, "last_polled_at": None, "status": "pending",
            "claimed_by": None, "user_id": None, "decided_at": None, "auth_time": None,
            "amr": None, "used_at": None,
        })
        return int(result.scalar_one())

    async def user_code_live(self, *, user_digest: str, now: int) -> bool:
        found = await self._conn.execute(_LIVE_USER_CODE, {"d": user_digest, "now": now})
        return found.first() is not None

    async def _one(self, statement: Prepared, values: dict[str, object]) -> DeviceRecord | None:
        row = (await self._conn.execute(statement, values)).first()
        return _record(row) if row is not None else None

    async def by_device_code(self, *, digest: str) -> DeviceRecord | None:
        return await self._one(_BY_DEVICE, {"d": digest})

    async def by_user_code(self, *, user_digest: str) -> DeviceRecord | None:
        return await self._one(_BY_USER, {"d": user_digest})

    async def by_id(self, *, device_id: int) -> DeviceRecord | None:
        return await self._one(_BY_ID, {"did": device_id})

    async def pace(self, *, device_id: int, now: int) -> int | None:
        if (await self._conn.execute(_PACE_OK, {"did": device_id, "at": now})).first() is not None:
            return None
        slower = (await self._conn.execute(_PACE_SLOWER, {"did": device_id, "at": now})).first()
        return int(slower.poll_interval) if slower is not None else SLOW_DOWN_STEP

    async def claim(self, *, device_id: int, user_id: int) -> None:
        await self._conn.execute(_CLAIM, {"did": device_id, "uid": user_id})

    async def decide(
        self, *, device_id: int, user_id: int, allow: bool, now: int, auth_time: int | None,
        amr: str | None,
    ) -> bool:
        decided = await self._conn.execute(_DECIDE, {
            "did": device_id, "uid": user_id, "at": now, "at_auth": auth_time, "how": amr,
            "decision": "allowed" if allow else "denied"})
        return decided.first() is not None

    async def consume(self, *, device_id: int, now: int) -> DeviceRecord | None:
        return await self._one(_CONSUME, {"did": device_id, "at": now})
