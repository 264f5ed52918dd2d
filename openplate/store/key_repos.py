"""SQL repository for token-signing keys."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, text, update

from openplate.store.prepared import DbConnection
from openplate.store.tables import signing_keys


@dataclass(frozen=True, slots=True)
class KeyRecord:
    kid: str
    alg: str
    status: str  # "next", "current" or "retired"
    public_jwk: dict[str, Any]
    private_encrypted: str
    created_at: int
    activated_at: int | None
    retired_at: int | None


class SqlSigningKeys:
    def __init__(self, conn: DbConnection) -> None:
        self._conn = conn

    async def lock(self) -> None:
        """Serialise key changes across nodes (PostgreSQL; SQLite writers are serial already)."""
        if self._conn.dialect.name == "postgresql":
            await self._conn.execute(text("SELECT pg_advisory_xact_lock(7061736)"))

    async def all(self) -> list[KeyRecord]:
        rows = await self._conn.execute(select(signing_keys).order_by(signing_keys.c.created_at))
        return [
            KeyRecord(r.kid, r.alg, r.status, json.loads(r.public_jwk), r.private_encrypted,
                      r.created_at, r.activated_at, r.retired_at)
            for r in rows
        ]

    async def add(self, *, kid: str, alg: str, status: str, public_jwk: dict[str, Any],
                  private_encrypted: str, now: int) -> None:
        await self._conn.execute(signing_keys.insert().values(
            kid=kid, alg=alg, status=status, public_jwk=json.dumps(public_jwk),
            private_encrypted=private_encrypted, created_at=now,
            activated_at=now if status == "current" else None,
        ))

    async def set_status(self, *, kid: str, status: str, now: int) -> None:
        values: dict[str, object] = {"status": status}
        values["activated_at" if status == "current" else "retired_at"] = now
        await self._conn.execute(
            update(signing_keys).where(signing_keys.c.kid == kid).values(**values)
        )

    async def remove(self, *, kid: str) -> None:
        await self._conn.execute(delete(signing_keys).where(signing_keys.c.kid == kid))
