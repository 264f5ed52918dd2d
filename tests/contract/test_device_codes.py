"""RFC 8628 device authorisations in storage, on memory, SQLite and PostgreSQL: lookups by
either code's digest, the pace of polls (slow_down) and the one-time consume, under units that
race (``asyncio.gather``: PostgreSQL runs them on connections of their own)."""

from __future__ import annotations

import asyncio
import secrets

from openplate.oauth.tokens import DEVICE_CODE_PREFIX
from tests.contract.backends import DIGESTER, NOW, Backend, user_and_client

RACERS = 8


async def _device(backend: Backend, *, interval: int = 5) -> tuple[int, str, str, int]:
    user, client = await user_and_client(backend)
    device_digest = DIGESTER.digest(DIGESTER.mint(DEVICE_CODE_PREFIX))
    user_digest = DIGESTER.digest("user code\x00" + secrets.token_hex(8))
    async with backend.transaction() as store:
        device_id = await store.device_codes.create(
            device_digest=device_digest, user_digest=user_digest, client_pk=client.pk,
            scope="account maps", now=NOW, expires_at=NOW + 600, interval=interval)
    return device_id, device_digest, user_digest, user.id


async def test_found_by_either_digest_with_its_client(backend: Backend) -> None:
    device_id, device_digest, user_digest, _user = await _device(backend)
    async with backend.transaction(readonly=True) as store:
        by_device = await store.device_codes.by_device_code(digest=device_digest)
        by_user = await store.device_codes.by_user_code(user_digest=user_digest)
        by_id = await store.device_codes.by_id(device_id=device_id)
        assert await store.device_codes.user_code_live(user_digest=user_digest, now=NOW + 599)
        assert not await store.device_codes.user_code_live(user_digest=user_digest, now=NOW + 600)
        assert await store.device_codes.by_device_code(digest="0" * 64) is None
    assert by_device == by_user == by_id
    assert by_device is not None and by_device.status == "pending" and by_device.client_id
    assert (by_device.interval, by_device.used, by_device.user_id) == (5, False, None)


async def _pace(backend: Backend, device_id: int, now: int) -> int | None:
    async with backend.transaction() as store:
        return await store.device_codes.pace(device_id=device_id, now=now)


async def test_parallel_polls_one_goes_on_the_others_slow_down(backend: Backend) -> None:
    device_id, *_ = await _device(backend)
    results = await asyncio.gather(*(_pace(backend, device_id, NOW + 1) for _ in range(RACERS)))
    assert results.count(None) == 1
    slowed = sorted(r for r in results if r is not None)
    assert slowed == [5 + 5 * n for n in range(1, RACERS)]  # each slow_down adds 5 seconds
    async with backend.transaction(readonly=True) as store:
        record = await store.device_codes.by_id(device_id=device_id)
    assert record is not None and record.interval == 5 * RACERS
    assert await _pace(backend, device_id, NOW + 1 + 5 * RACERS) is None


async def _consume(backend: Backend, device_id: int) -> object:
    async with backend.transaction() as store:
        return await store.device_codes.consume(device_id=device_id, now=NOW + 2)


async def test_an_allowed_code_is_consumed_once_and_only_when_allowed(backend: Backend) -> None:
    device_id, _d, _u, user_id = await _device(backend)
    assert await _consume(backend, device_id) is None  # pending: nothing to consume
    async with backend.transaction() as store:
        assert not await store.device_codes.decide(device_id=device_id, user_id=user_id,
                                                   allow=True, now=NOW + 1, auth_time=NOW,
                                                   amr="pwd")  # not claimed by them
        await store.device_codes.claim(device_id=device_id, user_id=user_id)
        assert await store.device_codes.decide(device_id=device_id, user_id=user_id, allow=True,
                                               now=NOW + 1, auth_time=NOW, amr="pwd")
        assert not await store.device_codes.decide(device_id=device_id, user_id=user_id,
                                                   allow=False, now=NOW + 1, auth_time=NOW,
                                                   amr="pwd")
    results = await asyncio.gather(*(_consume(backend, device_id) for _ in range(RACERS)))
    won = [r for r in results if r is not None]
    assert len(won) == 1
    async with backend.transaction(readonly=True) as store:
        record = await store.device_codes.by_id(device_id=device_id)
    assert record is not None and record.used and record.status == "allowed"
    assert (record.user_id, record.auth_time, record.amr) == (user_id, NOW, "pwd")


async def test_a_disabled_user_cannot_consume(backend: Backend) -> None:
    device_id, _d, _u, user_id = await _device(backend)
    async with backend.transaction() as store:
        await store.device_codes.claim(device_id=device_id, user_id=user_id)
        assert await store.device_codes.decide(device_id=device_id, user_id=user_id, allow=True,
                                               now=NOW + 1, auth_time=None, amr=None)
    await backend.set_disabled(user_id=user_id, at=NOW + 1)
    assert await _consume(backend, device_id) is None
    await backend.set_disabled(user_id=user_id, at=None)
    assert await _consume(backend, device_id) is not None
