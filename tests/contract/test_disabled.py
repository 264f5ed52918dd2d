"""A disabled user or application: every store reads the flag where it checks a token, so a
code is not redeemed, a refresh token shows as dead and an access token is not found while
either is disabled (the revocation that disabling also does is openplate.accounts.lifecycle's;
these tests show the flag alone holds, for a token made after the revocation ran)."""

from __future__ import annotations

import pytest

from tests.contract.backends import (
    NOW,
    Backend,
    access_token,
    code,
    grant,
    refresh_token,
    user_and_client,
)


@pytest.mark.parametrize("who", ["user", "client"])
async def test_nothing_of_a_disabled_holder_works_until_it_is_enabled(
        backend: Backend, who: str) -> None:
    user, client = await user_and_client(backend)
    grant_id = await grant(backend, user, client)
    access = await access_token(backend, grant_id, user, client)
    refresh = await refresh_token(backend, grant_id, user, client)
    first_code = await code(backend, grant_id, user, client)
    target = {"user_id": user.id} if who == "user" else {"client_pk": client.pk}

    await backend.set_disabled(**target, at=NOW)
    async with backend.transaction() as store:
        assert await store.tokens.find_access(digest=access, now=NOW + 1) is None
        record = await store.tokens.find_refresh(digest=refresh)
        assert record is not None and record.grant_revoked and not record.revoked
        assert await store.codes.consume(digest=first_code, now=NOW + 1) is None
        found = await store.clients.by_client_id(client.client_id)
        assert found is not None and found.disabled is (who == "client")

    await backend.set_disabled(**target, at=None)
    async with backend.transaction() as store:
        assert await store.tokens.find_access(digest=access, now=NOW + 2) is not None
        record = await store.tokens.find_refresh(digest=refresh)
        assert record is not None and not record.grant_revoked
        assert await store.codes.consume(digest=first_code, now=NOW + 2) is not None
        found = await store.clients.by_client_id(client.client_id)
        assert found is not None and not found.disabled


async def test_disabling_one_user_leaves_another_user_of_the_same_app_alone(
        backend: Backend) -> None:
    user, client = await user_and_client(backend)
    other = await backend.add_user()
    mine = await access_token(backend, await grant(backend, user, client), user, client)
    theirs = await access_token(backend, await grant(backend, other, client), other, client)
    await backend.set_disabled(user_id=user.id, at=NOW)
    async with backend.transaction(readonly=True) as store:
        assert await store.tokens.find_access(digest=mine, now=NOW + 1) is None
        assert await store.tokens.find_access(digest=theirs, now=NOW + 1) is not None
