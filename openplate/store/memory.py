"""The storage Protocols of ``openplate.oauth.ports`` in memory, for fast tests of the core.

It keeps the SQL repositories' semantics, and the contract suite (``tests/contract/``) runs the
same tests against it, SQLite and PostgreSQL:

- A unit of work (``MemoryDatabase.transaction()``) commits when its block ends and undoes
  everything it changed if the block raises. Units run one at a time (like SQLite's), so a code
  is consumed and a refresh token rotated at most once however many units try at once.
- Codes and refresh tokens are consumed once (``consume``, ``use_refresh``); revoking a grant
  ends its tokens for ``find_access`` and shows on ``find_refresh``; expiry is checked by
  ``find_access`` and left to the caller elsewhere, as in SQL.
- Client-credentials tokens hang on one remembered grant per client and scope (``for_client``).

Seed it in one call, ``MemoryDatabase(users=[...], clients=[...])``, or with ``add_user`` and
``add_client``; seeding is not part of any unit of work.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, replace
from typing import Generic, Protocol, TypeVar

from openplate.oauth.models import (
    LAST_USED_EVERY,
    AccessPrincipal,
    Client,
    CodeRecord,
    RefreshRecord,
    UserProfile,
)
from openplate.oauth.ports import OAuthStore
from openplate.oauth.tokens import Digester, new_client_id
from openplate.store.client_grants import ClientGrants
from openplate.store.security_log import KINDS, SecurityEvent


class DuplicateRow(Exception):
    """A row with this id or digest exists already (SQL's unique constraint)."""


class _Row(Protocol):
    @property
    def id(self) -> int: ...


R = TypeVar("R", bound=_Row)


class _Table(Generic[R]):
    """Rows by id, and by a unique key (a digest) when the rows have one."""

    def __init__(self, key: Callable[[R], str] | None = None) -> None:
        self.rows: dict[int, R] = {}
        self._key = key
        self._index: dict[str, int] = {}
        self._last_id = 0

    def next_id(self) -> int:
        """A new id; like a PostgreSQL sequence, never handed out twice, even after a rollback."""
        self._last_id += 1
        return self._last_id

    def get(self, row_id: int) -> R | None:
        return self.rows.get(row_id)

    def find(self, key: str) -> R | None:
        row_id = self._index.get(key)
        return self.rows[row_id] if row_id is not None else None

    def add(self, row: R) -> None:
        key = self._key(row) if self._key is not None else None
        if row.id in self.rows or (key is not None and key in self._index):
            raise DuplicateRow(f"{type(row).__name__} {row.id} exists already")
        self.rows[row.id] = row
        if key is not None:
            self._index[key] = row.id
        self._last_id = max(self._last_id, row.id)

    def remove(self, row: R) -> None:
        del self.rows[row.id]
        if self._key is not None:
            del self._index[self._key(row)]

    def put(self, row: R) -> R:
        """Replace the row with the same id (its key unchanged); return the old one."""
        old = self.rows[row.id]
        self.rows[row.id] = row
        return old


@dataclass(frozen=True, slots=True)
class _Grant:
    id: int
    user_id: int
    client_pk: int
    scope: str
    created_at: int
    auth_time: int | None
    last_used_at: int | None
    revoked_at: int | None = None


@dataclass(frozen=True, slots=True)
class _Code:
    id: int
    digest: str
    grant_id: int
    client_pk: int
    user_id: int
    redirect_uri: str
    scope: str
    code_challenge: str | None
    nonce: str | None
    auth_time: int | None
    created_at: int
    expires_at: int
    used_at: int | None = None

    def record(self, *, used: bool) -> CodeRecord:
        return CodeRecord(
            id=self.id, grant_id=self.grant_id, client_pk=self.client_pk, user_id=self.user_id,
            redirect_uri=self.redirect_uri, scope=self.scope, code_challenge=self.code_challenge,
            expires_at=self.expires_at, used=used, nonce=self.nonce, auth_time=self.auth_time,
        )


@dataclass(frozen=True, slots=True)
class _Token:
    """An access or a refresh token (access tokens never get ``used_at`` or a stamp)."""

    id: int
    digest: str
    grant_id: int
    client_pk: int
    user_id: int
    scope: str
    created_at: int
    expires_at: int
    used_at: int | None = None
    revoked_at: int | None = None
    successor_stamp: str | None = None


@dataclass(frozen=True, slots=True)
class _User:
    id: int
    profile: UserProfile


@dataclass(frozen=True, slots=True)
class _Client:
    id: int
    client: Client


def _digest_of(row: _Code | _Token) -> str:
    return row.digest


class _Tables:
    def __init__(self) -> None:
        self.users: _Table[_User] = _Table()
        self.clients: _Table[_Client] = _Table(lambda row: row.client.client_id)
        self.grants: _Table[_Grant] = _Table()
        self.codes: _Table[_Code] = _Table(_digest_of)
        self.access: _Table[_Token] = _Table(_digest_of)
        self.refresh: _Table[_Token] = _Table(_digest_of)
        self.events: _Table[SecurityEvent] = _Table()


class _Unit:
    """One unit of work: the tables while it is open, and the steps that undo its changes."""

    def __init__(self, tables: _Tables, ip: str | None) -> None:
        self._tables = tables
        self.ip = ip
        self.open = True
        self._undo: list[Callable[[], object]] = []

    @property
    def tables(self) -> _Tables:
        self._check_open()
        return self._tables

    def _check_open(self) -> None:
        if not self.open:
            raise RuntimeError("This unit of work has ended; open another with db.transaction().")

    def insert(self, table: _Table[R], row: R) -> None:
        self._check_open()
        table.add(row)
        self._undo.append(lambda: table.remove(row))

    def update(self, table: _Table[R], row: R) -> None:
        self._check_open()
        old = table.put(row)
        self._undo.append(lambda: table.put(old))

    def rollback(self) -> None:
        while self._undo:
            self._undo.pop()()


class MemoryClients:
    def __init__(self, unit: _Unit) -> None:
        self._unit = unit

    async def by_client_id(self, client_id: str) -> Client | None:
        row = self._unit.tables.clients.find(client_id)
        return row.client if row is not None else None


class MemoryUsers:
    def __init__(self, unit: _Unit) -> None:
        self._unit = unit

    async def profile(self, user_id: int) -> UserProfile | None:
        row = self._unit.tables.users.get(user_id)
        return row.profile if row is not None else None


class MemoryGrants:
    def __init__(self, unit: _Unit, client_grants: ClientGrants) -> None:
        self._unit = unit
        self._client_grants = client_grants

    async def create(
        self, *, user_id: int, client_pk: int, scope: str, now: int, auth_time: int | None = None,
        used: bool = False,
    ) -> int:
        grants = self._unit.tables.grants
        grant = _Grant(id=grants.next_id(), user_id=user_id, client_pk=client_pk, scope=scope,
                       created_at=now, auth_time=auth_time, last_used_at=now if used else None)
        self._unit.insert(grants, grant)
        return grant.id

    async def touch(self, *, grant_id: int, now: int) -> None:
        grants = self._unit.tables.grants
        grant = grants.get(grant_id)
        if grant is not None:
            self._unit.update(grants, replace(grant, last_used_at=now))

    async def revoke(self, *, grant_id: int, now: int) -> None:
        grants = self._unit.tables.grants
        grant = grants.get(grant_id)
        if grant is not None and grant.revoked_at is None:
            self._unit.update(grants, replace(grant, revoked_at=now))

    async def for_client(self, *, user_id: int, client_pk: int, scope: str, now: int) -> int:
        remembered = self._client_grants
        key = (client_pk, user_id, scope)
        entry = remembered.get(key)
        if entry is not None:
            grant_id, created_at, touched_at = entry
            grant = self._unit.tables.grants.get(grant_id)
            if (grant is not None and grant.revoked_at is None
                    and (grant.client_pk, grant.user_id, grant.scope, grant.created_at)
                    == (client_pk, user_id, scope, created_at)):
                if now - touched_at >= LAST_USED_EVERY:
                    await self.touch(grant_id=grant_id, now=now)
                    remembered.put(key, grant_id, created_at, now)
                return grant_id
            remembered.forget(key)
        grant_id = await self.create(user_id=user_id, client_pk=client_pk, scope=scope, now=now,
                                     used=True)
        remembered.put(key, grant_id, now, now)
        return grant_id


class MemoryCodes:
    def __init__(self, unit: _Unit) -> None:
        self._unit = unit

    async def create(
        self, *, digest: str, grant_id: int, client_pk: int, user_id: int, redirect_uri: str,
        scope: str, code_challenge: str | None, nonce: str | None, auth_time: int | None,
        now: int, expires_at: int,
    ) -> None:
        codes = self._unit.tables.codes
        self._unit.insert(codes, _Code(
            id=codes.next_id(), digest=digest, grant_id=grant_id, client_pk=client_pk,
            user_id=user_id, redirect_uri=redirect_uri, scope=scope, code_challenge=code_challenge,
            nonce=nonce, auth_time=auth_time, created_at=now, expires_at=expires_at,
        ))

    async def consume(self, *, digest: str, now: int) -> CodeRecord | None:
        codes = self._unit.tables.codes
        code = codes.find(digest)
        if code is None or code.used_at is not None:
            return None
        self._unit.update(codes, replace(code, used_at=now))
        return code.record(used=False)

    async def find(self, *, digest: str) -> CodeRecord | None:
        code = self._unit.tables.codes.find(digest)
        return code.record(used=code.used_at is not None) if code is not None else None


class MemoryTokens:
    def __init__(self, unit: _Unit) -> None:
        self._unit = unit

    async def create_access(
        self, *, digest: str, grant_id: int, client_pk: int, user_id: int, scope: str,
        now: int, expires_at: int,
    ) -> None:
        self._create(self._unit.tables.access, digest=digest, grant_id=grant_id,
                     client_pk=client_pk, user_id=user_id, scope=scope, now=now,
                     expires_at=expires_at)

    async def create_refresh(
        self, *, digest: str, grant_id: int, client_pk: int, user_id: int, scope: str,
        now: int, expires_at: int,
    ) -> None:
        self._create(self._unit.tables.refresh, digest=digest, grant_id=grant_id,
                     client_pk=client_pk, user_id=user_id, scope=scope, now=now,
                     expires_at=expires_at)

    def _create(
        self, table: _Table[_Token], *, digest: str, grant_id: int, client_pk: int, user_id: int,
        scope: str, now: int, expires_at: int,
    ) -> None:
        self._unit.insert(table, _Token(
            id=table.next_id(), digest=digest, grant_id=grant_id, client_pk=client_pk,
            user_id=user_id, scope=scope, created_at=now, expires_at=expires_at,
        ))

    async def find_refresh(self, *, digest: str) -> RefreshRecord | None:
        tables = self._unit.tables
        token = tables.refresh.find(digest)
        grant = tables.grants.get(token.grant_id) if token is not None else None
        if token is None or grant is None:
            return None
        return RefreshRecord(
            id=token.id, grant_id=token.grant_id, client_pk=token.client_pk,
            user_id=token.user_id, scope=token.scope, expires_at=token.expires_at,
            used_at=token.used_at, revoked=token.revoked_at is not None,
            grant_revoked=grant.revoked_at is not None, auth_time=grant.auth_time,
            issued_at=token.created_at, successor_stamp=token.successor_stamp,
            grant_used_at=grant.last_used_at,
        )

    async def use_refresh(
        self, *, refresh_id: int, now: int, successor_stamp: str | None
    ) -> bool:
        refresh = self._unit.tables.refresh
        token = refresh.get(refresh_id)
        if token is None or token.used_at is not None:
            return False
        self._unit.update(refresh, replace(token, used_at=now, successor_stamp=successor_stamp))
        return True

    async def find_access(self, *, digest: str, now: int) -> AccessPrincipal | None:
        tables = self._unit.tables
        token = tables.access.find(digest)
        if token is None or token.revoked_at is not None or token.expires_at <= now:
            return None
        grant = tables.grants.get(token.grant_id)
        user = tables.users.get(token.user_id)
        if grant is None or grant.revoked_at is not None or user is None:
            return None
        return AccessPrincipal(
            token_id=token.id, grant_id=token.grant_id, user_id=token.user_id,
            client_pk=token.client_pk, scope=token.scope, expires_at=token.expires_at,
            issued_at=token.created_at, user=user.profile,
        )

    async def revoke_access(self, *, token_id: int, now: int) -> None:
        access = self._unit.tables.access
        token = access.get(token_id)
        if token is not None and token.revoked_at is None:
            self._unit.update(access, replace(token, revoked_at=now))


class MemorySecurityLog:
    """The append-only security log, readable as ``SqlSecurityLog`` is."""

    def __init__(self, unit: _Unit) -> None:
        self._unit = unit

    async def append(
        self, *, kind: str, now: int, user_id: int | None = None, client_id: str | None = None,
        ip: str | None = None, detail: dict[str, object] | None = None,
    ) -> None:
        assert kind in KINDS, kind
        ip = ip or self._unit.ip
        events = self._unit.tables.events
        # Through JSON, as the SQL log stores it: what cannot be stored fails here too.
        stored = json.loads(json.dumps(detail or {}, sort_keys=True))
        self._unit.insert(events, SecurityEvent(
            events.next_id(), now, kind, user_id, client_id, ip[:64] if ip else None, stored))

    async def recent(self, *, user_id: int | None = None, limit: int = 100) -> list[SecurityEvent]:
        rows = sorted(self._unit.tables.events.rows.values(), key=lambda e: e.id, reverse=True)
        return [e for e in rows if user_id is None or e.user_id == user_id][:limit]


class MemoryStore:
    """The repositories of one unit of work; implements ``openplate.oauth.ports.OAuthStore``."""

    def __init__(self, unit: _Unit, client_grants: ClientGrants) -> None:
        self.ip = unit.ip
        self.clients = MemoryClients(unit)
        self.grants = MemoryGrants(unit, client_grants)
        self.codes = MemoryCodes(unit)
        self.tokens = MemoryTokens(unit)
        self.users = MemoryUsers(unit)
        self.events = MemorySecurityLog(unit)


def _as_port(store: MemoryStore) -> OAuthStore:
    return store  # mypy checks here that MemoryStore implements every port


class MemoryDatabase:
    """The memory store, and the one way to open a unit of work on it (as ``Database``)."""

    def __init__(
        self, digester: Digester | None = None, *, users: Iterable[UserProfile] = (),
        clients: Iterable[Client] = (),
    ) -> None:
        #: Digests client secrets given to ``add_client``; pass the core the same one.
        self.digester = digester if digester is not None else Digester(b"openplate memory store key")
        self.client_grants = ClientGrants()
        self._tables = _Tables()
        self._lock: asyncio.Lock | None = None
        self._lock_loop: asyncio.AbstractEventLoop | None = None
        self._holder: asyncio.Task[object] | None = None
        for user in users:
            self._tables.users.add(_User(user.id, user))
        for client in clients:
            self._tables.clients.add(_Client(client.pk, client))

    def add_user(self, username: str = "alice", *, email: str | None = None,
                 created_at: int = 0) -> UserProfile:
        users = self._tables.users
        profile = UserProfile(users.next_id(), username, email or f"{username}@example.org",
                              created_at)
        users.add(_User(profile.id, profile))
        return profile

    def add_client(
        self, *, owner_id: int, secret: str | None = None, redirect_uris: Iterable[str] = (),
        grant_types: Iterable[str] = ("authorization_code", "refresh_token"),
        require_pkce: bool = False, name: str = "Test application", client_id: str | None = None,
    ) -> Client:
        """A registered application; public (no secret) unless ``secret`` is given."""
        clients = self._tables.clients
        client = Client(
            pk=clients.next_id(), client_id=client_id or new_client_id(), name=name,
            owner_id=owner_id, redirect_uris=tuple(redirect_uris),
            secret_digest=self.digester.digest(secret) if secret is not None else None,
            require_pkce=require_pkce, grant_types=tuple(grant_types),
        )
        clients.add(_Client(client.pk, client))
        return client

    def transaction(
        self, *, readonly: bool = False, ip: str | None = None
    ) -> AbstractAsyncContextManager[MemoryStore]:
        """Commit when the block ends normally; undo everything it changed if it raises.

        Units run one at a time. ``readonly`` is accepted for ``Database``'s sake and, as there,
        is a hint: nothing refuses a write. A unit opened inside another one of the same task
        would wait for itself; it raises instead.
        """
        return self._unit(ip)

    def _loop_lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        if self._lock is None or self._lock_loop is not loop:
            # Each asyncio.run has a loop of its own, and a lock serves only one loop.
            if self._holder is not None:
                raise RuntimeError("A unit of work is open in another event loop.")
            self._lock, self._lock_loop = asyncio.Lock(), loop
        return self._lock

    @asynccontextmanager
    async def _unit(self, ip: str | None) -> AsyncIterator[MemoryStore]:
        task = asyncio.current_task()
        if task is not None and task is self._holder:
            raise RuntimeError("A unit of work is already open in this task; units do not nest.")
        async with self._loop_lock():
            self._holder = task
            unit = _Unit(self._tables, ip)
            try:
                yield MemoryStore(unit, self.client_grants)
            except BaseException:
                unit.rollback()
                raise
            finally:
                unit.open = False
                self._holder = None

    async def dispose(self) -> None:
        """Nothing to close; here so code written for ``Database`` runs unchanged."""
