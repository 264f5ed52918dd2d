"""The purge removes what can go and keeps what must stay, on SQLite and PostgreSQL: rotated
refresh tokens past the reuse window (and only those), routine security-log events past their
retention, security events only past theirs; the log stays append-only for everyone else; and
the SQLite file shrinks (incremental vacuum), also one made before it had incremental vacuum.
The store runs with a clock the test sets (``now``)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import DBAPIError

from openplate.housekeeping import purge
from openplate.oauth.tokens import Digester
from openplate.settings import Settings
from openplate.store.engine import create_engine
from openplate.store.migrate import upgrade
from openplate.store.purge_repo import Retention, enable_incremental_vacuum
from openplate.store.tables import (
    clients,
    dpop_proofs,
    grants,
    refresh_tokens,
    security_events,
    users,
)
from openplate.store.unit import Database
from tests.support.postgres import create_database, drop_database

NOW = 2_000_000_000
DAY = 86_400
RETENTION = Retention(routine_events=30 * DAY, security_events=365 * DAY, rotated_refresh=7 * DAY)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'purge.db'}"
        return
    url = create_database()
    try:
        yield url
    finally:
        drop_database(url)


def open_database(url: str) -> Database:
    settings = Settings(database_url=url, secret_key="k" * 48)
    upgrade(settings)
    return Database(create_engine(settings), Digester(b"k" * 48))


def run(db: Database, work):  # type: ignore[no-untyped-def]
    async def main():  # type: ignore[no-untyped-def]
        return await work()

    return asyncio.run(main())


async def seed(db: Database, *, bulk: int = 0) -> None:
    """A grant with refresh tokens in every state, and security events of every age."""
    async with db.transaction() as store:
        owner = (await store.conn.execute(insert(users).values(
            username="o", username_key="o", email="o@x", email_key="o@x", password_hash="h",
            created_at=0, password_changed_at=0).returning(users.c.id))).scalar_one()
        client = (await store.conn.execute(insert(clients).values(
            client_id="opc_1", owner_id=owner, name="a", created_at=0, secret_rotated_at=0)
            .returning(clients.c.id))).scalar_one()
        grant = (await store.conn.execute(insert(grants).values(
            user_id=owner, client_pk=client, scope="maps", created_at=NOW - 60 * DAY).returning(grants.c.id)
        )).scalar_one()

        def token(name: str, created: int, used: int | None) -> dict[str, object]:
            return {"digest": name, "grant_id": grant, "client_pk": client, "user_id": owner,
                    "scope": "maps", "created_at": created, "expires_at": NOW + 30 * DAY,
                    "used_at": used}

        await store.conn.execute(insert(refresh_tokens), [
            token("rotated-long-ago", NOW - 20 * DAY, NOW - 8 * DAY),
            token("rotated-recently", NOW - 8 * DAY + 60, NOW - 6 * DAY),
            token("rotated-just-now", NOW - 6 * DAY, NOW - 5),
            token("live", NOW - 5, None),
        ])

        def event(kind: str, age: int, detail: str = "{}") -> dict[str, object]:
            return {"at": NOW - age, "kind": kind, "user_id": owner, "detail": detail}

        # In time order, as the log is written: the purge relies on it (see _first_id_from).
        await store.conn.execute(insert(security_events), [
            event("password.changed", 366 * DAY), event("refresh.reused", 300 * DAY)])
        if bulk:  # routine events old enough to go, made large so their pages add up
            await store.conn.execute(insert(security_events), [
                event("token.refreshed", 40 * DAY, '{"pad": "' + "x" * 1000 + '"}')
                for _ in range(bulk)])
        await store.conn.execute(insert(security_events), [
            event("token.refreshed", 31 * DAY), event("signin.success", 31 * DAY),
            event("token.refreshed", 29 * DAY), event("token.issued", DAY),
        ])


async def kinds_and_tokens(db: Database) -> tuple[list[tuple[str, int]], list[str]]:
    async with db.transaction(readonly=True) as store:
        events = [(row.kind, (NOW - row.at) // DAY) for row in await store.conn.execute(
            select(security_events.c.kind, security_events.c.at).order_by(security_events.c.at))]
        tokens = [row.digest for row in await store.conn.execute(
            select(refresh_tokens.c.digest).order_by(refresh_tokens.c.created_at))]
    return events, tokens


def test_purge_keeps_what_must_stay(database_url: str) -> None:
    db = open_database(database_url)

    async def work() -> None:
        await seed(db)
        counts = await purge(db, batch=2, now=NOW, retention=RETENTION)
        assert counts["refresh_tokens"] == 1 and counts["security_events"] == 2
        events, tokens = await kinds_and_tokens(db)
        assert tokens == ["rotated-recently", "rotated-just-now", "live"]
        # Routine events go after 30 days, the others after 365: sign-ins and reuse stay.
        assert events == [("refresh.reused", 300), ("signin.success", 31),
                          ("token.refreshed", 29), ("token.issued", 1)]
        # Outside the purge the log is still append-only, however old the row.
        for statement in (delete(security_events),
                          update(security_events).values(kind="signout")):
            with pytest.raises(DBAPIError, match="append-only"):
                async with db.transaction() as store:
                    await store.conn.execute(statement)
        assert (await kinds_and_tokens(db))[0] == events
        await db.dispose()

    run(db, work)


def test_the_purge_cannot_remove_a_younger_event(database_url: str) -> None:
    """The bound the purge publishes is what the database enforces: a purge whose condition
    were wrong (here: everything) still cannot delete a row younger than its bound."""
    from openplate.store.purge_repo import Rule, purge_batch

    db = open_database(database_url)

    async def work() -> None:
        await seed(db)
        reckless = Rule("security_events", security_events, security_events.c.id > 0,
                        log_bound=NOW - 100 * DAY)
        with pytest.raises(DBAPIError, match="append-only"):
            async with db.transaction() as store:
                await purge_batch(store.conn, reckless, 100)
        assert len((await kinds_and_tokens(db))[0]) == 6
        await db.dispose()

    run(db, work)


def _file_size(path: Path) -> int:
    """The database file once its log is checkpointed into it (all connections closed)."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return path.stat().st_size


