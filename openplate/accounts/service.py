"""Accounts: sign-up and sign-in steps, framework-free (the web layer and the CLI both call these).

Password hashing runs in a worker thread and never inside a database transaction: an argon2id
hash takes tens of milliseconds, and a write transaction held that long would stall every writer.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from openplate.accounts.passwords import hash_password, verify_password
from openplate.accounts.validation import check_email, check_password, check_username
from openplate.store.account_repos import UserRecord


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
    return NewAccount(username, email, await asyncio.to_thread(hash_password, password))


async def password_matches(user: UserRecord | None, password: str) -> bool:
    """True if ``password`` is the user's. An unknown user (None) costs the same hash, then no."""
    stored = user.password_hash if user is not None else None
    return await asyncio.to_thread(verify_password, password, stored)
