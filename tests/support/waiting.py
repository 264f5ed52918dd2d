"""Waiting for a condition, never for a time.

A test that needs something to have happened (a server answering, a node noticing a change, a
line in a log, a process gone) waits for exactly that, looking again every ``POLL`` seconds;
the poll only paces the looking, it is never what the test relies on. The deadline is generous
(``PATIENCE``): what is awaited comes at once on an idle machine, and the suite must pass on a
2-core machine running another suite beside it. When the deadline runs out, or what was awaited
can no longer come (the process exited), the wait fails with its own message: what it waited
for, what it saw last, and the tail of the log that explains it.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

#: Seconds to wait for something that comes at once on an idle machine.
PATIENCE = 60.0
#: Seconds between two looks at the condition.
POLL = 0.05
#: Lines of a log shown when a wait fails.
TAIL_LINES = 60


class NeverHappened(AssertionError):
    """What a wait was for did not happen before its deadline, or can no longer happen."""


def tail(text: str, lines: int = TAIL_LINES) -> str:
    """The last ``lines`` lines of ``text``."""
    return "\n".join(text.splitlines()[-lines:])


def exited(process: subprocess.Popen[bytes] | subprocess.Popen[str]) -> Callable[[], str | None]:
    """For ``gone=``: why waiting on ``process`` is pointless (it exited), or None."""
    def why() -> str | None:
        code = process.poll()
        return None if code is None else f"the process exited (status {code})"
    return why


def _failure(what: str, reason: str, last: str | None, log: Callable[[], str] | None) -> NeverHappened:
    message = f"{reason} waiting for {what}"
    if last:
        message += f"\nlast seen: {last}"
    if log is not None:
        try:
            text = log()
        except OSError as error:
            text = f"(the log could not be read: {error})"
        message += f"\n--- last {TAIL_LINES} lines of the log ---\n{tail(text)}"
    return NeverHappened(message)


class _Looker:
    """One wait's bookkeeping, shared by the blocking and the asyncio forms."""

    def __init__(self, what: str, patience: float, log: Callable[[], str] | None,
                 gone: Callable[[], str | None] | None, seen: Callable[[], object] | None) -> None:
        self.what, self.patience, self.log, self.gone, self.seen = what, patience, log, gone, seen
        self.deadline = time.monotonic() + patience
        self.last: str | None = None

    def missed(self) -> None:
        """After a look that found nothing: fail if waiting on is pointless or too long."""
        if self.seen is not None:
            try:
                self.last = repr(self.seen())
            except Exception as error:  # noqa: BLE001 - only describes the failure
                self.last = f"{type(error).__name__}: {error}"
        reason = self.gone() if self.gone is not None else None
        if reason is not None:
            raise _failure(self.what, reason + " while", self.last, self.log)
        if time.monotonic() >= self.deadline:
            raise _failure(self.what, f"gave up after {self.patience:g} s", self.last, self.log)


def wait_until(condition: Callable[[], T], what: str, *, patience: float = PATIENCE,
               poll: float = POLL, log: Callable[[], str] | None = None,
               gone: Callable[[], str | None] | None = None,
               seen: Callable[[], object] | None = None,
               ignore: tuple[type[Exception], ...] = ()) -> T:
    """The first true value of ``condition()``, looked at every ``poll`` seconds.

    ``what`` says what is awaited, as the end of "gave up after 60 s waiting for ...".
    ``log`` gives the text whose tail a failure shows; ``gone`` says why the wait is pointless
    (``exited(process)``) and ends it at once; ``seen`` describes the state last seen; an
    exception of ``ignore`` raised by ``condition`` means "not yet" (the last one is shown).
    """
    looker = _Looker(what, patience, log, gone, seen)
    while True:
        try:
            value = condition()
        except ignore as error:
            looker.last = f"{type(error).__name__}: {error}"
        else:
            if value:
                return value
        looker.missed()
        time.sleep(poll)


async def wait_until_async(condition: Callable[[], Awaitable[T]], what: str, *,
                           patience: float = PATIENCE, poll: float = POLL,
                           log: Callable[[], str] | None = None,
                           gone: Callable[[], str | None] | None = None,
                           seen: Callable[[], object] | None = None,
                           ignore: tuple[type[Exception], ...] = ()) -> T:
    """``wait_until`` for a condition that is awaited (a query, say), inside an event loop."""
    looker = _Looker(what, patience, log, gone, seen)
    while True:
        try:
            value = await condition()
        except ignore as error:
            looker.last = f"{type(error).__name__}: {error}"
        else:
            if value:
                return value
        looker.missed()
        await asyncio.sleep(poll)


def wait_for_exit(process: subprocess.Popen[bytes] | subprocess.Popen[str], what: str, *,
                  patience: float = PATIENCE, log: Callable[[], str] | None = None) -> int:
    """``process``'s exit status, once it has exited; ``what`` names the process."""
    try:
        return process.wait(timeout=patience)
    except subprocess.TimeoutExpired:
        raise _failure(f"{what} to exit", f"gave up after {patience:g} s", None, log) from None


async def within(awaitable: Awaitable[T], what: str, *, patience: float = PATIENCE) -> T:
    """The result of ``awaitable``, which must come within ``patience`` seconds: a safety net
    for a test that would otherwise hang for good if the code under test never wakes it."""
    limit = asyncio.timeout(patience)
    try:
        async with limit:
            return await awaitable
    except TimeoutError:
        if not limit.expired():
            raise  # the awaitable's own TimeoutError, not this safety net's
        raise _failure(what, f"gave up after {patience:g} s", None, None) from None
