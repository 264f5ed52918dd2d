"""SQL repository for what an operator and account deletion need: listing and describing users
and applications, disabling and enabling them, ending their access, and deleting an account.

None of it is on a hot path; each call is a handful of small statements.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.sql.elements import ColumnElement

from openplate.store.account_repos import UserRecord, user_from_row
from openplate.store.backchannel_repos import SqlBackchannelLogouts
from openplate.store.client_cache import ClientCache
from openplate.store.prepared import DbConnection
from openplate.store.tables import (
    access_tokens,
    clients,
    consents,
    grants,
    maps,
    refresh_tokens,
    security_events,
    sessions,
    users,
)


@dataclass(frozen=True, slots=True)
class UserFacts:
    """What ``openplate user show`` says beyond the account row."""

    apps: int  # applications the user registered
    maps: int
    allowed_apps: int  # applications the user has allowed (remembered consents)
    active_grants: int  # grants with a live token
    sessions: int  # signed-in browsers
    last_signin: int | None  # from the security log, while it keeps the event


@dataclass(frozen=True, slots=True)
class AppRecord:
    pk: int
    client_id: str
    name: str
    owner_id: int | None
    owner: str | None  # the owner's username; None: it registered itself with no owner
    public: bool
    grant_types: tuple[str, ...]
    redirect_uris: tuple[str, ...]
    created_at: int
    disabled_at: int | None
    #: RFC 9126 §6: its authorisation requests must be pushed first.
    require_pushed_authorization_requests: bool = False
    #: How it registered itself (RFC 7591): "token" or "open"; None: a person or the operator.
    registration: str | None = None

    @property
    def disabled(self) -> bool:
        return self.disabled_at is not None


@dataclass(frozen=True, slots=True)
class AppFacts:
    allowed_by: int  # users who have allowed it (remembered consents)
    active_grants: int  # grants with a live token
    maps: int  # maps uploaded through it


@dataclass(frozen=True, slots=True)
class DeletionPreview:
    """Exactly what deleting an account removes, to list before asking."""

    app_names: tuple[str, ...]
    map_titles: tuple[str, ...]
    allowed_apps: int  # applications the user has allowed


def _like(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, its own wildcards taken literally."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _user_filter(search: str | None) -> ColumnElement[bool]:
    if not search:
        return and_(True)
    pattern = _like(search)
    return or_(users.c.username_key.like(pattern, escape="\\"),
               users.c.email_key.like(pattern, escape="\\"))


def _app_filter(search: str | None) -> ColumnElement[bool]:
    if not search:
        return and_(True)
    pattern = _like(search)
    return or_(func.lower(clients.c.name).like(pattern, escape="\\"),
               func.lower(clients.c.client_id).like(pattern, escape="\\"))


def _live_grant(now: int) -> ColumnElement[bool]:
    """An unrevoked grant that still has an unexpired, unrevoked token."""
    live_access = select(access_tokens.c.id).where(
        access_tokens.c.grant_id == grants.c.id, access_tokens.c.revoked_at.is_(None),
        access_tokens.c.expires_at > now).exists()
    live_refresh = select(refresh_tokens.c.id).where(
        refresh_tokens.c.grant_id == grants.c.id, refresh_tokens.c.revoked_at.is_(None),
        refresh_tokens.c.used_at.is_(None), refresh_tokens.c.expires_at > now).exists()
    return and_(grants.c.revoked_at.is_(None), or_(live_access, live_refresh))


def _app(row: Any) -> AppRecord:
    return AppRecord(
        pk=row.id, client_id=row.client_id, name=row.name, owner_id=row.owner_id,
        owner=row.owner, public=row.secret_digest is None,
        grant_types=tuple(row.grant_types.split()),
        redirect_uris=tuple(json.loads(row.redirect_uris)), created_at=row.created_at,
        disabled_at=row.disabled_at, registration=row.registration,
        require_pushed_authorization_requests=bool(row.require_pushed_authorization_requests),
    )


_APP_COLUMNS = (clients, users.c.username.label("owner"))


class SqlAdmin:
    def __init__(self, conn: DbConnection, cache: ClientCache) -> None:
        self._conn = conn
        self._cache = cache

    async def _count(self, query: Any) -> int:
        return int((await self._conn.execute(query)).scalar_one())

    # --- users ---------------------------------------------------------------------------------

    async def users_page(self, *, search: str | None, limit: int, offset: int) -> list[UserRecord]:
        """Users in the order they signed up, ``search`` matching username or e-mail."""
        rows = await self._conn.execute(
            select(users).where(_user_filter(search)).order_by(users.c.id)
            .limit(limit).offset(offset))
        return [user_from_row(row) for row in rows]

    async def count_users(self, *, search: str | None) -> int:
        return await self._count(select(func.count()).select_from(users)
                                 .where(_user_filter(search)))

    async def user_facts(self, *, user_id: int, now: int) -> UserFacts:
        signin = await self._conn.execute(
            select(func.max(security_events.c.at)).where(
                security_events.c.user_id == user_id,
                security_events.c.kind == "signin.success"))
        return UserFacts(
            apps=await self._count(select(func.count()).select_from(clients)
                                   .where(clients.c.owner_id == user_id)),
            maps=await self._count(select(func.count()).select_from(maps)
                                   .where(maps.c.owner_id == user_id)),
            allowed_apps=await self._count(select(func.count()).select_from(consents)
                                           .where(consents.c.user_id == user_id)),
            active_grants=await self._count(
                select(func.count()).select_from(grants)
                .where(grants.c.user_id == user_id, _live_grant(now))),
            sessions=await self._count(
                select(func.count()).select_from(sessions)
                .where(sessions.c.user_id == user_id, sessions.c.expires_at > now)),
            last_signin=signin.scalar_one(),
        )

    async def set_user_disabled(self, *, user_id: int, at: int | None) -> bool:
        """Disable (``at``) or enable (None) the account; False if it already was so."""
        state = users.c.disabled_at.is_(None) if at is not None else users.c.disabled_at.is_not(None)
        result = await self._conn.execute(
            update(users).where(users.c.id == user_id, state).values(disabled_at=at)
            .returning(users.c.id))
        return result.first() is not None

    async def end_user_access(self, *, user_id: int, now: int) -> None:
        """Revoke every grant the user gave (so every token of theirs ends) and sign out every
        browser of theirs. Remembered consents stay."""
        await self._conn.execute(
            update(grants).where(grants.c.user_id == user_id, grants.c.revoked_at.is_(None))
            .values(revoked_at=now))
        # Their applications hear that the sessions ended (Back-Channel Logout), as on sign-out.
        await SqlBackchannelLogouts(self._conn).queue_for_sessions(
            sessions.c.user_id == user_id, now=now)
        await self._conn.execute(delete(sessions).where(sessions.c.user_id == user_id))

    async def deletion_preview(self, *, user_id: int) -> DeletionPreview:
        apps = await self._conn.execute(
            select(clients.c.name).where(clients.c.owner_id == user_id).order_by(clients.c.id))
        titles = await self._conn.execute(
            select(maps.c.title).where(maps.c.owner_id == user_id).order_by(maps.c.id))
        allowed = await self._count(select(func.count()).select_from(consents)
                                    .where(consents.c.user_id == user_id))
        return DeletionPreview(tuple(r.name for r in apps), tuple(r.title for r in titles), allowed)

    async def delete_user(self, *, user_id: int) -> bool:
        """Delete the account; its applications, maps, grants (so every code and token), consents,
        sessions and parked requests go with it (the foreign keys cascade). The security log
        keeps its events (they name the user by id only)."""
        result = await self._conn.execute(
            delete(users).where(users.c.id == user_id).returning(users.c.id))
        self._cache.clear()
        return result.first() is not None

    # --- applications --------------------------------------------------------------------------

    async def apps_page(self, *, search: str | None, limit: int, offset: int) -> list[AppRecord]:
        rows = await self._conn.execute(
            select(*_APP_COLUMNS).outerjoin(users, users.c.id == clients.c.owner_id)
            .where(_app_filter(search)).order_by(clients.c.id).limit(limit).offset(offset))
        return [_app(row) for row in rows]

    async def count_apps(self, *, search: str | None) -> int:
        return await self._count(select(func.count()).select_from(clients)
                                 .where(_app_filter(search)))

    async def app(self, *, client_id: str) -> AppRecord | None:
        row = (await self._conn.execute(
            select(*_APP_COLUMNS).outerjoin(users, users.c.id == clients.c.owner_id)
            .where(clients.c.client_id == client_id))).first()
        return _app(row) if row is not None else None

    async def app_facts(self, *, pk: int, now: int) -> AppFacts:
        return AppFacts(
            allowed_by=await self._count(select(func.count()).select_from(consents)
                                         .where(consents.c.client_pk == pk)),
            active_grants=await self._count(
                select(func.count()).select_from(grants)
                .where(grants.c.client_pk == pk, _live_grant(now))),
            maps=await self._count(select(func.count()).select_from(maps)
                                   .where(maps.c.client_pk == pk)),
        )

    async def set_app_disabled(self, *, pk: int, at: int | None) -> bool:
        """Disable (``at``) or enable (None) the application; False if it already was so."""
        state = clients.c.disabled_at.is_(None) if at is not None else clients.c.disabled_at.is_not(None)
        result = await self._conn.execute(
            update(clients).where(clients.c.id == pk, state).values(disabled_at=at)
            .returning(clients.c.id))
        self._cache.clear()
        return result.first() is not None

    async def end_app_access(self, *, pk: int, now: int) -> None:
        """Revoke every grant of the application, so every code and token of it ends."""
        await self._conn.execute(
            update(grants).where(grants.c.client_pk == pk, grants.c.revoked_at.is_(None))
            .values(revoked_at=now))
