"""PushedRequestStore (RFC 9126): a pushed request is found by its digest, consumed once, by its
own client, before it expires; a consume in a unit that fails is undone; of many units that
consume it at once, one wins. On memory, SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import secrets

import pytest

from openplate.oauth.models import PushedRecord
from tests.contract.backends import DIGESTER, NOW, Backend, user_and_client

PARAMS = '{"client_id":"opc_x","response_type":"code"}'


def _digest() -> str:
    return DIGESTER.digest("urn:ietf:params:oauth:request_uri:" + secrets.token_urlsafe(32))


async def _pushed(backend: Backend, client_pk: int, *, ttl: int = 60) -> str:
    digest = _digest()
    async with backend.transaction() as store:
        await store.pushed_requests.create(digest=digest, client_pk=client_pk, params=PARAMS,
                                           now=NOW, expires_at=NOW + ttl)
    return digest


async def test_a_pushed_request_is_consumed_once(backend: Backend) -> None:
    _, client = await user_and_client(backend)
    digest = await _pushed(backend, client.pk)
    async with backend.transaction(readonly=True) as store:
        assert await store.pushed_requests.find(digest=digest) == PushedRecord(
            client_pk=client.pk, params=PARAMS, expires_at=NOW + 60, used=False)
        assert await store.pushed_requests.find(digest=_digest()) is None
    async with backend.transaction() as store:
        assert await store.pushed_requests.consume(digest=digest, client_pk=client.pk,
                                                   now=NOW + 1) == PARAMS
        assert await store.pushed_requests.consume(digest=digest, client_pk=client.pk,
                                                   now=NOW + 1) is None
    async with backend.transaction() as store:
        assert await store.pushed_requests.consume(digest=digest, client_pk=client.pk,
                                                   now=NOW + 2) is None
        found = await store.pushed_requests.find(digest=digest)
    assert found is not None and found.used


async def test_only_its_own_client_before_it_expires(backend: Backend) -> None:
    user, client = await user_and_client(backend)
    other = await backend.add_client(owner_id=user.id)
    digest = await _pushed(backend, client.pk, ttl=60)
    async with backend.transaction() as store:
        pushed = store.pushed_requests
        assert await pushed.consume(digest=digest, client_pk=other.pk, now=NOW + 1) is None
        assert await pushed.consume(digest=digest, client_pk=client.pk, now=NOW + 60) is None
        found = await pushed.find(digest=digest)
        assert found is not None and not found.used  # neither attempt used it up
        assert await pushed.consume(digest=digest, client_pk=client.pk, now=NOW + 59) == PARAMS


async def test_a_consume_in_a_unit_that_fails_is_undone(backend: Backend) -> None:
    _, client = await user_and_client(backend)
    digest = await _pushed(backend, client.pk)
    with pytest.raises(LookupError):
        async with backend.transaction() as store:
            assert await store.pushed_requests.consume(digest=digest, client_pk=client.pk,
                                                       now=NOW) == PARAMS
            raise LookupError("the unit fails after consuming")
    async with backend.transaction() as store:
        assert await store.pushed_requests.consume(digest=digest, client_pk=client.pk,
                                                   now=NOW) == PARAMS


async def test_concurrent_consumes_one_wins(backend: Backend) -> None:
    _, client = await user_and_client(backend)
    digest = await _pushed(backend, client.pk)

    async def consume() -> str | None:
        async with backend.transaction() as store:
            return await store.pushed_requests.consume(digest=digest, client_pk=client.pk,
                                                       now=NOW + 1)

    results = await asyncio.gather(*(consume() for _ in range(8)))
    assert results.count(PARAMS) == 1 and results.count(None) == 7
