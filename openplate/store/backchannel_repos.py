"""OIDC Back-Channel Logout 1.0: the outbox of logout tokens owed to clients.

Rows are added in the unit of work that ends a session (``queue_for_sessions``, called by every
way ``SqlSessions`` deletes one), so a logout is owed if and only if the sign-out committed. A
worker on any node claims due rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; one conditional
UPDATE under SQLite's write lock), so no two workers deliver one row at once.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, select, update

from openplate.store.prepared import DbConnection
from openplate.store.tables import backchannel_logouts, clients, grants, sessions

#: The columns of a claimed row with what delivery needs of its client.
_CLAIMED = (backchannel_logouts.c.id, backchannel_logouts.c.client_pk,
            backchannel_logouts.c.subject, backchannel_logouts.c.sid,
            backchannel_logouts.c.jti, backchannel_logouts.c.created_at,
            backchannel_logouts.c.attempts)


@dataclass(frozen=True, slots=True)
class OwedLogout:
    """A logout token to deliver, and where (as the client is registered now)."""

    id: int
    client_pk: int
    client_id: str
    uri: str | None
    id_token_alg: str | None
    session_required: bool
    subject: str
    sid: str | None
    jti: str
    created_at: int
    attempts: int


def sessions_grants(session_filter: ColumnElement[bool]) -> Select[Any]:
    """The (client, user, sid) of every grant made in a session that ``session_filter`` picks,
    for a client that registered a back-channel logout URI: each is owed one logout token."""
    # Driven from the sessions (picked by id or user, indexed), then their grants by sid
    # (ix_grants_sid): never a walk over every grant.
    return (select(grants.c.client_pk, grants.c.user_id, grants.c.sid)
            .select_from(sessions)
            .join(grants, grants.c.sid == sessions.c.sid)
            .join(clients, clients.c.id == grants.c.client_pk)
            .where(session_filter, sessions.c.sid.isnot(None),
                   clients.c.backchannel_logout_uri.isnot(None))
            .distinct())


class SqlBackchannelLogouts:
    def __init__(self, conn: DbConnection) -> None:
        self._conn = conn

    async def queue_for_sessions(self, session_filter: ColumnElement[bool], *, now: int) -> int:
        """Owe a logout token for every grant made in the sessions ``session_filter`` picks
        (run before they are deleted); how many were queued."""
        rows = (await self._conn.execute(sessions_grants(session_filter))).all()
        for row in rows:
            await self._conn.execute(backchannel_logouts.insert().values(
                client_pk=row.client_pk, subject=str(row.user_id), sid=row.sid,
                jti=secrets.token_urlsafe(24), created_at=now, attempts=0, next_attempt_at=now))
        return len(rows)

    async def any_due(self, *, now: int) -> bool:
        free = (backchannel_logouts.c.claimed_until.is_(None)
                | (backchannel_logouts.c.claimed_until <= now))
        row = (await self._conn.execute(
            select(backchannel_logouts.c.id).where(self._open(), backchannel_logouts.c.next_attempt_at <= now,
                                                   free).limit(1))).first()
        return row is not None

    @staticmethod
    def _open() -> ColumnElement[bool]:
        return and_(backchannel_logouts.c.delivered_at.is_(None),
                    backchannel_logouts.c.gave_up_at.is_(None))

    async def claim(self, *, now: int, lease: int, limit: int) -> list[OwedLogout]:
        """Take up to ``limit`` due rows for this worker alone for ``lease`` seconds, counting
        the attempt (see SqlOutbox.claim in mail_repos.py: the same two-dialect pattern)."""
        free = (backchannel_logouts.c.claimed_until.is_(None)
                | (backchannel_logouts.c.claimed_until <= now))
        due = (select(backchannel_logouts.c.id)
               .where(self._open(), backchannel_logouts.c.next_attempt_at <= now, free)
               .order_by(backchannel_logouts.c.next_attempt_at, backchannel_logouts.c.id)
               .limit(limit).with_for_update(skip_locked=True).scalar_subquery())
        result = await self._conn.execute(
            update(backchannel_logouts)
            .where(backchannel_logouts.c.id.in_(due), self._open(),
                   backchannel_logouts.c.next_attempt_at <= now, free)
            .values(claimed_until=now + lease, attempts=backchannel_logouts.c.attempts + 1)
            .returning(*_CLAIMED))
        claimed = result.all()
        if not claimed:
            return []
        apps = {row.id: row for row in (await self._conn.execute(
            select(clients.c.id, clients.c.client_id, clients.c.backchannel_logout_uri,
                   clients.c.id_token_alg, clients.c.backchannel_logout_session_required)
            .where(clients.c.id.in_({row.client_pk for row in claimed})))).all()}
        owed = []
        for row in sorted(claimed, key=lambda r: r.id):
            app = apps.get(row.client_pk)
            owed.append(OwedLogout(
                row.id, row.client_pk, app.client_id if app else "",
                app.backchannel_logout_uri if app else None, app.id_token_alg if app else None,
                bool(app.backchannel_logout_session_required) if app else False,
                row.subject, row.sid, row.jti, row.created_at, row.attempts))
        return owed

    async def delivered(self, *, logout_id: int, now: int) -> None:
        await self._conn.execute(
            update(backchannel_logouts).where(backchannel_logouts.c.id == logout_id)
            .values(delivered_at=now, claimed_until=None, last_error=None))

    async def failed(self, *, logout_id: int, error: str, retry_at: int) -> None:
        await self._conn.execute(
            update(backchannel_logouts).where(backchannel_logouts.c.id == logout_id, self._open())
            .values(next_attempt_at=retry_at, last_error=error[:500], claimed_until=None))

    async def give_up(self, *, logout_id: int, error: str, now: int) -> None:
        await self._conn.execute(
            update(backchannel_logouts).where(backchannel_logouts.c.id == logout_id, self._open())
            .values(gave_up_at=now, last_error=error[:500], claimed_until=None))

    async def listing(self, *, limit: int = 100) -> list[dict[str, Any]]:
        """The newest rows, for tests and operators (no secret is stored here)."""
        rows = await self._conn.execute(
            select(backchannel_logouts).order_by(backchannel_logouts.c.id.desc()).limit(limit))
        return [dict(row._mapping) for row in rows.all()]
