"""What only the in-memory store has to say (the rest of this folder holds for all three stores):
one-call seeding, units that refuse to nest or to outlive their block, use from several loops."""

from __future__ import annotations

import asyncio

import pytest

from openplate.oauth.models import Client, UserProfile
from openplate.store.memory import MemoryDatabase

BOB = UserProfile(7, "bob", "bob@example.org", 100)
APP = Client(pk=3, client_id="opc_seeded", name="Seeded", owner_id=7,
             redirect_uris=("https://app.example/cb",), secret_digest=None)


def test_seeded_in_one_call_and_new_ids_follow_the_seeded_ones() -> None:
    db = MemoryDatabase(users=[BOB], clients=[APP])
    carol = db.add_user("carol")
    other = db.add_client(owner_id=carol.id, secret="opcs_s")

    async def main() -> None:
        async with db.transaction(readonly=True) as store:
            assert await store.users.profile(7) == BOB
            assert await store.clients.by_client_id("opc_seeded") == APP
            assert await store.users.profile(carol.id) == carol
            assert await store.clients.by_client_id(other.client_id) == other

    asyncio.run(main())
    assert carol.id == 8 and carol.email == "carol@example.org" and other.pk == 4
    assert other.secret_digest == db.digester.digest("opcs_s") and not other.is_public


def test_units_serve_one_event_loop_after_another() -> None:
    db = MemoryDatabase(users=[BOB], clients=[APP])

    async def grant() -> int:
        async with db.transaction() as store:
            return await store.grants.create(user_id=7, client_pk=3, scope="maps", now=1)

    async def both_at_once() -> list[int]:
        return list(await asyncio.gather(grant(), grant()))

    assert asyncio.run(grant()) == 1
    assert asyncio.run(both_at_once()) == [2, 3]


def test_a_unit_inside_a_unit_of_the_same_task_is_refused_not_a_deadlock() -> None:
    db = MemoryDatabase()

    async def main() -> None:
        async with db.transaction():
            # A guard, not a measurement: were the unit to wait for itself, fail, not hang.
            with pytest.raises(RuntimeError, match="do not nest"):
                async with asyncio.timeout(30), db.transaction():
                    pass
        async with db.transaction():  # the outer one ended cleanly
            pass

    asyncio.run(main())


def test_a_store_kept_after_its_unit_ended_is_refused() -> None:
    db = MemoryDatabase(users=[BOB], clients=[APP])

    async def main() -> None:
        async with db.transaction() as store:
            pass
        with pytest.raises(RuntimeError, match="has ended"):
            await store.grants.create(user_id=7, client_pk=3, scope="maps", now=1)
        with pytest.raises(RuntimeError, match="has ended"):
            await store.clients.by_client_id("opc_seeded")

    asyncio.run(main())
