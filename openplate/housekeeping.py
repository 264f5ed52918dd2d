"""Housekeeping: `openplate purge` and the periodic in-process task share this one routine."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from functools import partial

from openplate.settings import Settings
from openplate.store.prepared import DbConnection
from openplate.store.purge_repo import (
    Retention,
    clear_stale_notices,
    purge_batch,
    reclaim_space,
    rules,
)
from openplate.store.unit import Database

log = logging.getLogger("openplate.housekeeping")
DEFAULT_RETENTION = Retention()


def retention_of(settings: Settings) -> Retention:
    return Retention(
        routine_events=settings.security_log_routine_retention,
        security_events=settings.security_log_retention,
        rotated_refresh=max(settings.refresh_reuse_window, settings.refresh_grace),
        sent_mail=settings.mail_retention,
        unused_open_registration=settings.registration_unused_retention,
    )


async def purge(db: Database, *, batch: int = 1000, now: int | None = None,
                retention: Retention = DEFAULT_RETENTION, reclaim: bool = True) -> dict[str, int]:
    """Delete everything expired and blank one-time notices never shown in time, each batch its
    own short transaction; then give the space back (``reclaim``). Returns the rows deleted per
    table, and the notices blanked."""
    moment = int(time.time()) if now is None else now
    counts: dict[str, int] = {}
    for rule in rules(moment, retention):
        total = await _in_batches(db, partial(purge_batch, rule=rule, batch=batch), batch)
        counts[rule.name] = counts.get(rule.name, 0) + total
    if reclaim and any(counts.values()):
        freed = await reclaim_space(db, {name for name, count in counts.items() if count})
        if freed is None:
            log.info("the SQLite file keeps the space of deleted rows: run `openplate purge` "
                     "once to turn on incremental vacuum (it rewrites the file)")
    counts["notices"] = await _in_batches(
        db, lambda conn: clear_stale_notices(conn, now=moment, batch=batch), batch)
    return counts


async def _in_batches(
    db: Database, step: Callable[[DbConnection], Awaitable[int]], batch: int
) -> int:
    """Run ``step`` (which handles at most ``batch`` rows) until it handles fewer; the total."""
    total = 0
    while True:
        async with db.transaction() as store:
            done = await step(store.conn)
        total += done
        if done < batch:
            return total
        await asyncio.sleep(0)  # let requests in between batches


async def purge_forever(db: Database, *, interval: int, batch: int,
                        retention: Retention = DEFAULT_RETENTION) -> None:
    """Purge every ``interval`` seconds (with jitter, so several nodes spread out)."""
    await asyncio.sleep(random.uniform(0.1, 1.0) * min(interval, 60))  # noqa: S311 - jitter only
    while True:
        try:
            counts = await purge(db, batch=batch, retention=retention)
            if any(counts.values()):
                log.info("purged expired rows", extra={"fields": {"purged": counts}})
        except Exception:  # noqa: BLE001 - try again next time; the server keeps serving
            log.warning("purge failed", exc_info=True)
        await asyncio.sleep(interval)
