"""SQL repository of passkeys (WebAuthn credentials) and of the challenges they answer.

A challenge is taken once (``DELETE … RETURNING``) and only by the browser it was made for
(``binding``) for the purpose it was made for; a passkey's signature counter only moves forward
(one ``UPDATE … WHERE``), so a cloned authenticator replaying an older count is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, or_, select, update

from openplate.store.prepared import DbConnection
from openplate.store.tables import passkeys, webauthn_challenges


@dataclass(frozen=True, slots=True)
class PasskeyRecord:
    id: int
    user_id: int
    credential_id: str
    public_key: bytes
    sign_count: int
    name: str
    multi_device: bool
    created_at: int
    last_used_at: int | None


@dataclass(frozen=True, slots=True)
class ChallengeRecord:
    challenge: str
    purpose: str
    user_id: int | None


def _passkey(row: Any) -> PasskeyRecord:
    return PasskeyRecord(row.id, row.user_id, row.credential_id, bytes(row.public_key),
                         row.sign_count, row.name, bool(row.multi_device), row.created_at,
                         row.last_used_at)


class SqlPasskeys:
    def __init__(self, conn: DbConnection) -> None:
        self._conn = conn

    async def add(self, *, user_id: int, credential_id: str, public_key: bytes, sign_count: int,
                  name: str, multi_device: bool, now: int) -> int | None:
        """Store a new passkey; None if that credential is registered already."""
        taken = await self._conn.execute(
            select(passkeys.c.id).where(passkeys.c.credential_id == credential_id))
        if taken.first() is not None:
            return None
        result = await self._conn.execute(passkeys.insert().values(
            user_id=user_id, credential_id=credential_id, public_key=public_key,
            sign_count=sign_count, name=name, multi_device=multi_device, created_at=now,
            last_used_at=None).returning(passkeys.c.id))
        return int(result.scalar_one())

    async def of_user(self, *, user_id: int) -> list[PasskeyRecord]:
        rows = await self._conn.execute(
            select(passkeys).where(passkeys.c.user_id == user_id).order_by(passkeys.c.id))
        return [_passkey(row) for row in rows]

    async def count(self, *, user_id: int) -> int:
        result = await self._conn.execute(
            select(func.count()).select_from(passkeys).where(passkeys.c.user_id == user_id))
        return int(result.scalar_one())

    async def by_credential_id(self, *, credential_id: str) -> PasskeyRecord | None:
        row = (await self._conn.execute(
            select(passkeys).where(passkeys.c.credential_id == credential_id))).first()
        return _passkey(row) if row is not None else None

    async def used(self, *, passkey_id: int, sign_count: int, now: int) -> bool:
        """Record a use. WebAuthn Level 2 §7.2 step 21: a non-zero counter must grow; False (and
        nothing written) if it did not."""
        result = await self._conn.execute(
            update(passkeys)
            .where(passkeys.c.id == passkey_id,
                   or_(passkeys.c.sign_count < sign_count,
                       (passkeys.c.sign_count == 0) & (sign_count == 0)))
            .values(sign_count=sign_count, last_used_at=now)
            .returning(passkeys.c.id))
        return result.first() is not None

    async def rename(self, *, user_id: int, passkey_id: int, name: str) -> bool:
        result = await self._conn.execute(
            update(passkeys).where(passkeys.c.id == passkey_id, passkeys.c.user_id == user_id)
            .values(name=name).returning(passkeys.c.id))
        return result.first() is not None

    async def remove(self, *, user_id: int, passkey_id: int) -> bool:
        result = await self._conn.execute(
            delete(passkeys).where(passkeys.c.id == passkey_id, passkeys.c.user_id == user_id)
            .returning(passkeys.c.id))
        return result.first() is not None

    # --- challenges -----------------------------------------------------------------------------

    async def new_challenge(self, *, challenge: str, purpose: str, binding: str,
                            user_id: int | None, now: int, expires_at: int) -> None:
        await self._conn.execute(webauthn_challenges.insert().values(
            challenge=challenge, purpose=purpose, binding=binding, user_id=user_id,
            created_at=now, expires_at=expires_at))

    async def take_challenge(self, *, challenge: str, purpose: str, binding: str,
                             now: int) -> ChallengeRecord | None:
        """Remove and return the live challenge made for this browser and purpose: once."""
        row = (await self._conn.execute(
            delete(webauthn_challenges)
            .where(webauthn_challenges.c.challenge == challenge,
                   webauthn_challenges.c.purpose == purpose,
                   webauthn_challenges.c.binding == binding,
                   webauthn_challenges.c.expires_at > now)
            .returning(webauthn_challenges.c.challenge, webauthn_challenges.c.purpose,
                       webauthn_challenges.c.user_id))).first()
        return ChallengeRecord(row.challenge, row.purpose, row.user_id) if row is not None else None
