"""Brute-force throttling: attempts counted per key in fixed windows, framework- and storage-free.

The one primitive is ``Counters.take``: count one attempt on every key *if* each is below its
limit, atomically (one statement or one Redis script per key set), and say so; a refusal counts
nothing. What is counted, and when, is the callers' policy (docs/security.md, "Throttling"):

- a password check (argon2id, expensive) takes its attempt *before* hashing, so a burst of
  parallel guesses reaches the hash at most ``limit`` times per key, and gives it back with
  ``give_back`` when the password was right;
- a failed client request (a wrong client secret or grant, an HMAC or a lookup: cheap) takes its
  attempt after the check and before its answer: a failure that cannot be counted is answered
  429, not with its error, so no more than ``limit`` wrong guesses per key are ever told apart
  from right ones, and requests that succeed write nothing.

Keys are digested before they are stored, so no login name or address rests in the counters.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol


@dataclass(frozen=True, slots=True)
class Limit:
    """At most ``attempts`` counted attempts per ``window`` seconds for one key."""

    attempts: int
    window: int


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    signin_per_account: Limit = Limit(attempts=10, window=900)
    signin_per_ip: Limit = Limit(attempts=30, window=300)
    token_per_client: Limit = Limit(attempts=60, window=60)
    token_per_ip: Limit = Limit(attempts=120, window=60)
    signup_per_ip: Limit = Limit(attempts=20, window=3600)
    #: Second-factor codes (TOTP or recovery) per account, wherever they are typed.
    second_factor_per_account: Limit = Limit(attempts=10, window=900)
    #: Mails of one-time links (password reset, e-mail verification) per account name typed or
    #: account, and per address, per hour: each one sends a message to someone's mailbox.
    link_mail_per_account: Limit = Limit(attempts=3, window=3600)
    link_mail_per_ip: Limit = Limit(attempts=20, window=3600)
    #: User codes typed on /device (RFC 8628 §5.1), per signed-in user and per address.
    device_code_per_user: Limit = Limit(attempts=10, window=900)
    device_code_per_ip: Limit = Limit(attempts=30, window=300)

    @classmethod
    def of(
        cls, *, signin_account: int, signin_ip: int, token_client: int, token_ip: int,
        signup_ip: int = 20, link_mail_account: int = 3, link_mail_ip: int = 20,
        device_code_user: int = 10, device_code_ip: int = 30,
    ) -> ThrottlePolicy:
        """The default windows with the given counts."""
        return cls(
            signin_per_account=Limit(signin_account, 900),
            signin_per_ip=Limit(signin_ip, 300),
            token_per_client=Limit(token_client, 60),
            token_per_ip=Limit(token_ip, 60),
            signup_per_ip=Limit(signup_ip, 3600),
            link_mail_per_account=Limit(link_mail_account, 3600),
            link_mail_per_ip=Limit(link_mail_ip, 3600),
            device_code_per_user=Limit(device_code_user, 900),
            device_code_per_ip=Limit(device_code_ip, 300),
        )

    @property
    def signin_per_device(self) -> Limit:
        """A known device's own budget for the account it signed in to (as large as the
        account's budget for every other device together)."""
        return self.signin_per_account


class Counted(NamedTuple):
    """One attempt counted on one key: the key as stored (its digest), the start of the window
    it was counted in, and the key's limit."""

    key: str
    window_start: int
    limit: int


@dataclass(frozen=True, slots=True)
class Taken:
    """The attempts one ``take`` counted, in the counters named by ``where``: what
    ``give_back`` returns."""

    where: str
    counted: tuple[Counted, ...]


@dataclass(frozen=True, slots=True)
class Refused:
    """A key was at its limit: nothing was counted; try again in ``retry_after`` seconds."""

    retry_after: int


class Counters(Protocol):
    """Where attempts are counted: the database by default, Redis when several nodes share it."""

    async def take(self, keys: Mapping[str, Limit], *, now: int) -> Taken | Refused:
        """One attempt on every key if each is below its limit (atomically), else nothing."""
        ...

    async def give_back(self, taken: Taken) -> None:
        """Uncount what ``take`` counted (in the same window; a window that ended is left)."""
        ...

    async def retry_after(self, keys: Mapping[str, Limit], *, now: int) -> int | None:
        """Seconds until every key is below its limit again, or None if none is at it."""
        ...


@dataclass
class RecentlyClear:
    """Keys found below their limits, taken as still below them for ``seconds``; per process.

    Only ``retry_after`` consults it (the client endpoints' check of an address before the
    request runs); ``take`` always goes to the counters. A key is forgotten the moment this
    process starts counting an attempt on it, and a read that was under way while a key was
    forgotten is not remembered (``generation``), so within one process a key at its limit is
    never taken as clear. A key that reached its limit through *other* processes or nodes is
    noticed here once its second is over, or at once after any attempt counted here.
    """

    seconds: float = 1.0
    limit: int = 10_000
    clock: Callable[[], float] = time.monotonic
    #: Bumped by every ``forget``: a read begun before a forget must not be remembered.
    generation: int = 0
    _until: dict[str, float] = field(default_factory=dict)

    def all_clear(self, keys: Mapping[str, Limit]) -> bool:
        moment = self.clock()
        return all(self._until.get(key, 0.0) > moment for key in keys)

    def remember(self, keys: Mapping[str, Limit], *, read_at: int) -> None:
        if read_at != self.generation:
            return
        if len(self._until) >= self.limit:
            self._until.clear()
        until = self.clock() + self.seconds
        for key in keys:
            self._until[key] = until

    def forget(self, keys: Mapping[str, Limit]) -> None:
        self.generation += 1
        for key in keys:
            self._until.pop(key, None)


class RememberingCounters:
    """``Counters`` whose ``retry_after`` skips reading keys a ``RecentlyClear`` vouches for."""

    def __init__(self, counters: Counters, clear: RecentlyClear) -> None:
        self._counters = counters
        self._clear = clear

    async def take(self, keys: Mapping[str, Limit], *, now: int) -> Taken | Refused:
        self._clear.forget(keys)
        return await self._counters.take(keys, now=now)

    async def give_back(self, taken: Taken) -> None:
        await self._counters.give_back(taken)

    async def retry_after(self, keys: Mapping[str, Limit], *, now: int) -> int | None:
        if self._clear.all_clear(keys):
            return None
        read_at = self._clear.generation
        wait = await self._counters.retry_after(keys, now=now)
        if wait is None:
            self._clear.remember(keys, read_at=read_at)
        return wait
