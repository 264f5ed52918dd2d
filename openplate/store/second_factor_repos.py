"""SQL repository of second factors: TOTP authenticators, recovery codes, and browsers that gave
the right password and still owe the second factor (half-signed-in).

Every one-time thing is consumed by one statement (``UPDATE … WHERE … RETURNING`` or
``DELETE … RETURNING``), so of any number of parallel attempts exactly one succeeds: a TOTP
step is accepted once, a recovery code is used once, a half-signed-in state ends once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, or_, select, update

from openplate.store.prepared import DbConnection
from openplate.store.tables import recovery_codes, second_factor_waits, totp_authenticators


@dataclass(frozen=True, slots=True)
class TotpRecord:
    user_id: int
    secret_sealed: str
    created_at: int
    #: None while enrolling (no first code typed yet).
    confirmed_at: int | None
    #: The last time step a code was accepted for.
    last_step: int | None

    @property
    def confirmed(self) -> bool:
        return self.confirmed_at is not None


@dataclass(frozen=True, slots=True)
class SecondFactorWait:
    """A browser that gave the right password and owes the second factor."""

    user_id: int
    next_path: str
    browser_digest: str | None
    created_at: int
    expires_at: int


def _wait(row: Any) -> SecondFactorWait:
    return SecondFactorWait(row.user_id, row.next_path, row.browser_digest, row.created_at,
                            row.expires_at)


class SqlSecondFactors:
    def __init__(self, conn: DbConnection) -> None:
        self._conn = conn

    # --- TOTP -----------------------------------------------------------------------------------

    async def totp(self, *, user_id: int) -> TotpRecord | None:
        row = (await self._conn.execute(
            select(totp_authenticators).where(totp_authenticators.c.user_id == user_id))).first()
        if row is None:
            return None
        return TotpRecord(row.user_id, row.secret_sealed, row.created_at, row.confirmed_at,
                          row.last_step)

    async def begin_totp(self, *, user_id: int, secret_sealed: str, now: int) -> bool:
        """Start (or restart) an enrolment with a new secret; False if one is confirmed already."""
        await self._conn.execute(delete(totp_authenticators).where(
            totp_authenticators.c.user_id == user_id, totp_authenticators.c.confirmed_at.is_(None)))
        if await self.totp(user_id=user_id) is not None:
            return False
        await self._conn.execute(totp_authenticators.insert().values(
            user_id=user_id, secret_sealed=secret_sealed, created_at=now, confirmed_at=None,
            last_step=None))
        return True

    async def confirm_totp(self, *, user_id: int, step: int, now: int) -> bool:
        """The first valid code was typed: the enrolment is complete (once)."""
        result = await self._conn.execute(
            update(totp_authenticators)
            .where(totp_authenticators.c.user_id == user_id,
                   totp_authenticators.c.confirmed_at.is_(None))
            .values(confirmed_at=now, last_step=step)
            .returning(totp_authenticators.c.user_id))
        return result.first() is not None

    async def use_totp_step(self, *, user_id: int, step: int) -> bool:
        """Record that a code of ``step`` was accepted, if no code of this step or a later one
        was: True for exactly one of any number of parallel uses of the same code."""
        result = await self._conn.execute(
            update(totp_authenticators)
            .where(totp_authenticators.c.user_id == user_id,
                   totp_authenticators.c.confirmed_at.is_not(None),
                   or_(totp_authenticators.c.last_step.is_(None),
                       totp_authenticators.c.last_step < step))
            .values(last_step=step)
            .returning(totp_authenticators.c.user_id))
        return result.first() is not None

    async def remove_totp(self, *, user_id: int) -> bool:
        """Remove the authenticator and every recovery code; True if there was an authenticator."""
        await self._conn.execute(delete(recovery_codes).where(recovery_codes.c.user_id == user_id))
        result = await self._conn.execute(
            delete(totp_authenticators).where(totp_authenticators.c.user_id == user_id)
            .returning(totp_authenticators.c.user_id))
        return result.first() is not None

    # --- recovery codes -------------------------------------------------------------------------

    async def replace_recovery_codes(self, *, user_id: int, digests: list[str], now: int) -> None:
        await self._conn.execute(delete(recovery_codes).where(recovery_codes.c.user_id == user_id))
        if digests:
            await self._conn.execute(recovery_codes.insert(), [
                {"user_id": user_id, "digest": digest, "created_at": now, "used_at": None}
                for digest in digests])

    async def use_recovery_code(self, *, user_id: int, digest: str, now: int) -> bool:
        """Mark the code used if it is this user's and unused; True for exactly one caller."""
        result = await self._conn.execute(
            update(recovery_codes)
            .where(recovery_codes.c.user_id == user_id, recovery_codes.c.digest == digest,
                   recovery_codes.c.used_at.is_(None))
            .values(used_at=now)
            .returning(recovery_codes.c.id))
        return result.first() is not None

    async def recovery_codes_left(self, *, user_id: int) -> int:
        result = await self._conn.execute(
            select(func.count()).select_from(recovery_codes)
            .where(recovery_codes.c.user_id == user_id, recovery_codes.c.used_at.is_(None)))
        return int(result.scalar_one())

    # --- half-signed-in browsers ----------------------------------------------------------------

    async def start_wait(self, *, digest: str, user_id: int, next_path: str,
                         browser_digest: str | None, now: int, expires_at: int) -> None:
        await self._conn.execute(second_factor_waits.insert().values(
            digest=digest, user_id=user_id, next_path=next_path, browser_digest=browser_digest,
            created_at=now, expires_at=expires_at))

    async def find_wait(self, *, digest: str, now: int) -> SecondFactorWait | None:
        row = (await self._conn.execute(
            select(second_factor_waits).where(second_factor_waits.c.digest == digest,
                                              second_factor_waits.c.expires_at > now))).first()
        return _wait(row) if row is not None else None

    async def end_wait(self, *, digest: str, now: int) -> SecondFactorWait | None:
        """Remove and return the live wait, atomically: a half-signed-in state ends once."""
        row = (await self._conn.execute(
            delete(second_factor_waits)
            .where(second_factor_waits.c.digest == digest, second_factor_waits.c.expires_at > now)
            .returning(second_factor_waits.c.user_id, second_factor_waits.c.next_path,
                       second_factor_waits.c.browser_digest, second_factor_waits.c.created_at,
                       second_factor_waits.c.expires_at))).first()
        return _wait(row) if row is not None else None

    async def forget_waits(self, *, user_id: int) -> None:
        await self._conn.execute(
            delete(second_factor_waits).where(second_factor_waits.c.user_id == user_id))
