"""One-time links mailed to users: password resets and e-mail verifications. Only the keyed
digest of a link's token is stored; a link is used at most once (one conditional UPDATE), and
expires."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update

from openplate.store.prepared import DbConnection
from openplate.store.tables import email_verifications, password_resets


@dataclass(frozen=True, slots=True)
class ResetLink:
    user_id: int
    #: Where the visitor was going when they asked (a parked authorisation request), if anywhere.
    next_path: str | None


class SqlPasswordResets:
    def __init__(self, conn: DbConnection) -> None:
        self._conn = conn

    async def create(self, *, digest: str, user_id: int, now: int, expires_at: int,
                     next_path: str | None) -> None:
        await self._conn.execute(password_resets.insert().values(
            digest=digest, user_id=user_id, created_at=now, expires_at=expires_at,
            next_path=next_path))

    async def find(self, *, digest: str, now: int) -> ResetLink | None:
        """The link, if it is unused and unexpired (the page that asks for the new password)."""
        row = (await self._conn.execute(
            select(password_resets.c.user_id, password_resets.c.next_path)
            .where(password_resets.c.digest == digest, password_resets.c.used_at.is_(None),
                   password_resets.c.expires_at > now))).first()
        return ResetLink(row.user_id, row.next_path) if row is not None else None

    async def use(self, *, digest: str, now: int) -> ResetLink | None:
        """Use the link, atomically: of two submissions at once, one gets it and the other None.
        Every other link of the same user stops working too."""
        row = (await self._conn.execute(
            update(password_resets)
            .where(password_resets.c.digest == digest, password_resets.c.used_at.is_(None),
                   password_resets.c.expires_at > now)
            .values(used_at=now)
            .returning(password_resets.c.user_id, password_resets.c.next_path))).first()
        if row is None:
            return None
        await self.cancel_for_user(user_id=row.user_id, now=now)
        return ResetLink(row.user_id, row.next_path)

    async def cancel_for_user(self, *, user_id: int, now: int) -> None:
        """No outstanding link of ``user_id`` works any more (their password just changed)."""
        await self._conn.execute(
            update(password_resets)
            .where(password_resets.c.user_id == user_id, password_resets.c.used_at.is_(None))
            .values(used_at=now))


@dataclass(frozen=True, slots=True)
class VerificationLink:
    user_id: int
    email: str


class SqlEmailVerifications:
    def __init__(self, conn: DbConnection) -> None:
        self._conn = conn

    async def create(self, *, digest: str, user_id: int, email: str, now: int,
                     expires_at: int) -> None:
        await self._conn.execute(email_verifications.insert().values(
            digest=digest, user_id=user_id, email=email, created_at=now, expires_at=expires_at))

    async def use(self, *, digest: str, now: int) -> VerificationLink | None:
        """Use the link, atomically (once); None if it is unknown, used or expired."""
        row = (await self._conn.execute(
            update(email_verifications)
            .where(email_verifications.c.digest == digest,
                   email_verifications.c.used_at.is_(None),
                   email_verifications.c.expires_at > now)
            .values(used_at=now)
            .returning(email_verifications.c.user_id, email_verifications.c.email))).first()
        return VerificationLink(row.user_id, row.email) if row is not None else None

    async def pending(self, *, user_id: int, now: int) -> str | None:
        """The address of the user's newest unused, unexpired link, if any."""
        row = (await self._conn.execute(
            select(email_verifications.c.email)
            .where(email_verifications.c.user_id == user_id,
                   email_verifications.c.used_at.is_(None),
                   email_verifications.c.expires_at > now)
            .order_by(email_verifications.c.id.desc()).limit(1))).first()
        return str(row.email) if row is not None else None

    async def cancel_for_user(self, *, user_id: int, now: int) -> None:
        await self._conn.execute(
            update(email_verifications)
            .where(email_verifications.c.user_id == user_id,
                   email_verifications.c.used_at.is_(None))
            .values(used_at=now))
