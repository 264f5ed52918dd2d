"""Deleting what has expired, in bounded batches, so tables do not grow without bound."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Table, delete, exists, or_, select, update

from openplate.store.prepared import DbConnection
from openplate.store.tables import (
    access_tokens,
    auth_requests,
    authorization_codes,
    grants,
    refresh_tokens,
    sessions,
    throttle,
)

DAY = 86_400


def rules(now: int) -> list[tuple[str, Table, ColumnElement[bool]]]:
    """What may go, table by table. Rotated refresh tokens stay until they expire, so a late
    reuse is still recognised; the security log is never purged."""
    return [
        ("authorization_codes", authorization_codes, authorization_codes.c.expires_at < now - 3600),
        ("access_tokens", access_tokens,
         or_(access_tokens.c.expires_at < now, access_tokens.c.revoked_at < now - 60)),
        ("refresh_tokens", refresh_tokens,
         or_(refresh_tokens.c.expires_at < now, refresh_tokens.c.revoked_at < now - 60)),
        ("sessions", sessions, sessions.c.expires_at < now),
        ("auth_requests", auth_requests, auth_requests.c.expires_at < now),
        ("grants", grants, or_(
            grants.c.revoked_at < now - DAY,
            (grants.c.created_at < now - DAY)
            & ~exists().where(access_tokens.c.grant_id == grants.c.id)
            & ~exists().where(refresh_tokens.c.grant_id == grants.c.id)
            & ~exists().where(authorization_codes.c.grant_id == grants.c.id),
        )),
        ("throttle", throttle, throttle.c.window_start < now - DAY),
    ]


async def purge_batch(
    conn: DbConnection, table: Table, condition: ColumnElement[bool], batch: int
) -> int:
    """Delete at most ``batch`` rows of ``table`` matching ``condition``; return how many."""
    key = table.c.key if table is throttle else table.c.id
    chosen = select(key).where(condition).limit(batch).scalar_subquery()
    result = await conn.execute(delete(table).where(key.in_(chosen)))
    return int(result.rowcount or 0)


async def clear_stale_notices(conn: DbConnection, *, now: int, batch: int) -> int:
    """Blank at most ``batch`` one-time notices that were never shown in time; return how many.
    A notice may hold a client secret (sealed), kept only until shown or briefly."""
    chosen = (select(sessions.c.id).where(sessions.c.flash_expires_at < now).limit(batch)
              .scalar_subquery())
    result = await conn.execute(
        update(sessions).where(sessions.c.id.in_(chosen)).values(flash=None, flash_expires_at=None))
    return int(result.rowcount or 0)
