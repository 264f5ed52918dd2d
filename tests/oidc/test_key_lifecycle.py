"""Signing keys on a new database: a current key of every algorithm at once, the next ones
published after; rotation per algorithm or all together.

A real SQLite file at the current schema and the store's own key repository. The server makes
the current keys before it answers and the next ones on a worker thread just after; another node
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
ALL = ("RS256", "ES256", "EdDSA")


@pytest.fixture()
def database(tmp_path: Path) -> Iterator[Database]:
    with fresh_database(tmp_path / "keys.db", Digester(INSTANCE_KEY)) as db:
        yield db


def _statuses(db: Database) -> list[tuple[str, str]]:
    async def work() -> list[tuple[str, str]]:
        async with db.transaction(readonly=True) as store:
            return sorted((r.status, r.alg) for r in await store.signing_keys.all())
    return asyncio.run(work())


def _ensure_current(db: Database, algs: tuple[str, ...] = ALL) -> list[str]:
    async def work() -> list[str]:
        async with db.transaction() as store:
            return await signing.ensure_current(store.signing_keys, instance_key=INSTANCE_KEY,
                                                now=NOW, algs=algs)
    return asyncio.run(work())


def _publish_next(db: Database, new: keys.NewKey) -> bool:
    async def work() -> bool:
        async with db.transaction() as store:
            return await signing.publish_next(store.signing_keys, alg=new.alg,
                                              instance_key=INSTANCE_KEY, now=NOW, new=new)
    return asyncio.run(work())


def _rotate(db: Database, algs: tuple[str, ...]) -> signing.Rotation:
    async def work() -> signing.Rotation:
        async with db.transaction() as store:
            return await signing.rotate(store.signing_keys, algs=algs, instance_key=INSTANCE_KEY,
                                        now=NOW + 10, retention=3600, min_next_age=0)
    return asyncio.run(work())


def _ring(db: Database, default_alg: str) -> keys.KeyRing:
    async def work() -> keys.KeyRing:
        async with db.transaction(readonly=True) as store:
            return await signing.load_ring(store.signing_keys, instance_key=INSTANCE_KEY,
                                           now=NOW, retention=3600, default_alg=default_alg)
    return asyncio.run(work())


def test_a_current_key_of_every_algorithm_first_then_one_next_key_each(database: Database) -> None:
    assert _ensure_current(database) == list(ALL)  # next keys are still to come
    assert _statuses(database) == sorted(("current", alg) for alg in ALL)
    assert _publish_next(database, keys.generate("ES256")) is True
    late = keys.generate("ES256")  # made by a second node at the same time
    assert _publish_next(database, late) is False
    assert _ensure_current(database) == ["RS256", "EdDSA"]
    for alg in ("RS256", "EdDSA"):
        assert _publish_next(database, keys.generate(alg)) is True
    assert _statuses(database) == sorted([("current", a) for a in ALL] + [("next", a) for a in ALL])
    assert _ensure_current(database) == []  # a restart has nothing left to publish


def test_the_ring_signs_with_each_algorithm_and_defaults_to_the_setting(database: Database) -> None:
    _ensure_current(database)
    ring = _ring(database, "EdDSA")
    assert ring.alg == "EdDSA" and ring.for_alg(None) is ring.default
    for alg in ALL:
        key = ring.for_alg(alg)
        assert key.alg == alg and key.kid in {k["kid"] for k in ring.published}
    assert _ring(database, "RS256").alg == "RS256"


def test_rotation_of_one_algorithm_leaves_the_others(database: Database) -> None:
    _ensure_current(database)
    before = _ring(database, "RS256")
    rotation = _rotate(database, ("ES256",))
    assert [r.alg for r in rotation.rotated] == ["ES256"]
    after = _ring(database, "RS256")
    assert after.for_alg("ES256").kid == rotation.rotated[0].current != before.for_alg("ES256").kid
    assert after.for_alg("RS256").kid == before.for_alg("RS256").kid
    assert after.for_alg("EdDSA").kid == before.for_alg("EdDSA").kid
    everything = _rotate(database, ALL)
    assert [r.alg for r in everything.rotated] == list(ALL)
    assert ("retired", "RS256") in _statuses(database)
