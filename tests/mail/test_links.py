"""One-time links at rest, on SQLite and PostgreSQL, with a clock the test sets: a reset link is
kept only as its keyed digest, works for 30 minutes, once, and using it (or changing the
password) ends every other link of the account."""

from __future__ import annotations

from sqlalchemy import select, text

from openplate.accounts import recovery
from openplate.store.tables import mail_outbox, password_resets
from tests.mail.conftest import open_database

NOW = 2_000_000_000
BASE = "https://id.example.com"


async def _user(db, name: str = "alice") -> int:  # type: ignore[no-untyped-def]
    async with db.transaction() as store:
        user = await store.users.create(username=name, email=f"{name}@example.org",
                                        password_hash="x", now=NOW)
    return user.id


async def _mail_link(db, login: str, now: int = NOW) -> str:  # type: ignore[no-untyped-def]
    async with db.transaction() as store:
        assert await recovery.mail_reset_link(store, db.digester, login=login, base_url=BASE,
                                              next_path=None, now=now)
        body = (await store.conn.execute(
            select(mail_outbox.c.text_body).order_by(mail_outbox.c.id.desc()).limit(1))).scalar()
    return str(body).split(BASE + recovery.RESET_PATH, 1)[1].split()[0]


async def test_a_link_is_a_digest_at_rest_and_works_thirty_minutes_once(database_url: str) -> None:
    db = open_database(database_url)
    try:
        await _user(db)
        token = await _mail_link(db, "ALICE")  # the name, in any case
        async with db.transaction() as store:
            stored = (await store.conn.execute(select(password_resets.c.digest))).scalar()
            assert token not in str(stored) and token.startswith(recovery.RESET_PREFIX)
            assert stored == db.digester.digest(token)
            assert await recovery.reset_link(store, db.digester, token=token,
                                             now=NOW + recovery.RESET_TTL) is None
            assert await recovery.reset_link(store, db.digester, token=token,
                                             now=NOW + recovery.RESET_TTL - 1) is not None
        async with db.transaction() as store:
            late = await recovery.reset_password(store, db.digester, token=token,
                                                 password_hash="new", base_url=BASE,
                                                 now=NOW + recovery.RESET_TTL)
            assert late is None
            done = await recovery.reset_password(store, db.digester, token=token,
                                                 password_hash="new", base_url=BASE, now=NOW + 60)
            assert done is not None
            assert await recovery.reset_password(store, db.digester, token=token,
                                                 password_hash="newer", base_url=BASE,
                                                 now=NOW + 61) is None
            row = (await store.conn.execute(
                text("SELECT password_hash, email_verified_at FROM users"))).first()
            assert tuple(row) == ("new", NOW + 60)  # the link reached the address: verified
    finally:
        await db.dispose()


async def test_using_a_link_ends_the_others(database_url: str) -> None:
    db = open_database(database_url)
    try:
        await _user(db, "bob")
        first, second = await _mail_link(db, "bob"), await _mail_link(db, "bob@example.org")
        async with db.transaction() as store:
            assert await recovery.reset_password(store, db.digester, token=second,
                                                 password_hash="new", base_url=BASE,
                                                 now=NOW + 1) is not None
            assert await recovery.reset_link(store, db.digester, token=first, now=NOW + 2) is None
    finally:
        await db.dispose()


async def test_an_unknown_name_queues_nothing(database_url: str) -> None:
    db = open_database(database_url)
    try:
        async with db.transaction() as store:
            assert not await recovery.mail_reset_link(store, db.digester, login="nobody",
                                                      base_url=BASE, next_path=None, now=NOW)
            assert await store.outbox.listing() == []
    finally:
        await db.dispose()
