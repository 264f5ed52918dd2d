"""The storage Protocols of ``openplate.oauth.ports`` in memory, for fast tests of the core.

It keeps the SQL repositories' semantics, and the contract suite (``tests/contract/``) runs the
same tests against it, SQLite and PostgreSQL:

- A unit of work (``MemoryDatabase.transaction()``) commits when its block ends and undoes
  everything it changed if the block raises. Units run one at a time (like SQLite's), so a code
  is consumed and a refresh token rotated at most once however many units try at once.
- Codes, refresh tokens and pushed requests are consumed once (``consume``, ``use_refresh``,
  ``pushed_requests.consume``); revoking a grant
  ends its tokens for ``find_access`` and shows on ``find_refresh``; expiry is checked by
  ``find_access`` and left to the caller elsewhere, as in SQL.
- Client-credentials tokens hang on one remembered grant per client and scope (``for_client``).

Seed it in one call, ``MemoryDatabase(users=[...], clients=[...])``, or with ``add_user`` and
``add_client``; seeding is not part of any unit of work.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import replace

from openplate.oauth.models import Client, UserProfile
from openplate.oauth.ports import OAuthStore
from openplate.oauth.tokens import Digester, new_client_id
from openplate.store.client_grants import ClientGrants
from openplate.store.memory_device import MemoryDeviceCodes
from openplate.store.memory_repos import (
    MemoryClients,
    MemoryCodes,
    MemoryGrants,
    MemoryPushedRequests,
    MemorySecurityLog,
    MemoryTokens,
    MemoryUsers,
)
from openplate.store.memory_tables import ClientRow, DuplicateRow, Tables, Unit, UserRow

__all__ = ["DuplicateRow", "MemoryDatabase", "MemoryStore"]


class MemoryStore:
    """The repositories of one unit of work; implements ``openplate.oauth.ports.OAuthStore``."""

    def __init__(self, unit: Unit, client_grants: ClientGrants) -> None:
        self.ip = unit.ip
        self.clients = MemoryClients(unit)
        self.grants = MemoryGrants(unit, client_grants)
        self.codes = MemoryCodes(unit)
        self.tokens = MemoryTokens(unit)
        self.pushed_requests = MemoryPushedRequests(unit)
        self.device_codes = MemoryDeviceCodes(unit)
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
        self._tables = Tables()
        self._lock: asyncio.Lock | None = None
        self._lock_loop: asyncio.AbstractEventLoop | None = None
        self._holder: asyncio.Task[object] | None = None
        for user in users:
            self._tables.users.add(UserRow(user.id, user))
        for client in clients:
            self._tables.clients.add(ClientRow(client.pk, client))

    def add_user(self, username: str = "alice", *, email: str | None = None,
                 created_at: int = 0) -> UserProfile:
        users = self._tables.users
        profile = UserProfile(users.next_id(), username, email or f"{username}@example.org",
                              created_at)
        users.add(UserRow(profile.id, profile))
        return profile

    def add_client(
        self, *, owner_id: int, secret: str | None = None, redirect_uris: Iterable[str] = (),
        grant_types: Iterable[str] = ("authorization_code", "refresh_token"),
        require_pkce: bool = False, name: str = "Test application", client_id: str | None = None,
        dpop_bound_access_tokens: bool = False,
        require_pushed_authorization_requests: bool = False,
        post_logout_redirect_uris: Iterable[str] = (), backchannel_logout_uri: str | None = None,
    ) -> Client:
        """A registered application; public (no secret) unless ``secret`` is given."""
        clients = self._tables.clients
        client = Client(
            pk=clients.next_id(), client_id=client_id or new_client_id(), name=name,
            owner_id=owner_id, redirect_uris=tuple(redirect_uris),
            secret_digest=self.digester.digest(secret) if secret is not None else None,
            require_pkce=require_pkce, grant_types=tuple(grant_types),
            dpop_bound_access_tokens=dpop_bound_access_tokens,
            require_pushed_authorization_requests=require_pushed_authorization_requests,
            post_logout_redirect_uris=tuple(post_logout_redirect_uris),
            backchannel_logout_uri=backchannel_logout_uri,
        )
        clients.add(ClientRow(client.pk, client))
        return client

    def set_disabled(self, *, user_id: int | None = None, client_pk: int | None = None,
                     at: int | None) -> None:
        """Disable (``at``, a time) or enable (None) a user or an application, as the operator
        does in SQL (``SqlAdmin.set_user_disabled``, ``set_app_disabled``); seeding, like
        ``add_user``: no unit of work."""
        if user_id is not None:
            users = self._tables.users
            users.put(replace(users.rows[user_id], disabled_at=at))
        if client_pk is not None:
            clients = self._tables.clients
            row = clients.rows[client_pk]
            clients.put(replace(row, client=replace(row.client, disabled=at is not None)))

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
            unit = Unit(self._tables, ip)
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
