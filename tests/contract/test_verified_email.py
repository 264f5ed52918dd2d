"""UserDirectory.profile and TokenStore.find_access say whether the user's address is verified:
``email_verified`` (the ID token's and UserInfo's claim) is False for a new account on every
backend, and True in SQL once a verification set it (users.email_verified_at)."""

from __future__ import annotations

import pytest

from tests.contract.backends import NOW, Backend, SqlBackend, access_token, grant, user_and_client


@pytest.fixture(params=["sqlite", "postgresql"])
def sql(request: pytest.FixtureRequest) -> SqlBackend:
    backend: SqlBackend = request.getfixturevalue(request.param)
    return backend


async def test_a_new_address_is_not_verified(backend: Backend) -> None:
    user, client = await user_and_client(backend)
    digest = await access_token(backend, await grant(backend, user, client), user, client)
    async with backend.transaction(readonly=True) as store:
        profile = await store.users.profile(user.id)
        principal = await store.tokens.find_access(digest=digest, now=NOW)
    assert profile is not None and profile.email_verified is False
    assert principal is not None and principal.user is not None
    assert principal.user.email_verified is False


async def test_a_verified_address_is_said_so(sql: SqlBackend) -> None:
    user, client = await user_and_client(sql)
    digest = await access_token(sql, await grant(sql, user, client), user, client)
    async with sql.db.transaction() as store:
        await store.users.set_verified_email(user_id=user.id, email=user.email, now=NOW)
    async with sql.transaction(readonly=True) as store:
        profile = await store.users.profile(user.id)
        principal = await store.tokens.find_access(digest=digest, now=NOW)
    assert profile is not None and profile.email_verified is True
    assert principal is not None and principal.user is not None
    assert principal.user.email_verified is True
