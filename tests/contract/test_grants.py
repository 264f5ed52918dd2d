"""GrantStore: grants are made, touched and revoked; client-credentials grants are reused.

A grant has no read of its own in the ports: it is seen through the tokens that hang on it
(``find_refresh`` reports its auth_time, "last used" and revocation; ``find_access`` ends with it).
"""

from __future__ import annotations

import pytest

from openplate.oauth.models import LAST_USED_EVERY
from tests.contract.backends import (
    NOW,
    Backend,
    access_token,
    grant,
    refresh_token,
    user_and_client,
)


async def test_a_grant_keeps_its_auth_time_and_last_used(backend: Backend) -> None:
    user, client = await user_and_client(backend)
    plain = await grant(backend, user, client, auth_time=NOW - 30)
    used = await grant(backend, user, client, used=True)
    assert plain != used
    plain_refresh = await refresh_token(backend, plain, user, client)
    used_refresh = await refresh_token(backend, used, user, client)
    async with backend.transaction(readonly=True) as store:
        first = await store.tokens.find_refresh(digest=plain_refresh)
        second = await store.tokens.find_refresh(digest=used_refresh)
    assert first is not None and second is not None
    assert (first.grant_id, first.auth_time, first.grant_used_at) == (plain, NOW - 30, None)
    assert (second.grant_id, second.auth_time, second.grant_used_at) == (used, None, NOW)
    assert not first.grant_revoked and not second.grant_revoked


async def test_touch_sets_last_used(backend: Backend) -> None:
    user, client = await user_and_client(backend)
    grant_id = await grant(backend, user, client)
    digest = await refresh_token(backend, grant_id, user, client)
    async with backend.transaction() as store:
        await store.grants.touch(grant_id=grant_id, now=NOW + 120)
    async with backend.transaction(readonly=True) as store:
        record = await store.tokens.find_refresh(digest=digest)
    assert record is not None and record.grant_used_at == NOW + 120


async def test_revoking_a_grant_ends_its_tokens_and_no_others(backend: Backend) -> None:
    user, client = await user_and_client(backend)
    revoked, kept = await grant(backend, user, client), await grant(backend, user, client)
    access = await access_token(backend, revoked, user, client)
    refresh = await refresh_token(backend, revoked, user, client)
    kept_access = await access_token(backend, kept, user, client)
    kept_refresh = await refresh_token(backend, kept, user, client)
    async with backend.transaction() as store:
        await store.grants.revoke(grant_id=revoked, now=NOW + 5)
        await store.grants.revoke(grant_id=revoked, now=NOW + 6)  # again: nothing changes
        await store.grants.touch(grant_id=revoked, now=NOW + 7)  # a touch does not revive it
    async with backend.transaction(readonly=True) as store:
        assert await store.tokens.find_access(digest=access, now=NOW + 10) is None
        record = await store.tokens.find_refresh(digest=refresh)
        assert record is not None and record.grant_revoked and not record.revoked
        assert await store.tokens.find_access(digest=kept_access, now=NOW + 10) is not None
        other = await store.tokens.find_refresh(digest=kept_refresh)
        assert other is not None and not other.grant_revoked


async def test_client_credentials_reuse_one_grant_per_client_and_scope(backend: Backend) -> None:
    user, client = await user_and_client(backend)
    other_client = await backend.add_client(owner_id=user.id)
    user_grant = await grant(backend, user, client, scope="maps")  # a browser grant, same triple

    async def for_client(client_pk: int, scope: str, now: int = NOW) -> int:
        async with backend.transaction() as store:
            return await store.grants.for_client(user_id=user.id, client_pk=client_pk,
                                                 scope=scope, now=now)

    first = await for_client(client.pk, "maps")
    assert first != user_grant  # never a grant a user gave in a browser
    assert await for_client(client.pk, "maps", NOW + 1) == first
    others = {await for_client(other_client.pk, "maps"), await for_client(client.pk, "account")}
    assert first not in others and len(others) == 2
    assert await for_client(client.pk, "maps", NOW + 2) == first


async def test_a_revoked_client_credentials_grant_is_replaced(backend: Backend) -> None:
    user, client = await user_and_client(backend)
    async with backend.transaction() as store:
        first = await store.grants.for_client(user_id=user.id, client_pk=client.pk,
                                              scope="maps", now=NOW)
        await store.grants.revoke(grant_id=first, now=NOW + 1)
    async with backend.transaction() as store:
        second = await store.grants.for_client(user_id=user.id, client_pk=client.pk,
                                               scope="maps", now=NOW + 2)
    assert second != first
    token = await access_token(backend, second, user, client, scope="maps", now=NOW + 2)
    async with backend.transaction(readonly=True) as store:
        assert await store.tokens.find_access(digest=token, now=NOW + 3) is not None


async def test_a_client_credentials_grant_from_a_failed_unit_is_not_reused(
    backend: Backend,
) -> None:
    user, client = await user_and_client(backend)
    with pytest.raises(LookupError):
        async with backend.transaction() as store:
            await store.grants.for_client(user_id=user.id, client_pk=client.pk, scope="maps",
                                          now=NOW)
            raise LookupError("the unit fails after making the grant")
    async with backend.transaction() as store:
        grant_id = await store.grants.for_client(user_id=user.id, client_pk=client.pk,
                                                 scope="maps", now=NOW + 1)
    token = await access_token(backend, grant_id, user, client, scope="maps", now=NOW + 1)
    async with backend.transaction(readonly=True) as store:
        principal = await store.tokens.find_access(digest=token, now=NOW + 2)
    assert principal is not None and principal.grant_id == grant_id


async def test_client_credentials_last_used_is_written_once_a_minute(backend: Backend) -> None:
    user, client = await user_and_client(backend)

    async def for_client(now: int) -> int:
        async with backend.transaction() as store:
            return await store.grants.for_client(user_id=user.id, client_pk=client.pk,
                                                 scope="maps", now=now)

    async def last_used(digest: str) -> int | None:
        async with backend.transaction(readonly=True) as store:
            record = await store.tokens.find_refresh(digest=digest)
        assert record is not None
        return record.grant_used_at

    grant_id = await for_client(NOW)
    probe = await refresh_token(backend, grant_id, user, client, scope="maps")  # to read it
    assert await last_used(probe) == NOW
    assert await for_client(NOW + LAST_USED_EVERY - 1) == grant_id
    assert await last_used(probe) == NOW
    assert await for_client(NOW + LAST_USED_EVERY) == grant_id
    assert await last_used(probe) == NOW + LAST_USED_EVERY


async def test_a_clients_own_grant_says_so_on_its_tokens(backend: Backend) -> None:
    """RFC 9068 §2.2: a client-credentials token speaks for the client, not for a user."""
    user, client = await user_and_client(backend)
    async with backend.transaction() as store:
        own = await store.grants.for_client(user_id=user.id, client_pk=client.pk, scope="maps",
                                            now=NOW)
    users = await grant(backend, user, client)
    own_token = await access_token(backend, own, user, client)
    users_token = await access_token(backend, users, user, client)
    async with backend.transaction(readonly=True) as store:
        mine = await store.tokens.find_access(digest=own_token, now=NOW)
        theirs = await store.tokens.find_access(digest=users_token, now=NOW)
    assert mine is not None and mine.for_client
    assert theirs is not None and not theirs.for_client
