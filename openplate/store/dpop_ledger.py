"""RFC 9449 §11.1: the DPoP proofs seen, shared by every node (``ProofLedger`` of oauth/ports.py).

"the server MUST ... check that the jti value has not been used before": each proof is
remembered (as a keyed digest of its key's thumbprint and its ``jti``) until it is too old to be
accepted anyway, and the first to remember it wins, on whichever node:

- ``RedisLedger``: ``SET NX EX`` in the shared Redis; if Redis fails, the database instead
  (fail closed: a proof is never taken unchecked);
- ``DatabaseLedger``: one insert into ``dpop_proofs``, whose primary key is the digest, in a unit
  of work of its own. On PostgreSQL a second insert of one key waits for the first to commit and
  then inserts nothing; SQLite has one writer. A row whose time is up is taken over in place, and
  the purge deletes the rest;
- ``MemoryLedger``: for the core's tests.

The ledgers run before the request's own unit of work (a resource's unit only reads).
"""

from __future__ import annotations

import logging

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import text

from openplate.store.prepared import DbConnection
from openplate.store.unit import Database

log = logging.getLogger("openplate.store")

# SQLite and PostgreSQL share this upsert: a live row stops it (no row returned), an expired one
# is taken over.
_FIRST_USE = text(
    "INSERT INTO dpop_proofs (digest, expires_at) VALUES (:d, :e) ON CONFLICT (digest) DO UPDATE"
    " SET expires_at = excluded.expires_at WHERE dpop_proofs.expires_at <= :now RETURNING digest"
)


async def first_use_in(conn: DbConnection, *, key: str, expires_at: int, now: int) -> bool:
    """The table's ``first_use``, on a unit's connection."""
    row = (await conn.execute(_FIRST_USE, {"d": key, "e": expires_at, "now": now})).first()
    return row is not None


class DatabaseLedger:
    """The ``dpop_proofs`` table, one short unit of work per proof."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def first_use(self, *, key: str, expires_at: int, now: int) -> bool:
        async with self._db.transaction() as store:
            return await first_use_in(store.conn, key=key, expires_at=expires_at, now=now)


class RedisLedger:
    """``SET NX EX`` in the shared Redis; the database when Redis fails."""

    def __init__(self, redis: Redis, prefix: str, fallback: DatabaseLedger) -> None:
        self._redis = redis
        self._prefix = prefix
        self._fallback = fallback

    async def first_use(self, *, key: str, expires_at: int, now: int) -> bool:
        try:
            stored = await self._redis.set(f"{self._prefix}dpop:{key}", b"1", nx=True,
                                           ex=max(1, expires_at - now))
        except (RedisError, OSError) as error:
            log.warning("redis unavailable, DPoP proofs on the database: %s",
                        type(error).__name__)
            return await self._fallback.first_use(key=key, expires_at=expires_at, now=now)
        return bool(stored)


class MemoryLedger:
    """In one process's memory (the core's tests)."""

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}

    async def first_use(self, *, key: str, expires_at: int, now: int) -> bool:
        if self.seen.get(key, 0) > now:
            return False
        self.seen[key] = expires_at
        return True
