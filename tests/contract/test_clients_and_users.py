"""ClientStore.by_client_id and UserDirectory.profile: what was registered, or None."""

from __future__ import annotations

from tests.contract.backends import Backend


async def test_a_client_is_found_as_it_was_registered(backend: Backend) -> None:
    user = await backend.add_user()
    confidential = await backend.add_client(
        owner_id=user.id, redirect_uris=("https://a.example/cb", "http://127.0.0.1/cb"),
        grant_types=("authorization_code", "client_credentials"), require_pkce=True)
    public = await backend.add_client(owner_id=user.id, secret=None)
    async with backend.transaction(readonly=True) as store:
        found = await store.clients.by_client_id(confidential.client_id)
        found_public = await store.clients.by_client_id(public.client_id)
    assert found == confidential
    assert found.redirect_uris == ("https://a.example/cb", "http://127.0.0.1/cb")
    assert found.grant_types == ("authorization_code", "client_credentials")
    assert found.require_pkce and not found.is_public and found.owner_id == user.id
    assert found_public == public and found_public.is_public
    assert found_public.pk != found.pk


async def test_an_unknown_client_id_is_none(backend: Backend) -> None:
    async with backend.transaction(readonly=True) as store:
        assert await store.clients.by_client_id("opc_nobody-registered-this") is None


async def test_a_users_profile_and_an_unknown_user(backend: Backend) -> None:
    user = await backend.add_user()
    async with backend.transaction(readonly=True) as store:
        assert await store.users.profile(user.id) == user
        assert await store.users.profile(user.id + 1_000_000) is None
