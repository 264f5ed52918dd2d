"""SqlApplications' profile and logo (migration 0009), on SQLite and PostgreSQL: what is saved is
read back, through the clients repository too; a logo is replaced in place, removed once, gone
with its app; uploads racing for one app end with one logo and no error. (The memory store has
no applications repository: the site's pages and the CLI always run on SQL.)"""

from __future__ import annotations

import asyncio
import hashlib

import pytest
from sqlalchemy import func, select

from openplate.accounts.applications import AppProfile
from openplate.oauth.tokens import new_client_id
from openplate.store.tables import client_logos
from tests.contract.backends import NOW, SqlBackend

PROFILE = AppProfile(homepage_url="https://app.example/", description="Draws.\nShares.",
                     privacy_url="https://app.example/privacy")


@pytest.fixture(params=["sqlite", "postgresql"])
def sql(request: pytest.FixtureRequest) -> SqlBackend:
    backend: SqlBackend = request.getfixturevalue(request.param)
    return backend


async def _app(sql: SqlBackend, profile: AppProfile | None = None) -> tuple[int, str]:
    user = await sql.add_user()
    async with sql.db.transaction() as store:
        client = await store.applications.create(
            client_id=new_client_id(), owner_id=user.id, name="Profiled", secret_digest=None,
            redirect_uris=["https://app.example/cb"], grant_types=["authorization_code"],
            require_pkce=True, now=NOW, profile=profile)
    return client.pk, client.client_id


def _logo(n: int) -> tuple[bytes, str]:
    png = b"\x89PNG fake bytes %d" % n  # the repository stores what it is given
    return png, hashlib.sha256(png).hexdigest()


async def test_a_profile_is_saved_and_read_back(sql: SqlBackend) -> None:
    pk, client_id = await _app(sql, PROFILE)
    async with sql.db.transaction(readonly=True) as store:
        client = await store.clients.by_client_id(client_id)
    assert client is not None
    assert (client.homepage_url, client.description, client.privacy_url, client.logo_digest) == (
        PROFILE.homepage_url, PROFILE.description, PROFILE.privacy_url, None)
    async with sql.db.transaction() as store:
        await store.applications.set_profile(pk=pk, profile=AppProfile(homepage_url="https://b.example/"))
    async with sql.db.transaction(readonly=True) as store:
        client = await store.clients.by_client_id(client_id)  # the change cleared the cache
    assert client is not None
    assert (client.homepage_url, client.description, client.privacy_url) == (
        "https://b.example/", None, None)


async def test_a_logo_is_replaced_removed_once_and_gone_with_its_app(sql: SqlBackend) -> None:
    pk, client_id = await _app(sql)
    first, second = _logo(1), _logo(2)
    async with sql.db.transaction() as store:
        assert await store.applications.logo(client_id=client_id) is None
        await store.applications.set_logo(pk=pk, png=first[0], digest=first[1], now=NOW)
        await store.applications.set_logo(pk=pk, png=second[0], digest=second[1], now=NOW + 1)
    async with sql.db.transaction(readonly=True) as store:
        stored = await store.applications.logo(client_id=client_id)
        client = await store.clients.by_client_id(client_id)
        rows = (await store.conn.execute(select(func.count()).select_from(client_logos).where(
            client_logos.c.client_pk == pk))).scalar()
    assert stored is not None and (stored.png, stored.digest) == second
    assert client is not None and client.logo_digest == second[1] and rows == 1
    async with sql.db.transaction() as store:
        assert await store.applications.remove_logo(pk=pk) is True
        assert await store.applications.remove_logo(pk=pk) is False
        assert await store.applications.logo(client_id=client_id) is None
        await store.applications.set_logo(pk=pk, png=first[0], digest=first[1], now=NOW + 2)
        await store.applications.delete(pk=pk)
    async with sql.db.transaction(readonly=True) as store:
        left = (await store.conn.execute(select(func.count()).select_from(client_logos).where(
            client_logos.c.client_pk == pk))).scalar()
    assert left == 0


async def test_uploads_racing_for_one_app_end_with_one_logo(sql: SqlBackend) -> None:
    pk, client_id = await _app(sql)

    async def upload(n: int) -> None:
        png, digest = _logo(n)
        async with sql.db.transaction() as store:
            await store.applications.set_logo(pk=pk, png=png, digest=digest, now=NOW + n)

    await asyncio.gather(*(upload(n) for n in range(12)))
    async with sql.db.transaction(readonly=True) as store:
        stored = await store.applications.logo(client_id=client_id)
        client = await store.clients.by_client_id(client_id)
    assert stored is not None and client is not None
    assert stored.digest == client.logo_digest == hashlib.sha256(stored.png).hexdigest()
