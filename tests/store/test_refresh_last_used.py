"""A grant's "last used" time is written at most once a minute by refresh-token rotation.

Every rotation used to update its grant's row; /account/apps shows the time to the minute, so a
client refreshing often now writes it once a minute. A real SQLite file at the current schema,
the real refresh grant handler, and a clock the test sets.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from openplate.oauth.grants.refresh_token import refresh
from openplate.oauth.issuance import TokenContext, TokenPolicy, mint
from openplate.oauth.models import LAST_USED_EVERY, Client
from openplate.oauth.params import Params
from openplate.oauth.tokens import Digester
from openplate.store.unit import Database
from tests.support.database import fresh_database, seed_owner_and_clients

NOW = 1_900_000_000
CLIENT = Client(pk=1, client_id="opc_1", name="a", owner_id=1, redirect_uris=(),
                secret_digest="unused here")
DIGESTER = Digester(b"k" * 32)


@pytest.fixture()
def database(tmp_path: Path) -> Iterator[Database]:
    with fresh_database(tmp_path / "refresh.db", DIGESTER) as db:
        seed_owner_and_clients(db, {1: "authorization_code refresh_token"})
        yield db


def _context(now: int) -> TokenContext:
    return TokenContext(digester=DIGESTER, now=now, policy=TokenPolicy())


def _first_tokens(db: Database, *, last_used: int | None) -> tuple[int, str]:
    """A grant (its "last used" as given) and its first refresh token."""
    async def work() -> tuple[int, str]:
        async with db.transaction() as store:
            grant = await store.grants.create(user_id=1, client_pk=1, scope="account", now=NOW)
            if last_used is not None:
                await store.grants.touch(grant_id=grant, now=last_used)
            issued = await mint(store, _context(NOW), grant_id=grant, client=CLIENT, user_id=1,
                                scope="account", touch=False)
            assert issued.refresh_token is not None
            return grant, issued.refresh_token
    return asyncio.run(work())


def _rotate(db: Database, token: str, now: int) -> str:
    async def work() -> str:
        async with db.transaction() as store:
            issued = await refresh(Params({"refresh_token": token}), CLIENT, store, _context(now))
            assert issued.refresh_token is not None
            return issued.refresh_token
    return asyncio.run(work())


def _last_used(db: Database, grant: int) -> object:
    async def work() -> object:
        async with db.transaction(readonly=True) as store:
            result = await store.conn.execute(
                text("SELECT last_used_at FROM grants WHERE id = :g"), {"g": grant})
            return result.scalar()
    return asyncio.run(work())


def test_rotations_within_a_minute_write_last_used_once(database: Database) -> None:
    grant, token = _first_tokens(database, last_used=NOW)
    token = _rotate(database, token, NOW + 1)
    token = _rotate(database, token, NOW + LAST_USED_EVERY - 1)
    assert _last_used(database, grant) == NOW  # both rotations within the minute
    token = _rotate(database, token, NOW + LAST_USED_EVERY)
    assert _last_used(database, grant) == NOW + LAST_USED_EVERY
    _rotate(database, token, NOW + LAST_USED_EVERY + 5)
    assert _last_used(database, grant) == NOW + LAST_USED_EVERY


def test_a_grant_never_marked_used_is_marked_by_its_first_rotation(database: Database) -> None:
    grant, token = _first_tokens(database, last_used=None)
    assert _last_used(database, grant) is None
    _rotate(database, token, NOW + 3)
    assert _last_used(database, grant) == NOW + 3
