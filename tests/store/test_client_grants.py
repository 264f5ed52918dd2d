"""Client-credentials tokens hang on one grant per client and scope, reused while it is live.

A real SQLite file brought to the current schema, the store's own repositories, and a clock the
test sets (the store takes ``now`` from its callers).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from openplate.oauth.models import LAST_USED_EVERY
from openplate.oauth.tokens import Digester
from openplate.store.client_grants import ClientGrants
from openplate.store.unit import Database
from tests.support.database import fresh_database, seed_owner_and_clients

NOW = 1_900_000_000


@pytest.fixture()
def database(tmp_path: Path) -> Iterator[Database]:
    with fresh_database(tmp_path / "grants.db", Digester(b"k" * 32)) as db:
        seed_owner_and_clients(db, {1: "client_credentials", 2: "client_credentials"})
        yield db


def _grant(db: Database, *, now: int = NOW, client_pk: int = 1, scope: str = "maps") -> int:
    async def work() -> int:
        async with db.transaction() as store:
            return await store.grants.for_client(user_id=1, client_pk=client_pk, scope=scope,
                                                 now=now)
    return asyncio.run(work())


def _sql(db: Database, sql: str) -> object:
    async def work() -> object:
        async with db.transaction() as store:
            result = await store.conn.execute(text(sql))
            return result.scalar() if result.returns_rows else None
    return asyncio.run(work())


def test_one_grant_per_client_and_scope_is_reused(database: Database) -> None:
    first = _grant(database)
    assert _grant(database) == first
    assert _grant(database, client_pk=2) != first
    assert _grant(database, scope="maps account") not in (first, _grant(database, client_pk=2))
    assert _sql(database, "SELECT count(*) FROM grants") == 3


def test_a_revoked_or_deleted_grant_is_replaced(database: Database) -> None:
    first = _grant(database)
    _sql(database, f"UPDATE grants SET revoked_at = {NOW} WHERE id = {first}")
    second = _grant(database)
    assert second != first
    _sql(database, f"DELETE FROM grants WHERE id = {second}")  # the purge, or another process
    third = _grant(database)  # SQLite may hand out the deleted id again: a new row all the same
    assert _sql(database, f"SELECT revoked_at IS NULL FROM grants WHERE id = {third}") == 1
    assert _sql(database, "SELECT count(*) FROM grants") == 2


def test_a_new_row_that_took_a_deleted_grants_id_is_not_taken_for_it(database: Database) -> None:
    first = _grant(database)
    _sql(database, f"DELETE FROM grants WHERE id = {first}")
    _sql(database, "INSERT INTO grants (user_id, client_pk, scope, created_at)"
                   f" VALUES (1, 1, 'maps', {NOW + 5})")  # a user's grant, same client and scope
    assert _sql(database, "SELECT max(id) FROM grants") == first  # the id came back
    assert _grant(database, now=NOW + 6) != first


def test_last_used_is_written_at_most_once_a_minute(database: Database) -> None:
    grant = _grant(database)
    assert _sql(database, f"SELECT last_used_at FROM grants WHERE id = {grant}") == NOW
    _grant(database, now=NOW + LAST_USED_EVERY - 1)
    assert _sql(database, f"SELECT last_used_at FROM grants WHERE id = {grant}") == NOW
    _grant(database, now=NOW + LAST_USED_EVERY)
    assert _sql(database, f"SELECT last_used_at FROM grants WHERE id = {grant}") == NOW + LAST_USED_EVERY


def test_a_users_grant_for_the_same_client_and_scope_is_never_taken(database: Database) -> None:
    async def user_grant() -> int:
        async with database.transaction() as store:
            return await store.grants.create(user_id=1, client_pk=1, scope="maps", now=NOW)
    theirs = asyncio.run(user_grant())
    assert _grant(database) != theirs


def test_the_memory_is_bounded() -> None:
    remembered = ClientGrants(size=2)
    remembered.put((1, 1, "a"), 10, NOW, NOW)
    remembered.put((2, 1, "a"), 11, NOW, NOW)
    remembered.put((2, 1, "a"), 12, NOW, NOW)  # an update of a known key does not count
    assert remembered.get((1, 1, "a")) == (10, NOW, NOW)
    remembered.put((3, 1, "a"), 13, NOW, NOW)
    assert remembered.get((1, 1, "a")) is None and remembered.get((3, 1, "a")) == (13, NOW, NOW)
