"""Signing keys on a new database: the current key at once, the next one published after.

A real SQLite file at the current schema and the store's own key repository. The server makes
the current key before it answers and the next one on a worker thread just after; another node
(or `openplate keys rotate`) may publish a next key meanwhile, and then the late one is dropped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from openplate import signing
from openplate.oauth.oidc import keys
from openplate.oauth.tokens import Digester
from openplate.store.unit import Database
from tests.support.database import fresh_database

INSTANCE_KEY = b"k" * 32
NOW = 1_900_000_000


@pytest.fixture()
def database(tmp_path: Path) -> Iterator[Database]:
    with fresh_database(tmp_path / "keys.db", Digester(INSTANCE_KEY)) as db:
        yield db


def _statuses(db: Database) -> list[tuple[str, str]]:
    async def work() -> list[tuple[str, str]]:
        async with db.transaction(readonly=True) as store:
            return sorted((r.status, r.alg) for r in await store.signing_keys.all())
    return asyncio.run(work())


def _ensure_current(db: Database, alg: str = "ES256") -> bool:
    async def work() -> bool:
        async with db.transaction() as store:
            return await signing.ensure_current(store.signing_keys, alg=alg,
                                                instance_key=INSTANCE_KEY, now=NOW)
    return asyncio.run(work())


def _publish_next(db: Database, new: keys.NewKey, alg: str = "ES256") -> bool:
    async def work() -> bool:
        async with db.transaction() as store:
            return await signing.publish_next(store.signing_keys, alg=alg,
                                              instance_key=INSTANCE_KEY, now=NOW, new=new)
    return asyncio.run(work())


def test_the_current_key_first_then_one_next_key(database: Database) -> None:
    assert _ensure_current(database) is True  # a next key is still to come
    assert _statuses(database) == [("current", "ES256")]
    assert _publish_next(database, keys.generate("ES256")) is True
    late = keys.generate("ES256")  # made by a second node at the same time
    assert _publish_next(database, late) is False
    assert _statuses(database) == [("current", "ES256"), ("next", "ES256")]
    assert _ensure_current(database) is False  # a restart has nothing left to publish


def test_a_new_algorithm_retires_the_current_key_and_replaces_the_next(database: Database) -> None:
    _ensure_current(database, "ES256")
    _publish_next(database, keys.generate("ES256"), "ES256")
    assert _ensure_current(database, "EdDSA") is True
    assert _publish_next(database, keys.generate("EdDSA"), "EdDSA") is True
    assert _statuses(database) == [("current", "EdDSA"), ("next", "EdDSA"), ("retired", "ES256")]
