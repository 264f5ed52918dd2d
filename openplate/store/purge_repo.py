"""Deleting what has expired, in bounded batches, and giving the space back, so that nothing grows
without bound."""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import (
    ColumnElement,
    Engine,
    Table,
    delete,
    exists,
    func,
    or_,
    select,
    tuple_,
    update,
)

from openplate.store.engine import InlineConnection
from openplate.store.prepared import DbConnection, sqlite_error
from openplate.store.security_log import ROUTINE_KINDS
from openplate.store.tables import (
    access_tokens,
    auth_requests,
    authorization_codes,
    backchannel_logouts,
    clients,
    device_codes,
    dpop_proofs,
    email_verifications,
    grants,
    mail_outbox,
    map_views,
    password_resets,
    pushed_requests,
    refresh_tokens,
    second_factor_waits,
    security_events,
    security_log_purge,
    sessions,
    throttle,
    webauthn_challenges,
)
from openplate.store.unit import Database

DAY = 86_400
#: Free pages handed back per unit of work on SQLite (about 5 ms of the event loop each).
VACUUM_PAGES = 64
#: PostgreSQL's VACUUM of one table may take long on a big one; it runs outside any request.
VACUUM_TIMEOUT = 3600.0


@dataclass(frozen=True, slots=True)
class Retention:
    """How long what the purge removes is kept (seconds; see Settings)."""

    routine_events: int = 30 * DAY
    security_events: int = 365 * DAY
    #: Rotated refresh tokens, from their rotation: a later presentation is then still
    #: recognised as reuse. At least the grace window (Settings checks it).
    rotated_refresh: int = 7 * DAY
    #: Sent mail, from its sending (its bodies were blanked then; see store/mail_repos.py).
    sent_mail: int = 7 * DAY
    #: Apps that registered themselves on an open server (RFC 7591) and have had no grant made
    #: or used for this long.
    unused_open_registration: int = 30 * DAY


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    table: Table
    condition: ColumnElement[bool]
    #: Rows are appended in time order: only ids below the first row at or after this time can
    #: match, which keeps the scan of a big table short (None: the whole table is looked at).
    created_before: int | None = None
    #: The security log's purge bound (see append_only.py); None for other tables.
    log_bound: int | None = None


