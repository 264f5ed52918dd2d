"""The mail queue: messages queued in the unit of work that caused them, claimed by one worker
at a time (of however many nodes), and kept after sending only with their bodies blanked."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import ColumnElement, select, update

from openplate.store.prepared import DbConnection
from openplate.store.tables import mail_outbox

State = Literal["queued", "failed", "sent"]


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    id: int
    kind: str
    recipient: str
    subject: str
    text_body: str | None
    html_body: str | None
    created_at: int
    attempts: int
    next_attempt_at: int
    sent_at: int | None
    last_error: str | None

    @property
    def state(self) -> State:
        """sent; failed (an attempt failed, another is due at ``next_attempt_at``); or queued."""
        if self.sent_at is not None:
            return "sent"
        return "failed" if self.last_error is not None else "queued"

    def to_json(self) -> dict[str, object]:
        return {"id": self.id, "kind": self.kind, "recipient": self.recipient,
                "subject": self.subject, "state": self.state, "created_at": self.created_at,
                "attempts": self.attempts,
                "next_attempt_at": None if self.sent_at is not None else self.next_attempt_at,
                "sent_at": self.sent_at, "last_error": self.last_error}


def _message(row: Any) -> OutboxMessage:
    return OutboxMessage(row.id, row.kind, row.recipient, row.subject, row.text_body,
                         row.html_body, row.created_at, row.attempts, row.next_attempt_at,
                         row.sent_at, row.last_error)


class SqlOutbox:
    def __init__(self, conn: DbConnection) -> None:
        self._conn = conn

    async def queue(self, *, kind: str, recipient: str, subject: str, text_body: str,
                    html_body: str, now: int) -> int:
        """Add a message, due at once; it is sent only if this unit of work commits."""
        result = await self._conn.execute(
            mail_outbox.insert().values(
                kind=kind, recipient=recipient, subject=subject, text_body=text_body,
                html_body=html_body, created_at=now, attempts=0, next_attempt_at=now,
            ).returning(mail_outbox.c.id))
        return int(result.scalar_one())

    async def any_due(self, *, now: int) -> bool:
        """Whether a message is due and free: a read, so an idle worker never takes the write
        lock (SQLite) just to find nothing."""
        free = mail_outbox.c.claimed_until.is_(None) | (mail_outbox.c.claimed_until <= now)
        row = (await self._conn.execute(
            select(mail_outbox.c.id)
            .where(mail_outbox.c.sent_at.is_(None), mail_outbox.c.next_attempt_at <= now, free)
            .limit(1))).first()
        return row is not None

    async def claim(self, *, now: int, lease: int, limit: int) -> list[OutboxMessage]:
        """Take up to ``limit`` due messages for this worker alone: each is held ``lease``
        seconds (no other worker takes it meanwhile; a worker that dies leaves it to be taken
        again after the lease) and its attempt is counted. On PostgreSQL the rows are
        chosen ``FOR UPDATE SKIP LOCKED``, so concurrent workers pass each other's by; on
        SQLite the one UPDATE runs under the database's write lock."""
        free = mail_outbox.c.claimed_until.is_(None) | (mail_outbox.c.claimed_until <= now)
        due = (select(mail_outbox.c.id)
               .where(mail_outbox.c.sent_at.is_(None), mail_outbox.c.next_attempt_at <= now, free)
               .order_by(mail_outbox.c.next_attempt_at, mail_outbox.c.id).limit(limit)
               .with_for_update(skip_locked=True).scalar_subquery())
        result = await self._conn.execute(
            update(mail_outbox)
            .where(mail_outbox.c.id.in_(due), mail_outbox.c.sent_at.is_(None),
                   mail_outbox.c.next_attempt_at <= now, free)
            .values(claimed_until=now + lease, attempts=mail_outbox.c.attempts + 1)
            .returning(*mail_outbox.c))
        return sorted((_message(row) for row in result.all()), key=lambda m: m.id)

    async def sent(self, *, message_id: int, now: int) -> None:
        """The message went out: keep who, what and when; blank the bodies (they may hold a
        one-time link)."""
        await self._conn.execute(
            update(mail_outbox).where(mail_outbox.c.id == message_id)
            .values(sent_at=now, text_body=None, html_body=None, last_error=None,
                    claimed_until=None))

    async def failed(self, *, message_id: int, error: str, retry_at: int) -> None:
        """An attempt failed: the message is due again at ``retry_at``. Never dropped."""
        await self._conn.execute(
            update(mail_outbox).where(mail_outbox.c.id == message_id, mail_outbox.c.sent_at.is_(None))
            .values(next_attempt_at=retry_at, last_error=error[:500], claimed_until=None))

    async def listing(self, *, states: Sequence[State] = ("queued", "failed", "sent"),
                      limit: int = 100) -> list[OutboxMessage]:
        """Messages, newest first, in the given states."""
        conditions: list[ColumnElement[bool]] = []
        if "sent" not in states:
            conditions.append(mail_outbox.c.sent_at.is_(None))
        if "failed" not in states:
            conditions.append(mail_outbox.c.last_error.is_(None) | mail_outbox.c.sent_at.isnot(None))
        if "queued" not in states:
            conditions.append(mail_outbox.c.last_error.isnot(None) | mail_outbox.c.sent_at.isnot(None))
        rows = await self._conn.execute(
            select(mail_outbox).where(*conditions).order_by(mail_outbox.c.id.desc()).limit(limit))
        return [_message(row) for row in rows.all()]

    async def retry(self, *, now: int, ids: Sequence[int] | None = None) -> list[int]:
        """Make unsent messages due now (all of them, or those of ``ids``); their ids. One a
        worker holds stays its own until it is sent or its attempt fails."""
        statement = update(mail_outbox).where(mail_outbox.c.sent_at.is_(None))
        if ids is not None:
            statement = statement.where(mail_outbox.c.id.in_(list(ids)))
        result = await self._conn.execute(
            statement.values(next_attempt_at=now).returning(mail_outbox.c.id))
        return sorted(int(row[0]) for row in result.all())
