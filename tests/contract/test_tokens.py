"""TokenStore: access tokens live until expiry or revocation; refresh tokens rotate once."""

from __future__ import annotations

import pytest

from tests.contract.backends import (
    NOW,
    Backend,
    access_digest,
    access_token,
    grant,
    refresh_digest,
    refresh_token,
    user_and_client,
)


async def test_a_live_access_token_speaks_for_its_user(backend: Backend) -> None:
    user, client = await user_and_client(backend)
    grant_id = await grant(backend, user, client)
    digest = await access_token(backend, grant_id, user, client, scope="maps", ttl=3600)
    async with backend.transaction(readonly=True) as store:
        principal = await store.tokens.find_access(digest=digest, now=NOW + 1)
    assert principal is not None
    assert (principal.grant_id, principal.user_id, principal.client_pk) == (
        grant_id, user.id, client.pk)
    assert (principal.scope, principal.issued_at, principal.expires_at) == (
        "maps", NOW, NOW + 3600)
    assert principal.user == user


async def test_an_access_token_ends_when_it_expires(backend: Backend) -> None:
    user, client = await user_and_client(backend)
    digest = await access_token(backend, await grant(backend, user, client), user, client, ttl=60)
    async with backend.transaction(readonly=True) as store:
        assert await store.tokens.find_access(digest=digest, now=NOW + 59) is not None
        assert await store.tokens.find_access(digest=digest, now=NOW + 60) is None


async def test_revoking_an_access_token_ends_it_alone(backend: Backend) -> None:
    user, client = await user_and_client(backend)
    grant_id = await grant(backend, user, client)
    revoked = await access_token(backend, grant_id, user, client)
    kept = await access_token(backend, grant_id, user, client)
    refresh = await refresh_token(backend, grant_id, user, client)
    async with backend.transaction() as store:
        principal = await store.tokens.find_access(digest=revoked, now=NOW)
        assert principal is not None
        await store.tokens.revoke_access(token_id=principal.token_id, now=NOW + 1)
        await store.tokens.revoke_access(token_id=principal.token_id, now=NOW + 2)  # again
    async with backend.transaction(readonly=True) as store:
        assert await store.tokens.find_access(digest=revoked, now=NOW + 3) is None
        assert await store.tokens.find_access(digest=kept, now=NOW + 3) is not None
        record = await store.tokens.find_refresh(digest=refresh)
        assert record is not None and not record.revoked and not record.grant_revoked


async def test_unknown_tokens_are_none_and_the_kinds_do_not_mix(backend: Backend) -> None:
    user, client = await user_and_client(backend)
    grant_id = await grant(backend, user, client)
    access = await access_token(backend, grant_id, user, client)
    refresh = await refresh_token(backend, grant_id, user, client)
    async with backend.transaction(readonly=True) as store:
        assert await store.tokens.find_access(digest=access_digest(), now=NOW) is None
        assert await store.tokens.find_refresh(digest=refresh_digest()) is None
        assert await store.tokens.find_access(digest=refresh, now=NOW) is None
        assert await store.tokens.find_refresh(digest=access) is None


async def test_a_refresh_token_is_found_as_it_was_created(backend: Backend) -> None:
    """Expiry is the caller's to check: ``find_refresh`` returns an expired token too."""
    user, client = await user_and_client(backend)
    grant_id = await grant(backend, user, client, auth_time=NOW - 9)
    digest = await refresh_token(backend, grant_id, user, client, scope="account", ttl=100)
    async with backend.transaction(readonly=True) as store:
        record = await store.tokens.find_refresh(digest=digest)
    assert record is not None
    assert (record.grant_id, record.client_pk, record.user_id, record.scope) == (
        grant_id, client.pk, user.id, "account")
    assert (record.issued_at, record.expires_at, record.auth_time) == (NOW, NOW + 100, NOW - 9)
    assert record.used_at is None and record.successor_stamp is None and not record.used
    assert not record.revoked and not record.grant_revoked


