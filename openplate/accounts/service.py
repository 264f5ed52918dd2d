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

# argon2id is CPU-bound: more hashes at once than usable cores only crowd out the event loop
# (asyncio's default pool sizes itself from all CPUs, even when the process is pinned to one).
T = TypeVar("T")
_HASH_SLOTS = max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)
_hashing: asyncio.Semaphore | None = None


async def run_hash(function: Callable[..., T], *args: object) -> T:
    """Run an argon2 hash or check in a worker thread, at most one per usable core at once."""
    global _hashing
    if _hashing is None:
        _hashing = asyncio.Semaphore(_HASH_SLOTS)
    async with _hashing:
        return await asyncio.to_thread(function, *args)


@dataclass(frozen=True, slots=True)
class NewAccount:
    username: str
    email: str
    password_hash: str


async def prepare_account(*, username: str, email: str, password: str) -> NewAccount:
    """Validate sign-up input and hash the password; raises InvalidAccountInput."""
    username = check_username(username.strip())
    email = check_email(email)
    check_password(password)
    return NewAccount(username, email, await run_hash(hash_password, password))


async def password_matches(user: UserRecord | None, password: str) -> bool:
    """True if ``password`` is the user's. An unknown user (None) costs the same hash, then no."""
    stored = user.password_hash if user is not None else None
    return bool(await run_hash(verify_password, password, stored))
