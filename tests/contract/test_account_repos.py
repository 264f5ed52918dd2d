"""The account repositories the site's pages use (SQL only: the memory store serves the
protocol core, which has no browser sessions): display names, the sessions of a user (listed,
noted as seen at most once an interval, ended one or all others) and applications' names."""

from __future__ import annotations

import secrets

import pytest

from openplate.store.account_repos import USER_AGENT_MAX
from openplate.store.tables import sessions
from tests.contract.backends import NOW, SqlBackend, user_and_client

pytestmark = pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
TTL = 3600


@pytest.fixture()
def sql(engine: str, request: pytest.FixtureRequest) -> SqlBackend:
    backend: SqlBackend = request.getfixturevalue(engine)
    return backend


async def _session(sql: SqlBackend, user_id: int, *, at: int = NOW, agent: str | None = "UA",
                   ip: str | None = "192.0.2.1", ttl: int = TTL) -> int:
    async with sql.db.transaction() as store:
        made = await store.sessions.create(
            digest=secrets.token_hex(32), csrf_token="c", user_id=user_id, now=at,
            expires_at=at + ttl, user_agent=agent, ip=ip)
    return made.id


async def test_a_display_name_is_set_read_and_removed(sql: SqlBackend) -> None:
    user, _ = await user_and_client(sql)
    async with sql.db.transaction() as store:
        await store.users.set_display_name(user_id=user.id, display_name="李小龍 👩‍💻")
    async with sql.db.transaction(readonly=True) as store:
        record, profile = await store.users.by_id(user.id), await store.users.profile(user.id)
    assert record is not None and record.shown_name == "李小龍 👩‍💻"
    assert profile is not None and profile.display_name == "李小龍 👩‍💻"
    async with sql.db.transaction() as store:
        await store.users.set_display_name(user_id=user.id, display_name=None)
        record = await store.users.by_id(user.id)
    assert record is not None and record.display_name is None
    assert record.shown_name == record.username


async def test_a_users_sessions_are_listed_with_what_they_keep(sql: SqlBackend) -> None:
    user, _ = await user_and_client(sql)
    other, _ = await user_and_client(sql)
    older = await _session(sql, user.id, at=NOW - 100, agent="x" * 1000, ip="2001:db8::" + "f" * 80)
    newer = await _session(sql, user.id)
    expired = await _session(sql, user.id, at=NOW - 2 * TTL)
    await _session(sql, other.id)
    async with sql.db.transaction(readonly=True) as store:
        listed = await store.sessions.for_user(user_id=user.id, now=NOW)
    assert [s.id for s in listed] == [newer, older]
    assert expired not in [s.id for s in listed]
    first, second = listed
    assert (first.user_agent, first.ip, first.created_at, first.last_seen_at) == (
        "UA", "192.0.2.1", NOW, NOW)
    assert second.user_agent == "x" * USER_AGENT_MAX and second.ip is not None
    assert len(second.ip) == 64


async def test_sessions_never_seen_are_listed_last(sql: SqlBackend) -> None:
    """Sessions made before migration 0013 have no last sighting: last on both engines (SQLite
    and PostgreSQL sort NULL at opposite ends unless told)."""
    user, _ = await user_and_client(sql)
    unseen = await _session(sql, user.id, at=NOW + 10)
    seen = await _session(sql, user.id)
    async with sql.db.transaction() as store:
        await store.conn.execute(
            sessions.update().where(sessions.c.id == unseen).values(last_seen_at=None))
        listed = await store.sessions.for_user(user_id=user.id, now=NOW)
    assert [s.id for s in listed] == [seen, unseen]
    assert listed[1].last_seen_at is None


async def test_seen_writes_at_most_once_an_interval(sql: SqlBackend) -> None:
    user, _ = await user_and_client(sql)
    sid = await _session(sql, user.id, ip=None)
    async with sql.db.transaction() as store:
        early = await store.sessions.seen(session_id=sid, now=NOW + 299, every=300, ip="192.0.2.9")
        due = await store.sessions.seen(session_id=sid, now=NOW + 300, every=300, ip="192.0.2.9")
        again = await store.sessions.seen(session_id=sid, now=NOW + 301, every=300, ip=None)
        later = await store.sessions.seen(session_id=sid, now=NOW + 600, every=300, ip=None)
        listed = await store.sessions.for_user(user_id=user.id, now=NOW)
    assert (early, due, again, later) == (False, True, False, True)
    assert listed[0].last_seen_at == NOW + 600
    assert listed[0].ip == "192.0.2.9"  # no address given: the last one stays


async def test_ending_one_session_or_all_others(sql: SqlBackend) -> None:
    user, _ = await user_and_client(sql)
    stranger, _ = await user_and_client(sql)
    ids = [await _session(sql, user.id) for _ in range(3)]
    theirs = await _session(sql, stranger.id)
    async with sql.db.transaction() as store:
        assert not await store.sessions.delete_of_user(user_id=user.id, session_id=theirs)
        assert await store.sessions.delete_of_user(user_id=user.id, session_id=ids[1])
        assert not await store.sessions.delete_of_user(user_id=user.id, session_id=ids[1])
        assert await store.sessions.delete_others(user_id=user.id, keep=ids[0], now=NOW) == 1
        assert await store.sessions.delete_others(user_id=user.id, keep=ids[0], now=NOW) == 0
        mine = await store.sessions.for_user(user_id=user.id, now=NOW)
        theirs_left = await store.sessions.for_user(user_id=stranger.id, now=NOW)
    assert [s.id for s in mine] == [ids[0]]
    assert [s.id for s in theirs_left] == [theirs]


async def test_application_names_by_client_id(sql: SqlBackend) -> None:
    _, client = await user_and_client(sql)
    async with sql.db.transaction(readonly=True) as store:
        names = await store.applications.names_of([client.client_id, "opc_gone", client.client_id])
        assert await store.applications.names_of([]) == {}
    assert names == {client.client_id: "Contract app"}