async def test_a_refresh_token_is_used_once(backend: Backend) -> None:
    user, client = await user_and_client(backend)
    digest = await refresh_token(backend, await grant(backend, user, client), user, client)
    async with backend.transaction() as store:
        record = await store.tokens.find_refresh(digest=digest)
        assert record is not None
        assert await store.tokens.use_refresh(refresh_id=record.id, now=NOW + 5,
                                              successor_stamp="0123456789abcd") is True
        assert await store.tokens.use_refresh(refresh_id=record.id, now=NOW + 6,
                                              successor_stamp="ffffffffffffff") is False
    async with backend.transaction() as store:
        assert await store.tokens.use_refresh(refresh_id=record.id, now=NOW + 7,
                                              successor_stamp=None) is False
        used = await store.tokens.find_refresh(digest=digest)
    assert used is not None and used.used
    assert (used.used_at, used.successor_stamp) == (NOW + 5, "0123456789abcd")


async def test_a_rotation_without_a_stamp_and_of_an_unknown_token(backend: Backend) -> None:
    user, client = await user_and_client(backend)
    digest = await refresh_token(backend, await grant(backend, user, client), user, client)
    async with backend.transaction() as store:
        record = await store.tokens.find_refresh(digest=digest)
        assert record is not None
        assert await store.tokens.use_refresh(refresh_id=record.id + 1_000_000, now=NOW,
                                              successor_stamp=None) is False
        assert await store.tokens.use_refresh(refresh_id=record.id, now=NOW,
                                              successor_stamp=None) is True
        used = await store.tokens.find_refresh(digest=digest)
    assert used is not None and used.used_at == NOW and used.successor_stamp is None


async def test_a_rotation_in_a_unit_that_fails_is_undone(backend: Backend) -> None:
    user, client = await user_and_client(backend)
    digest = await refresh_token(backend, await grant(backend, user, client), user, client)
    with pytest.raises(LookupError):
        async with backend.transaction() as store:
            record = await store.tokens.find_refresh(digest=digest)
            assert record is not None
            assert await store.tokens.use_refresh(refresh_id=record.id, now=NOW,
                                                  successor_stamp=None)
            raise LookupError("the unit fails after rotating")
    async with backend.transaction() as store:
        again = await store.tokens.find_refresh(digest=digest)
        assert again is not None and again.used_at is None
        assert await store.tokens.use_refresh(refresh_id=again.id, now=NOW + 1,
                                              successor_stamp=None)


async def test_a_refresh_token_remembers_the_access_token_minted_with_it(backend: Backend) -> None:
    user, client = await user_and_client(backend)
    grant_id = await grant(backend, user, client)
    access = await access_token(backend, grant_id, user, client)
    digest = refresh_digest()
    async with backend.transaction() as store:
        await store.tokens.create_refresh(digest=digest, grant_id=grant_id, client_pk=client.pk,
                                          user_id=user.id, scope="account maps", now=NOW,
                                          expires_at=NOW + 60, access_digest=access)
    older = await refresh_token(backend, grant_id, user, client)
    async with backend.transaction(readonly=True) as store:
        record = await store.tokens.find_refresh(digest=digest)
        assert record is not None and record.access_digest == access
        before = await store.tokens.find_refresh(digest=older)
        assert before is not None and before.access_digest is None


async def test_a_copied_access_token_is_the_same_token_under_another_digest(backend: Backend) -> None:
    user, client = await user_and_client(backend)
    grant_id = await grant(backend, user, client)
    source = await access_token(backend, grant_id, user, client, scope="maps", ttl=600)
    copy = access_digest()
    async with backend.transaction() as store:
        await store.tokens.copy_access(source_digest=source, digest=copy)
        await store.tokens.copy_access(source_digest=source, digest=copy)  # a racing retry
        await store.tokens.copy_access(source_digest=access_digest(), digest=access_digest())
    async with backend.transaction(readonly=True) as store:
        first = await store.tokens.find_access(digest=source, now=NOW)
        second = await store.tokens.find_access(digest=copy, now=NOW)
    assert first is not None and second is not None
    assert (second.grant_id, second.user_id, second.client_pk, second.scope, second.issued_at,
            second.expires_at) == (first.grant_id, first.user_id, first.client_pk, first.scope,
                                   first.issued_at, first.expires_at)
    async with backend.transaction() as store:
        await store.grants.revoke(grant_id=grant_id, now=NOW + 1)
    async with backend.transaction(readonly=True) as store:
        assert await store.tokens.find_access(digest=copy, now=NOW + 2) is None