@pytest.mark.parametrize("made_before_incremental_vacuum", [False, True])
def test_the_sqlite_file_shrinks(tmp_path: Path, made_before_incremental_vacuum: bool) -> None:
    path = tmp_path / "purge.db"
    db = open_database(f"sqlite:///{path}")
    run(db, lambda: seed(db, bulk=3000))
    asyncio.run(db.dispose())
    if made_before_incremental_vacuum:  # as a release before this one created it
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("PRAGMA auto_vacuum=NONE")
        conn.execute("VACUUM")
        assert conn.execute("PRAGMA auto_vacuum").fetchone()[0] == 0
        conn.close()
        assert enable_incremental_vacuum(path)  # what `openplate purge` does first, once
    assert not enable_incremental_vacuum(path)
    before = _file_size(path)
    db = open_database(f"sqlite:///{path}")

    async def work() -> dict[str, int]:
        try:
            return await purge(db, batch=500, now=NOW, retention=RETENTION)
        finally:
            await db.dispose()

    assert run(db, work)["security_events"] == 3002
    after = _file_size(path)
    assert after < before / 2, (before, after)
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA freelist_count").fetchone()[0] == 0
        assert conn.execute("SELECT COUNT(*) FROM security_events").fetchone()[0] == 4
    finally:
        conn.close()


def test_purge_removes_device_codes_an_hour_after_they_expire(database_url: str) -> None:
    """RFC 8628 device authorisations: kept an hour past expiry (a late poll is still told
    expired_token), then removed, used or not."""
    from openplate.store.tables import device_codes

    db = open_database(database_url)

    async def work() -> None:
        async with db.transaction() as store:
            owner = (await store.conn.execute(insert(users).values(
                username="d", username_key="d", email="d@x", email_key="d@x", password_hash="h",
                created_at=0, password_changed_at=0).returning(users.c.id))).scalar_one()
            client = (await store.conn.execute(insert(clients).values(
                client_id="opc_d", owner_id=owner, name="tv", created_at=0, secret_rotated_at=0)
                .returning(clients.c.id))).scalar_one()

            def row(name: str, expired_ago: int, used: bool = False) -> dict[str, object]:
                return {"device_digest": name, "user_digest": "u" + name, "client_pk": client,
                        "scope": "maps", "created_at": NOW - expired_ago - 600,
                        "expires_at": NOW - expired_ago, "poll_interval": 5,
                        "status": "allowed" if used else "pending",
                        "used_at": NOW - expired_ago - 300 if used else None}

            await store.conn.execute(insert(device_codes), [
                row("long-gone", 2 * 3600), row("used-long-ago", 3601, used=True),
                row("just-expired", 60), row("live", -300)])
        counts = await purge(db, batch=10, now=NOW, retention=RETENTION)
        assert counts["device_codes"] == 2
        async with db.transaction(readonly=True) as store:
            left = [r.device_digest for r in await store.conn.execute(
                select(device_codes.c.device_digest).order_by(device_codes.c.id))]
        assert left == ["just-expired", "live"]
        await db.dispose()

    run(db, work)


def test_purge_deletes_dpop_proofs_whose_time_is_up(database_url: str) -> None:
    """RFC 9449 §11.1: a proof is remembered only while it could still be accepted."""
    db = open_database(database_url)

    async def work() -> None:
        async with db.transaction() as store:
            await store.conn.execute(insert(dpop_proofs), [
                {"digest": "gone", "expires_at": NOW - 1},
                {"digest": "kept", "expires_at": NOW + 30}])
        counts = await purge(db, batch=2, now=NOW, retention=RETENTION)
        assert counts["dpop_proofs"] == 1
        async with db.transaction(readonly=True) as store:
            left = [row.digest for row in await store.conn.execute(select(dpop_proofs.c.digest))]
        assert left == ["kept"]
        await db.dispose()

    run(db, work)


def test_logout_tokens_go_once_delivered_or_given_up_and_old(database_url: str) -> None:
    """backchannel_logouts: rows delivered or given up longer ago than sent mail is kept go;
    newer ones, and ones still owed, stay."""
    from openplate.store.tables import backchannel_logouts

    db = open_database(database_url)

    async def work() -> None:
        await seed(db)
        async with db.transaction() as store:
            client = (await store.conn.execute(select(clients.c.id))).scalar_one()

            def owed(jti: str, delivered: int | None, gave_up: int | None) -> dict[str, object]:
                return {"client_pk": client, "subject": "1", "sid": "s", "jti": jti,
                        "created_at": NOW - 9 * DAY, "attempts": 1,
                        "next_attempt_at": NOW - 9 * DAY, "delivered_at": delivered,
                        "gave_up_at": gave_up}

            await store.conn.execute(insert(backchannel_logouts), [
                owed("old-delivered", NOW - 8 * DAY, None), owed("old-given-up", None, NOW - 8 * DAY),
                owed("new-delivered", NOW - DAY, None), owed("still-owed", None, None)])
        counts = await purge(db, batch=10, now=NOW, retention=RETENTION)
        assert counts["backchannel_logouts"] == 2
        async with db.transaction(readonly=True) as store:
            left = sorted((await store.conn.execute(select(backchannel_logouts.c.jti))).scalars())
        assert left == ["new-delivered", "still-owed"]
        await db.dispose()

    run(db, work)
