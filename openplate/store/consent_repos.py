"""SQL repositories for what users allowed: remembered consents and the grants behind tokens."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, and_, bindparam, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from openplate.store.prepared import DbConnection, Prepared
from openplate.store.tables import clients, consents, grants

_SCOPE_FOR = Prepared(select(consents.c.scope).where(
    consents.c.user_id == bindparam("uid"), consents.c.client_pk == bindparam("cpk")))


def _upsert(insert: Callable[[Table], Any]) -> Prepared:
    statement = insert(consents)
    return Prepared(statement.on_conflict_do_update(
        index_elements=[consents.c.user_id, consents.c.client_pk],
        set_={"scope": statement.excluded.scope, "granted_at": statement.excluded.granted_at},
    ))


# The upsert is spelt per dialect (ON CONFLICT has the same shape in both).
_REMEMBER = {"sqlite": _upsert(sqlite_insert), "postgresql": _upsert(pg_insert)}


@dataclass(frozen=True, slots=True)
class AuthorisedApp:
    """One application a user has allowed, as /account/apps shows it."""

    client_pk: int
    client_id: str
    name: str
    scope: str
    granted_at: int
    last_used_at: int | None


class SqlConsents:
    def __init__(self, conn: DbConnection) -> None:
        self._conn = conn

    async def scope_for(self, *, user_id: int, client_pk: int) -> str | None:
        row = (await self._conn.execute(_SCOPE_FOR, {"uid": user_id, "cpk": client_pk})).first()
        return str(row.scope) if row is not None else None

    async def remember(self, *, user_id: int, client_pk: int, scope: str, now: int) -> None:
        """Record consent to ``scope`` (replacing what was remembered for this app)."""
        statement = _REMEMBER["postgresql" if self._conn.dialect.name == "postgresql" else "sqlite"]
        await self._conn.execute(statement, {
            "user_id": user_id, "client_pk": client_pk, "scope": scope, "granted_at": now,
        })

    async def authorised_apps(self, *, user_id: int) -> list[AuthorisedApp]:
        """Every app the user allowed, with when it last got tokens from a live grant."""
        last_used = (
            select(grants.c.client_pk, func.max(grants.c.last_used_at).label("last_used_at"))
            .where(grants.c.user_id == user_id, grants.c.revoked_at.is_(None))
            .group_by(grants.c.client_pk)
            .subquery()
        )
        rows = await self._conn.execute(
            select(
                consents.c.client_pk, clients.c.client_id, clients.c.name, consents.c.scope,
                consents.c.granted_at, last_used.c.last_used_at,
            )
            .join(clients, clients.c.id == consents.c.client_pk)
            .outerjoin(last_used, last_used.c.client_pk == consents.c.client_pk)
            .where(consents.c.user_id == user_id)
            .order_by(consents.c.granted_at.desc())
        )
        return [
            AuthorisedApp(r.client_pk, r.client_id, r.name, r.scope, r.granted_at, r.last_used_at)
            for r in rows
        ]

    async def revoke_app(self, *, user_id: int, client_pk: int, now: int) -> bool:
        """Forget the consent and end every grant (so every token) the app holds for the user."""
        gone = await self._conn.execute(
            delete(consents)
            .where(consents.c.user_id == user_id, consents.c.client_pk == client_pk)
            .returning(consents.c.id)
        )
        existed = gone.first() is not None
        await self._conn.execute(
            update(grants)
            .where(
                and_(
                    grants.c.user_id == user_id,
                    grants.c.client_pk == client_pk,
                    grants.c.revoked_at.is_(None),
                )
            )
            .values(revoked_at=now)
        )
        return existed

    async def forget_user(self, *, user_id: int) -> int:
        """Forget every consent the user gave (so every app asks again); how many there were."""
        result = await self._conn.execute(delete(consents).where(consents.c.user_id == user_id))
        return int(result.rowcount or 0)
