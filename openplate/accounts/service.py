"""Accounts: sign-up and sign-in steps, framework-free (the web layer and the CLI both call these).

Password hashing runs in a worker thread and never inside a database transaction: an argon2id
hash takes tens of milliseconds, and a write transaction held that long would stall every writer.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from openplate.accounts.passwords import hash_password, verify_password
from openplate.accounts.validation import check_email, check_password, check_username
from openplate.store.account_repos import UserRecord

T = TypeVar("T")


class HashingPool:
    """argon2id work in worker threads, shared fairly between sign-in and sign-up.

    argon2id is CPU-bound: more hashes at once than usable cores only crowd out the event loop
    (asyncio's default pool sizes itself from all CPUs, even when the process is pinned to one),
    so at most ``slots`` run at once and the rest wait in turn. Sign-up hashing first passes a
    gate of its own, ``signup_slots`` wide (half the slots, at least one): however many sign-ups
    arrive, at most that many of them hold or wait for a slot, so a sign-in (or a password check)
    waits behind at most that many sign-up hashes, never behind the whole flood. The flood
    queues at its own gate.
    """

    def __init__(self, slots: int, signup_slots: int | None = None) -> None:
        self.slots = max(1, slots)
        self.signup_slots = max(1, signup_slots if signup_slots is not None else self.slots // 2)
        self._shared = asyncio.Semaphore(self.slots)
        self._signups = asyncio.Semaphore(self.signup_slots)

    async def run(self, function: Callable[..., T], *args: object) -> T:
        """A hash or a check for a sign-in, a password change or the command line."""
        async with self._shared:
            return await asyncio.to_thread(function, *args)

    async def run_signup(self, function: Callable[..., T], *args: object) -> T:
        """A hash for a new account: through the sign-up gate first."""
        async with self._signups:
            return await self.run(function, *args)


_pool: HashingPool | None = None


def hashing_pool() -> HashingPool:
    """This process's pool, one slot per usable core (made on first use)."""
    global _pool
    if _pool is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
        _pool = HashingPool(cores)
    return _pool


async def run_hash(function: Callable[..., T], *args: object) -> T:
    """Run an argon2 hash or check in a worker thread, at most one per usable core at once."""
    return await hashing_pool().run(function, *args)


@dataclass(frozen=True, slots=True)
class AccountInput:
    """Sign-up input that passed the rules; the password not hashed yet."""

    username: str
    email: str
    password: str

    def __repr__(self) -> str:  # never the password
        return f"AccountInput(username={self.username!r}, email={self.email!r})"


@dataclass(frozen=True, slots=True)
class NewAccount:
    username: str
    email: str
    password_hash: str


def check_account(*, username: str, email: str, password: str) -> AccountInput:
    """Validate sign-up input without hashing; raises InvalidAccountInput."""
    username = check_username(username.strip())
    email = check_email(email)
    check_password(password)
    return AccountInput(username, email, password)


async def hash_account(account: AccountInput) -> NewAccount:
    """Hash a checked account's password (through the sign-up gate of the hashing pool)."""
    password_hash = await hashing_pool().run_signup(hash_password, account.password)
    return NewAccount(account.username, account.email, password_hash)


async def prepare_account(*, username: str, email: str, password: str) -> NewAccount:
    """Validate sign-up input and hash the password; raises InvalidAccountInput."""
    return await hash_account(check_account(username=username, email=email, password=password))


async def password_matches(user: UserRecord | None, password: str) -> bool:
    """True if ``password`` is the user's. An unknown user (None) costs the same hash, then no."""
    stored = user.password_hash if user is not None else None
    return bool(await run_hash(verify_password, password, stored))
