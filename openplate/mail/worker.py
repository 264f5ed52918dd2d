"""The mail worker: runs in each server process, sends what is due, and tries again later what
could not be sent, never dropping a message.

Retries: the first failed attempt is tried again after ``FIRST_RETRY`` seconds (within a
minute), then after twice as long each time, up to ``MAX_RETRY`` between attempts, for as long
as it takes. Several processes (and nodes) may run a worker on one database: each message is
claimed by one of them at a time (see ``SqlOutbox.claim``), so none is sent twice by two workers.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from openplate.mail.compose import mime_message
from openplate.mail.transport import SendFailed, Transport
from openplate.store.unit import Database

log = logging.getLogger("openplate.mail")

FIRST_RETRY = 30
MAX_RETRY = 3600
#: How long a worker holds a message it claimed: well past the SMTP time limits of one send.
LEASE = 900
BATCH = 20


def retry_delay(attempts: int) -> int:
    """Seconds before the next attempt, after ``attempts`` failed ones (1, 2, ...)."""
    doublings: int = min(max(attempts - 1, 0), 20)
    return min(FIRST_RETRY << doublings, MAX_RETRY)


class MailWorker:
    def __init__(self, db: Database, transport: Transport, *, sender: str, base_url: str,
                 poll_interval: float, clock: Callable[[], int] = lambda: int(time.time())) -> None:
        self.db = db
        self.transport = transport
        self.sender = sender
        self.domain = urlsplit(base_url).hostname or "localhost"
        self.poll_interval = poll_interval
        self.clock = clock
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Look for due mail now (called once a unit of work that queued mail has committed)."""
        self._wake.set()

    async def send_due(self) -> int:
        """Send every message due now, batch by batch; how many went out."""
        sent = 0
        while True:
            async with self.db.transaction(readonly=True) as store:
                if not await store.outbox.any_due(now=self.clock()):
                    return sent
            async with self.db.transaction() as store:
                claimed = await store.outbox.claim(now=self.clock(), lease=LEASE, limit=BATCH)
            for message in claimed:
                mime = mime_message(message, sender=self.sender, domain=self.domain)
                try:
                    await self.transport.send(mime, message_id=message.id)
                except SendFailed as error:
                    delay = retry_delay(message.attempts)
                    log.warning("mail not sent; trying again in %d s: %s", delay, error,
                                extra={"fields": {"mail_id": message.id}})
                    async with self.db.transaction() as store:
                        await store.outbox.failed(message_id=message.id, error=str(error),
                                                  retry_at=self.clock() + delay)
                    continue
                async with self.db.transaction() as store:
                    await store.outbox.sent(message_id=message.id, now=self.clock())
                sent += 1
            if len(claimed) < BATCH:
                return sent

    async def run_forever(self) -> None:
        log.info("mail goes to %s", self.transport.describe())
        while True:
            self._wake.clear()
            try:
                await self.send_due()
            except Exception:  # noqa: BLE001 - the database may be away; try again next time
                log.warning("the mail worker could not read the queue", exc_info=True)
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_interval)
            except TimeoutError:
                pass
