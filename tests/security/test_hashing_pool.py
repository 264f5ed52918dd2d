"""The argon2id pool is shared fairly: a flood of sign-ups queues at its own gate, and a sign-in
waits behind at most the gate's width of sign-up hashes, not behind the whole flood. The jobs
here are stand-ins that record their order; the first holds its slot until the test lets go."""

from __future__ import annotations

import asyncio
import threading

from openplate.accounts.service import HashingPool
from tests.support.waiting import PATIENCE, within


def _run_order(pool: HashingPool, signups: int) -> list[str]:
    async def main() -> list[str]:
        order: list[str] = []
        started, release = threading.Event(), threading.Event()

        def first() -> None:
            order.append("signup0")
            started.set()
            release.wait(PATIENCE)

        def job(name: str) -> None:
            order.append(name)

        holding = asyncio.create_task(pool.run_signup(first))
        assert await asyncio.to_thread(started.wait, PATIENCE), (
            "gave up waiting for the first sign-up to start in the pool")  # it holds its slot
        flood = [asyncio.create_task(pool.run_signup(job, f"signup{i}")) for i in range(1, signups)]
        signin = asyncio.create_task(pool.run(job, "signin"))
        await asyncio.sleep(0)  # every task has queued
        release.set()
        await asyncio.gather(holding, signin, *flood)
        return order

    return asyncio.run(main())


def test_a_sign_in_is_not_queued_behind_a_flood_of_sign_ups() -> None:
    """One slot (one core): the sign-in runs right after the sign-up that holds the slot."""
    order = _run_order(HashingPool(slots=1), signups=20)
    assert order.index("signin") == 1, order


def test_sign_ups_never_take_every_slot() -> None:
    """Two slots: while sign-ups hold their one, the sign-in gets the other at once."""
    async def main() -> bool:
        pool = HashingPool(slots=2)
        assert pool.signup_slots == 1
        started, release = threading.Event(), threading.Event()

        def hold() -> None:
            started.set()
            release.wait(PATIENCE)

        flood = [asyncio.create_task(pool.run_signup(hold)) for _ in range(10)]
        assert await asyncio.to_thread(started.wait, PATIENCE), (
            "gave up waiting for a sign-up to start in the pool")
        try:
            # Runs while the sign-up flood is stuck: it must not wait for any of it.
            return await within(pool.run(lambda: True),
                                "the sign-in's hash, while sign-ups hold their slot")
        finally:
            release.set()
            await asyncio.gather(*flood)

    assert asyncio.run(main()) is True
