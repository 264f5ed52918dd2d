"""CodeStore: a code is stored by its digest, consumed at most once, and undone with its unit."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from openplate.store.memory import DuplicateRow
from tests.contract.backends import NOW, Backend, code, code_digest, grant, user_and_client


async def test_a_code_is_found_as_it_was_created(backend: Backend) -> None:
    user, client = await user_and_client(backend)
    grant_id = await grant(backend, user, client)
    digest = await code(backend, grant_id, user, client)
    async with backend.transaction(readonly=True) as store:
        found = await store.codes.find(digest=digest)
    assert found is not None
    assert (found.grant_id, found.client_pk, found.user_id) == (grant_id, client.pk, user.id)
    assert found.redirect_uri == "https://app.example/cb"
    assert found.scope == "openid account"
    assert found.code_challenge == "c" * 43
    assert (found.nonce, found.auth_time, found.expires_at) == ("n-0S6", NOW - 5, NOW + 60)
    assert found.used is False


async def test_a_code_is_consumed_once(backend: Backend) -> None:
    user, client = await user_and_client(backend)
    grant_id = await grant(backend, user, client)
    digest = await code(backend, grant_id, user, client)
    async with backend.transaction() as store:
        before = await store.codes.find(digest=digest)
        first = await store.codes.consume(digest=digest, now=NOW + 1)
        again = await store.codes.consume(digest=digest, now=NOW + 1)
    assert first == before  # the code as it was: unused
    assert first is not None and first.used is False and first.grant_id == grant_id
    assert again is None  # in the same unit
    async with backend.transaction() as store:
        assert await store.codes.consume(digest=digest, now=NOW + 2) is None  # in the next
        after = await store.codes.find(digest=digest)
    assert after is not None and after.used is True and after.id == first.id


async def test_an_unknown_code_is_none(backend: Backend) -> None:
    async with backend.transaction() as store:
        assert await store.codes.consume(digest=code_digest(), now=NOW) is None
        assert await store.codes.find(digest=code_digest()) is None


async def test_expiry_is_the_callers_to_check(backend: Backend) -> None:
    """``consume`` hands over an expired code, with ``expires_at`` for the caller to refuse it."""
    user, client = await user_and_client(backend)
    grant_id = await grant(backend, user, client)
    expired = await code(backend, grant_id, user, client, ttl=60)
    async with backend.transaction() as store:
        record = await store.codes.consume(digest=expired, now=NOW + 61)
    assert record is not None and record.expires_at == NOW + 60 and record.grant_id == grant_id


async def test_a_code_of_a_revoked_grant_is_not_consumed(backend: Backend) -> None:
    """A new password or a revoked app ends the grant before its code is redeemed: the code is
    left unused and ``consume`` gives nothing (its tokens would be dead at birth)."""
    user, client = await user_and_client(backend)
    grant_id = await grant(backend, user, client)
    digest = await code(backend, grant_id, user, client, ttl=60)
    async with backend.transaction() as store:
        await store.grants.revoke(grant_id=grant_id, now=NOW + 10)
    async with backend.transaction() as store:
        assert await store.codes.consume(digest=digest, now=NOW + 11) is None
        found = await store.codes.find(digest=digest)
    assert found is not None and not found.used


async def test_a_consume_in_a_unit_that_fails_is_undone(backend: Backend) -> None:
    user, client = await user_and_client(backend)
    digest = await code(backend, await grant(backend, user, client), user, client)
    with pytest.raises(LookupError):
        async with backend.transaction() as store:
            assert await store.codes.consume(digest=digest, now=NOW) is not None
            raise LookupError("the unit fails after consuming")
    async with backend.transaction() as store:
        found = await store.codes.find(digest=digest)
        assert found is not None and found.used is False
        assert await store.codes.consume(digest=digest, now=NOW) is not None


async def test_a_second_code_with_the_same_digest_is_refused(backend: Backend) -> None:
    user, client = await user_and_client(backend)
    first_grant = await grant(backend, user, client)
    digest = await code(backend, first_grant, user, client)
    other_grant = await grant(backend, user, client)
    with pytest.raises((DuplicateRow, IntegrityError)):
        async with backend.transaction() as store:
            await store.codes.create(
                digest=digest, grant_id=other_grant, client_pk=client.pk, user_id=user.id,
                redirect_uri="https://evil.example/cb", scope="maps", code_challenge=None,
                nonce=None, auth_time=None, now=NOW, expires_at=NOW + 600)
    async with backend.transaction(readonly=True) as store:
        found = await store.codes.find(digest=digest)
    assert found is not None and found.grant_id == first_grant
    assert found.redirect_uri == "https://app.example/cb"
