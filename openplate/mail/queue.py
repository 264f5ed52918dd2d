"""Queueing mail inside the unit of work that causes it: the message exists if and only if what
caused it was committed."""

from __future__ import annotations

from typing import Protocol

from openplate.mail.letters import Letter
from openplate.store.mail_repos import SqlOutbox


class HasOutbox(Protocol):
    @property
    def outbox(self) -> SqlOutbox: ...


async def send_later(store: HasOutbox, letter: Letter, *, now: int) -> int:
    """Queue ``letter`` in ``store``'s unit of work; its id. The worker sends it once the unit
    commits (call the worker's ``wake`` after the ``async with`` block to send it at once)."""
    return await store.outbox.queue(kind=letter.kind, recipient=letter.recipient,
                                    subject=letter.subject, text_body=letter.text,
                                    html_body=letter.html, now=now)
