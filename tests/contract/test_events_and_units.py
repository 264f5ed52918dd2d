"""EventLog.append, read back; and the unit of work: committed whole or not at all."""

from __future__ import annotations

import pytest

from tests.contract.backends import (
    NOW,
    Backend,
    access_digest,
    code_digest,
    grant,
    refresh_digest,
    refresh_token,
    user_and_client,
)


async def test_events_are_appended_and_read_newest_first(backend: Backend) -> None:
    user, client = await user_and_client(backend)
    async with backend.transaction(ip="192.0.2.7") as store:
        await store.events.append(kind="token.issued", now=NOW, user_id=user.id,
                                  client_id=client.client_id, detail={"scope": "maps", "n": 1})
        await store.events.append(kind="refresh.reused", now=NOW + 1, user_id=user.id,
                                  ip="198.51.100.1")
        await store.events.append(kind="token.failure", now=NOW + 2, ip="x" * 100)
    async with backend.transaction(readonly=True) as store:
        mine = await store.events.recent(user_id=user.id)
        latest = await store.events.recent(limit=1)
    assert [e.kind for e in mine] == ["refresh.reused", "token.issued"]
    reused, issued = mine
    assert (issued.at, issued.user_id, issued.client_id, issued.ip) == (
        NOW, user.id, client.client_id, "192.0.2.7")  # the unit's address
    assert issued.detail == {"n": 1, "scope": "maps"}
    assert (reused.ip, reused.client_id, reused.detail) == ("198.51.100.1", None, {})
    assert reused.id > issued.id
    assert len(latest) == 1 and latest[0].kind == "token.failure" and latest[0].ip == "x" * 64


async def test_a_unit_that_raises_leaves_nothing_behind(backend: Backend) -> None:
    user, client = await user_and_client(backend)
    kept_grant = await grant(backend, user, client)
    kept_refresh = await refresh_token(backend, kept_grant, user, client)
    code, access, refresh = code_digest(), access_digest(), refresh_digest()
    with pytest.raises(LookupError):
        async with backend.transaction() as store:
            new_grant = await store.grants.create(user_id=user.id, client_pk=client.pk,
                                                  scope="maps", now=NOW)
            await store.codes.create(
                digest=code, grant_id=new_grant, client_pk=client.pk, user_id=user.id,
                redirect_uri="https://app.example/cb", scope="maps", code_challenge=None,
                nonce=None, auth_time=None, now=NOW, expires_at=NOW + 60)
            for create, digest in ((store.tokens.create_access, access),
                                   (store.tokens.create_refresh, refresh)):
                await create(digest=digest, grant_id=new_grant, client_pk=client.pk,
                             user_id=user.id, scope="maps", now=NOW, expires_at=NOW + 60)
            await store.grants.revoke(grant_id=kept_grant, now=NOW)
            await store.events.append(kind="token.issued", now=NOW, user_id=user.id)
            # Inside the unit, all of it is there.
            assert await store.tokens.find_access(digest=access, now=NOW) is not None
            raise LookupError("the unit fails at the end")
    async with backend.transaction(readonly=True) as store:
        assert await store.codes.find(digest=code) is None
        assert await store.tokens.find_access(digest=access, now=NOW) is None
        assert await store.tokens.find_refresh(digest=refresh) is None
        kept = await store.tokens.find_refresh(digest=kept_refresh)
        assert kept is not None and not kept.grant_revoked
        assert await store.events.recent(user_id=user.id) == []


async def test_what_a_unit_wrote_is_there_for_the_next(backend: Backend) -> None:
    user, client = await user_and_client(backend)
    access = access_digest()
    async with backend.transaction() as store:
        grant_id = await store.grants.create(user_id=user.id, client_pk=client.pk, scope="maps",
                                             now=NOW)
        await store.tokens.create_access(digest=access, grant_id=grant_id, client_pk=client.pk,
                                         user_id=user.id, scope="maps", now=NOW,
                                         expires_at=NOW + 60)
        await store.events.append(kind="token.issued", now=NOW, user_id=user.id)
    async with backend.transaction(readonly=True) as store:
        principal = await store.tokens.find_access(digest=access, now=NOW)
        events = await store.events.recent(user_id=user.id)
    assert principal is not None and principal.grant_id == grant_id
    assert [e.kind for e in events] == ["token.issued"]


async def test_events_are_read_a_page_at_a_time(backend: Backend) -> None:
    user, _client = await user_and_client(backend)
    async with backend.transaction() as store:
        for n in range(5):
            await store.events.append(kind="signin.success", now=NOW + n, user_id=user.id)
    async with backend.transaction(readonly=True) as store:
        first = await store.events.recent(user_id=user.id, limit=2)
        second = await store.events.recent(user_id=user.id, limit=2, before=first[-1].id)
        last = await store.events.recent(user_id=user.id, limit=2, before=second[-1].id)
        none = await store.events.recent(user_id=user.id, limit=2, before=last[-1].id)
    assert [e.at for e in first + second + last] == [NOW + 4, NOW + 3, NOW + 2, NOW + 1, NOW]
    assert none == []
