"""What the database says about the last moments before this process started."""

from __future__ import annotations

from sqlalchemy import select

from openplate.store.prepared import DbConnection
from openplate.store.tables import refresh_tokens


async def last_refresh_activity(conn: DbConnection) -> int:
    """When the newest refresh token was issued (by a rotation, or a code redeemed); 0 if none.
    One lookup at the end of the primary key: tokens are numbered in the order they are made."""
    newest = select(refresh_tokens.c.created_at).order_by(refresh_tokens.c.id.desc()).limit(1)
    row = (await conn.execute(newest)).first()
    return int(row[0]) if row is not None else 0
