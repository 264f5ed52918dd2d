"""OpenID Connect Back-Channel Logout 1.0 §2.5: the worker that delivers logout tokens.

Runs in each server process like the mail worker: claims due rows of the outbox (one worker
at a time per row, whatever the number of nodes), POSTs each token as the ``logout_token`` form
field to the client's ``backchannel_logout_uri`` through openplate/net_guard.py (resolved,
checked, pinned; no redirects followed; the body never read; a short time limit), and counts a
200 or 204 as delivered (§2.8: "If the logout succeeded, the RP MUST respond with HTTP 200
OK"; 204 is accepted too). Anything else is tried again with backoff, and given up after
``OPENPLATE_BACKCHANNEL_LOGOUT_GIVE_UP`` seconds with a security-log event. A URL refused as
private is given up at once (and logged): trying it again would not change the answer.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from openplate.net_guard import AddressRefused, post_form, resolve
from openplate.oauth.oidc.keys import KeyRing
from openplate.oauth.oidc.logout_token import build_logout_token
from openplate.store.backchannel_repos import OwedLogout
from openplate.store.unit import Database

log = logging.getLogger("openplate.backchannel")

FIRST_RETRY = 2
MAX_RETRY = 300
BATCH = 20
DELIVERED = (200, 204)


def retry_delay(attempts: int) -> int:
    """Seconds before the next attempt after ``attempts`` failed ones: 2, 4, 8 ... 300."""
    return min(FIRST_RETRY << min(max(attempts - 1, 0), 16), MAX_RETRY)


class BackchannelWorker:
    def __init__(self, db: Database, *, ring: Callable[[], KeyRing | None], issuer: str,
                 allow_private: bool, timeout: float, give_up: int, poll_interval: float,
                 clock: Callable[[], int] = lambda: int(time.time()),
                 ca_file: Path | None = None) -> None:
        self.db = db
        self.ring = ring
        self.issuer = issuer
        self.allow_private = allow_private
        self.ca_file = ca_file
        self.timeout = timeout
        self.give_up = give_up
        self.poll_interval = poll_interval
        self.clock = clock
        self._wake = asyncio.Event()
        #: The earliest retry this worker scheduled: it looks again then, not a poll later.
        self._soonest: int | None = None

    def wake(self) -> None:
        """Look for due logout tokens now (after a unit of work that ended sessions committed)."""
        self._wake.set()

    async def _attempt(self, owed: OwedLogout, ring: KeyRing) -> tuple[bool, str | None]:
        """Deliver one token: (delivered, why not); ``why not`` starting "refused" is final."""
        if owed.uri is None:
            return False, "refused: the application no longer has a back-channel logout URI"
        token = build_logout_token(
            ring.for_alg(owed.id_token_alg) if owed.id_token_alg in ring.signing else ring,
            issuer=self.issuer, client_id=owed.client_id, subject=owed.subject, sid=owed.sid,
            jti=owed.jti, now=self.clock())
        try:
            target = await resolve(owed.uri, allow_private=self.allow_private)
        except AddressRefused as error:
            return False, f"refused: {error}"
        try:
            status = await post_form(target, {"logout_token": token}, time_limit=self.timeout,
                                     ca_file=self.ca_file)
        except httpx.HTTPError as error:
            return False, f"{type(error).__name__}"
        return (True, None) if status in DELIVERED else (False, f"HTTP {status}")

    async def deliver_due(self) -> int:
        """Deliver every logout token due now, batch by batch; how many were delivered."""
        delivered = 0
        while True:
            ring = self.ring()
            if ring is None:
                return delivered
            async with self.db.transaction(readonly=True) as store:
                if not await store.backchannel_logouts.any_due(now=self.clock()):
                    return delivered
            async with self.db.transaction() as store:
                claimed = await store.backchannel_logouts.claim(
                    now=self.clock(), lease=int(self.timeout * 2) + 30, limit=BATCH)
            results = await asyncio.gather(*(self._attempt(owed, ring) for owed in claimed))
            async with self.db.transaction() as store:
                for owed, (ok, error) in zip(claimed, results, strict=True):
                    now = self.clock()
                    if ok:
                        await store.backchannel_logouts.delivered(logout_id=owed.id, now=now)
                        delivered += 1
                        continue
                    assert error is not None
                    retry_at = now + retry_delay(owed.attempts)
                    if error.startswith("refused") or retry_at - owed.created_at > self.give_up:
                        await store.backchannel_logouts.give_up(logout_id=owed.id, error=error,
                                                                now=now)
                        await store.events.append(
                            kind="backchannel_logout.gave_up", now=now, client_id=owed.client_id,
                            user_id=int(owed.subject) if owed.subject.isdigit() else None,
                            detail={"sub": owed.subject, "attempts": owed.attempts,
                                    "error": error[:200]})
                        log.warning("back-channel logout to %s given up: %s", owed.client_id, error)
                    else:
                        await store.backchannel_logouts.failed(logout_id=owed.id, error=error,
                                                               retry_at=retry_at)
                        self._soonest = min(self._soonest or retry_at, retry_at)
            if len(claimed) < BATCH:
                return delivered

    async def run_forever(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self.deliver_due()
            except Exception:  # noqa: BLE001 - the database may be away; try again next time
                log.warning("the back-channel logout worker could not read its queue",
                            exc_info=True)
            wait = self.poll_interval
            if self._soonest is not None:
                wait = max(0.2, min(wait, self._soonest - self.clock() + 0.1))
                self._soonest = None
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=wait)
            except TimeoutError:
                pass
