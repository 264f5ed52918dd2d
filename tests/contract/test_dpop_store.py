"""RFC 9449 in the stores: the DPoP key a token or a code is bound to is kept and read back alike
on memory, SQLite and PostgreSQL, and the table ledger of proofs seen (§11.1) lets each proof in
once, even when many units race for it."""

from __future__ import annotations

import asyncio
import secrets

from openplate.store.dpop_ledger import DatabaseLedger, MemoryLedger, first_use_in
from tests.contract.backends import (
    DIGESTER,
    NOW,
    Backend,
    SqlBackend,
    access_digest,
    code_digest,
    grant,
    refresh_digest,
    user_and_client,
)
from tests.contract.test_concurrency import _waiting_on_a_lock

JKT = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"
RACERS = 8


async def test_tokens_and_codes_keep_their_dpop_key(backend: Backend) -> None:
    user, client = await user_and_client(backend)
    grant_id = await grant(backend, user, client)
    bound, plain, refresh, code = access_digest(), access_digest(), refresh_digest(), code_digest()
    async with backend.transaction() as store:
        await store.tokens.create_access(digest=bound, grant_id=grant_id, client_pk=client.pk,
                                         user_id=user.id, scope="account", now=NOW,
                                         expires_at=NOW + 60, jkt=JKT)
        await store.tokens.create_access(digest=plain, grant_id=grant_id, client_pk=client.pk,
                                         user_id=user.id, scope="account", now=NOW,
                                         expires_at=NOW + 60)
        await store.tokens.create_refresh(digest=refresh, grant_id=grant_id, client_pk=client.pk,
                                          user_id=user.id, scope="account", now=NOW,
                                          expires_at=NOW + 60, access_digest=bound, jkt=JKT)
        await store.codes.create(digest=code, grant_id=grant_id, client_pk=client.pk,
                                 user_id=user.id, redirect_uri="https://app.example/cb",
                                 scope="account", code_challenge=None, nonce=None,
                                 auth_time=None, now=NOW, expires_at=NOW + 60, dpop_jkt=JKT)
    copy = access_digest()
    async with backend.transaction() as store:
        await store.tokens.copy_access(source_digest=bound, digest=copy)
    async with backend.transaction() as store:
        found = [await store.tokens.find_access(digest=d, now=NOW + 1) for d in (bound, plain, copy)]
        record = await store.tokens.find_refresh(digest=refresh)
        consumed = await store.codes.consume(digest=code, now=NOW + 1)
    assert [principal.jkt if principal else "missing" for principal in found] == [JKT, None, JKT]
    assert record is not None and record.jkt == JKT
    assert consumed is not None and consumed.dpop_jkt == JKT




async def test_a_proof_is_let_in_once_even_when_units_race(backend: Backend) -> None:
    ledger = (MemoryLedger() if not isinstance(backend, SqlBackend)
              else DatabaseLedger(backend.db))
    key = DIGESTER.digest("dpop\x00" + secrets.token_hex(8))
    results = await asyncio.gather(*(ledger.first_use(key=key, expires_at=NOW + 61, now=NOW)
                                     for _ in range(RACERS)))
    assert results.count(True) == 1
    assert not await ledger.first_use(key=key, expires_at=NOW + 70, now=NOW + 60)
    # Once its time is up the row is taken over in place (the purge may not have run yet).
    assert await ledger.first_use(key=key, expires_at=NOW + 200, now=NOW + 61)
    assert not await ledger.first_use(key=key, expires_at=NOW + 200, now=NOW + 62)


async def test_two_open_transactions_on_postgresql_one_wins(postgresql: SqlBackend) -> None:
    """Two nodes' units, both open: the second insert waits for the first to commit, then
    inserts nothing."""
    key = DIGESTER.digest("dpop\x00" + secrets.token_hex(8))
    first_entered, first_may_commit = asyncio.Event(), asyncio.Event()

    async def first() -> bool:
        async with postgresql.db.transaction() as store:
            won = await first_use_in(store.conn, key=key, expires_at=NOW + 61, now=NOW)
            first_entered.set()
            await first_may_commit.wait()
            return won

    async def second() -> bool:
        await first_entered.wait()
        async with postgresql.db.transaction() as store:
            return await first_use_in(store.conn, key=key, expires_at=NOW + 61, now=NOW)

    task_one, task_two = asyncio.create_task(first()), asyncio.create_task(second())
    await _waiting_on_a_lock(postgresql.url, task_two)
    first_may_commit.set()
    assert await task_one is True
    assert await task_two is False