def rules(now: int, retention: Retention) -> list[Rule]:
    """What may go, table by table. A rotated refresh token stays ``rotated_refresh`` seconds
    after its rotation, so that a reuse is still recognised (and ends the grant) meanwhile; the
    security log keeps routine events ``routine_events`` seconds and the others longer."""
    rotated = now - retention.rotated_refresh
    unused = now - retention.unused_open_registration
    routine = now - retention.routine_events
    others = now - retention.security_events
    return [
        Rule("authorization_codes", authorization_codes,
             authorization_codes.c.expires_at < now - 3600),
        # RFC 8628: kept an hour past expiry, so a late poll is still told expired_token.
        Rule("device_codes", device_codes, device_codes.c.expires_at < now - 3600),
        Rule("access_tokens", access_tokens,
             or_(access_tokens.c.expires_at < now, access_tokens.c.revoked_at < now - 60)),
        Rule("refresh_tokens", refresh_tokens,
             or_(refresh_tokens.c.expires_at < now, refresh_tokens.c.revoked_at < now - 60)),
        Rule("refresh_tokens", refresh_tokens, refresh_tokens.c.used_at < rotated,
             created_before=rotated),
        Rule("sessions", sessions, sessions.c.expires_at < now),
        Rule("dpop_proofs", dpop_proofs, dpop_proofs.c.expires_at < now),
        Rule("auth_requests", auth_requests, auth_requests.c.expires_at < now),
        # A pushed request, used or not, is worth nothing once expired (RFC 9126 §4).
        Rule("pushed_requests", pushed_requests, pushed_requests.c.expires_at < now),
        Rule("second_factor_waits", second_factor_waits, second_factor_waits.c.expires_at < now),
        Rule("webauthn_challenges", webauthn_challenges, webauthn_challenges.c.expires_at < now),
        Rule("grants", grants, or_(
            grants.c.revoked_at < now - DAY,
            (grants.c.created_at < now - DAY)
            & ~exists().where(access_tokens.c.grant_id == grants.c.id)
            & ~exists().where(refresh_tokens.c.grant_id == grants.c.id)
            & ~exists().where(authorization_codes.c.grant_id == grants.c.id),
        )),
        Rule("clients", clients, clients.c.registration.in_(("open", "metadata"))
             & (clients.c.created_at < unused)
             & ~exists().where(grants.c.client_pk == clients.c.id,
                               or_(grants.c.created_at >= unused,
                                   grants.c.last_used_at >= unused))),
        Rule("throttle", throttle, throttle.c.window_start < now - DAY),
        # A view counts once per viewer and day: the rows of days before yesterday decide
        # nothing any more (the counts stay in maps.view_count).
        Rule("map_views", map_views, map_views.c.day < now // DAY - 1),
        Rule("mail_outbox", mail_outbox, mail_outbox.c.sent_at < now - retention.sent_mail),
        # Logout tokens delivered or given up: kept as long as sent mail, then gone.
        Rule("backchannel_logouts", backchannel_logouts, or_(
            backchannel_logouts.c.delivered_at < now - retention.sent_mail,
            backchannel_logouts.c.gave_up_at < now - retention.sent_mail)),
        Rule("password_resets", password_resets, password_resets.c.expires_at < now),
        Rule("email_verifications", email_verifications, email_verifications.c.expires_at < now),
        Rule("security_events", security_events,
             security_events.c.kind.in_(ROUTINE_KINDS) & (security_events.c.at < routine),
             created_before=routine, log_bound=routine),
        Rule("security_events", security_events,
             security_events.c.kind.not_in(ROUTINE_KINDS) & (security_events.c.at < others),
             created_before=others, log_bound=others),
    ]


async def purge_batch(conn: DbConnection, rule: Rule, batch: int) -> int:
    """Delete at most ``batch`` rows matching ``rule``; return how many."""
    table = rule.table
    condition = rule.condition
    if table is map_views:  # no id: its rows are named by their whole key
        columns = (map_views.c.map_id, map_views.c.viewer, map_views.c.day)
        result = await conn.execute(delete(map_views).where(tuple_(*columns).in_(
            select(*columns).where(condition).limit(batch))))
        return int(result.rowcount or 0)
    key = (table.c.key if table is throttle else table.c.digest if table is dpop_proofs
           else table.c.id)
    if rule.created_before is not None:
        bound = await _first_id_from(conn, table, rule.created_before)
        if bound is not None:
            condition = condition & (key < bound)
    chosen = select(key).where(condition).limit(batch).scalar_subquery()
    if rule.log_bound is not None:
        # The one way past the security log's append-only trigger, for this transaction only.
        await conn.execute(security_log_purge.insert().values(id=1, delete_before=rule.log_bound))
    result = await conn.execute(delete(table).where(key.in_(chosen)))
    if rule.log_bound is not None:
        await conn.execute(delete(security_log_purge))
    return int(result.rowcount or 0)


async def _first_id_from(conn: DbConnection, table: Table, moment: int) -> int | None:
    """An id below which every row was created before ``moment`` and from which every row was
    created at or after it (None: the table is empty). Rows are appended in time order (a few
    out of order only wait for the next purge), so bisecting the primary key finds it in a few
    dozen lookups, with no index on the time column for every insert to maintain."""
    column = table.c.at if table is security_events else table.c.created_at
    bounds = (await conn.execute(select(func.min(table.c.id), func.max(table.c.id)))).first()
    if bounds is None or bounds[0] is None:
        return None
    low, high = int(bounds[0]), int(bounds[1]) + 1  # rows below low: before; from high: after
    while low < high:
        middle = (low + high) // 2  # at most the largest id: the lookup finds a row
        row = (await conn.execute(select(table.c.id, column).where(table.c.id >= middle)
                                  .order_by(table.c.id).limit(1))).first()
        if row[1] >= moment:
            high = middle
        else:
            low = int(row[0]) + 1
    return low


async def reclaim_space(db: Database, tables: set[str], *, pages: int = VACUUM_PAGES) -> int | None:
    """Give the space of deleted rows back. SQLite: free pages are handed back to the file system
    (incremental vacuum, ``pages`` per unit of work; the file shrinks at the next checkpoint);
    returns how many, or None when the file was created without incremental vacuum (see
    ``enable_incremental_vacuum``). PostgreSQL: ``VACUUM (ANALYZE)`` of ``tables`` (their space
    is reused, and empty pages at the end are given back); returns 0."""
    if isinstance(db.engine, Engine):
        freed = 0
        while True:
            async with db.transaction() as store:
                step = _incremental_vacuum(store.conn, pages)
            if step is None:
                return None
            freed += step
            if step < pages:
                return freed
            await asyncio.sleep(0)  # let requests in between steps
    async with db.engine.connect() as conn:
        driver = (await conn.get_raw_connection()).driver_connection
        assert driver is not None
        for table in sorted(tables):  # names from rules(): never from a request
            await driver.execute(f'VACUUM (ANALYZE) "{table}"', timeout=VACUUM_TIMEOUT)
    return 0


def _incremental_vacuum(conn: DbConnection, pages: int) -> int | None:
    assert isinstance(conn, InlineConnection)
    raw = conn.driver
    statement = "PRAGMA incremental_vacuum(1)"
    try:
        if raw.execute("PRAGMA auto_vacuum").fetchone()[0] != 2:  # 2: INCREMENTAL
            return None
        free = int(raw.execute("PRAGMA freelist_count").fetchone()[0])
        # One page per statement: each of SQLite's steps of the pragma frees one, and the
        # sqlite3 module steps a statement without result columns only once.
        for _ in range(min(free, pages)):
            raw.execute(statement)
    except sqlite3.Error as error:
        raise sqlite_error(statement, (), error) from error
    return min(free, pages)


def enable_incremental_vacuum(path: Path) -> bool:
    """Turn on incremental vacuum for a SQLite file created without it (before this release):
    a one-time ``VACUUM`` that rewrites the whole file (it needs that much free disk space and
    holds the write lock meanwhile). Returns whether it ran. New files have it from the start
    (engine.py)."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=60)
    try:
        if conn.execute("PRAGMA auto_vacuum").fetchone()[0] == 2:
            return False
        conn.execute("PRAGMA auto_vacuum=INCREMENTAL")
        conn.execute("VACUUM")
        return True
    finally:
        conn.close()


async def clear_stale_notices(conn: DbConnection, *, now: int, batch: int) -> int:
    """Blank at most ``batch`` one-time notices that were never shown in time; return how many.
    A notice may hold a client secret (sealed), kept only until shown or briefly."""
    chosen = (select(sessions.c.id).where(sessions.c.flash_expires_at < now).limit(batch)
              .scalar_subquery())
    result = await conn.execute(
        update(sessions).where(sessions.c.id.in_(chosen)).values(flash=None, flash_expires_at=None))
    return int(result.rowcount or 0)
