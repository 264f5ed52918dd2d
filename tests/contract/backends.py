"""The three stores the contract suite runs against, behind one face: memory, SQLite, PostgreSQL.

Each test gets its own backend object, made in the test's event loop and closed in it (see
tests/support/async_tests.py). The SQL backends share one database per run (a fresh SQLite
file, a PostgreSQL database made and dropped per run), so every test seeds its own user and
client and mints its own digests; nothing depends on what other tests left.
"""

from __future__ import annotations

import secrets
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from openplate.oauth.models import Client, UserProfile
from openplate.oauth.ports import EventLog, OAuthStore
from openplate.oauth.tokens import (
    ACCESS_TOKEN_PREFIX,
    AUTHORIZATION_CODE_PREFIX,
    REFRESH_TOKEN_PREFIX,
    Digester,
    new_client_id,
)
from openplate.settings import Settings
from openplate.store.engine import create_engine
from openplate.store.memory import MemoryDatabase
from openplate.store.security_log import SecurityEvent
from openplate.store.unit import Database

NOW = 1_900_000_000
DIGESTER = Digester(b"contract suite key, not a secret")
SECRET_KEY = "k" * 48
CLIENT_SECRET = "opcs_contract-secret"
ALL_GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials")


class ReadableLog(EventLog, Protocol):
    async def recent(self, *, user_id: int | None = None, limit: int = 100,
                     before: int | None = None) -> list[SecurityEvent]: ...


class ContractStore(OAuthStore, Protocol):
    """The ports, and a way to read the security log back (both implementations have one)."""

    @property
    def events(self) -> ReadableLog: ...


class Backend(Protocol):
    name: str

    def transaction(
        self, *, readonly: bool = False, ip: str | None = None
    ) -> AbstractAsyncContextManager[ContractStore]: ...

    async def add_user(self) -> UserProfile: ...

    async def add_client(
        self, *, owner_id: int, secret: str | None = CLIENT_SECRET,
        redirect_uris: tuple[str, ...] = ("https://app.example/cb",),
        grant_types: tuple[str, ...] = ALL_GRANT_TYPES, require_pkce: bool = False,
    ) -> Client: ...

    async def set_disabled(self, *, user_id: int | None = None, client_pk: int | None = None,
                           at: int | None) -> None:
        """Disable (``at``) or enable (None) a user or an application, as the operator does."""
        ...

    async def aclose(self) -> None: ...


def _username() -> str:
    return "u" + secrets.token_hex(6)


class MemoryBackend:
    name = "memory"

    def __init__(self) -> None:
        self.db = MemoryDatabase(DIGESTER)

    def transaction(
        self, *, readonly: bool = False, ip: str | None = None
    ) -> AbstractAsyncContextManager[ContractStore]:
        return self.db.transaction(readonly=readonly, ip=ip)

    async def add_user(self) -> UserProfile:
        return self.db.add_user(_username(), created_at=NOW - 86_400)

    async def add_client(
        self, *, owner_id: int, secret: str | None = CLIENT_SECRET,
        redirect_uris: tuple[str, ...] = ("https://app.example/cb",),
        grant_types: tuple[str, ...] = ALL_GRANT_TYPES, require_pkce: bool = False,
    ) -> Client:
        return self.db.add_client(owner_id=owner_id, secret=secret, redirect_uris=redirect_uris,
                                  grant_types=grant_types, require_pkce=require_pkce)

    async def set_disabled(self, *, user_id: int | None = None, client_pk: int | None = None,
                           at: int | None) -> None:
        self.db.set_disabled(user_id=user_id, client_pk=client_pk, at=at)

    async def aclose(self) -> None:
        await self.db.dispose()


class SqlBackend:
    """``Database`` over a URL, its engine made on first use (inside the test's event loop)."""

    def __init__(self, name: str, url: str) -> None:
        self.name = name
        self.url = url
        self._db: Database | None = None

    @property
    def db(self) -> Database:
        if self._db is None:
            settings = Settings(database_url=self.url, secret_key=SECRET_KEY)
            self._db = Database(create_engine(settings), DIGESTER)
        return self._db

    def transaction(
        self, *, readonly: bool = False, ip: str | None = None
    ) -> AbstractAsyncContextManager[ContractStore]:
        return self.db.transaction(readonly=readonly, ip=ip)

    async def add_user(self) -> UserProfile:
        name = _username()
        async with self.db.transaction() as store:
            user = await store.users.create(username=name, email=f"{name}@example.org",
                                            password_hash="not a hash", now=NOW - 86_400)
        return UserProfile(user.id, user.username, user.email, user.created_at)

    async def add_client(
        self, *, owner_id: int, secret: str | None = CLIENT_SECRET,
        redirect_uris: tuple[str, ...] = ("https://app.example/cb",),
        grant_types: tuple[str, ...] = ALL_GRANT_TYPES, require_pkce: bool = False,
    ) -> Client:
        async with self.db.transaction() as store:
            return await store.applications.create(
                client_id=new_client_id(), owner_id=owner_id, name="Contract app",
                secret_digest=DIGESTER.digest(secret) if secret is not None else None,
                redirect_uris=list(redirect_uris), grant_types=list(grant_types),
                require_pkce=require_pkce, now=NOW - 3600,
            )

    async def set_disabled(self, *, user_id: int | None = None, client_pk: int | None = None,
                           at: int | None) -> None:
        async with self.db.transaction() as store:
            if user_id is not None:
                await store.admin.set_user_disabled(user_id=user_id, at=at)
            if client_pk is not None:
                await store.admin.set_app_disabled(pk=client_pk, at=at)

    async def aclose(self) -> None:
        if self._db is not None:
            await self._db.dispose()


def code_digest() -> str:
    return DIGESTER.digest(DIGESTER.mint(AUTHORIZATION_CODE_PREFIX))


def access_digest() -> str:
    return DIGESTER.digest(DIGESTER.mint(ACCESS_TOKEN_PREFIX))


def refresh_digest() -> str:
    return DIGESTER.digest(DIGESTER.mint(REFRESH_TOKEN_PREFIX))


async def user_and_client(backend: Backend) -> tuple[UserProfile, Client]:
    user = await backend.add_user()
    return user, await backend.add_client(owner_id=user.id)


async def grant(
    backend: Backend, user: UserProfile, client: Client, *, scope: str = "account maps",
    auth_time: int | None = None, used: bool = False, now: int = NOW,
) -> int:
    async with backend.transaction() as store:
        return await store.grants.create(user_id=user.id, client_pk=client.pk, scope=scope,
                                         now=now, auth_time=auth_time, used=used)


async def access_token(
    backend: Backend, grant_id: int, user: UserProfile, client: Client, *,
    scope: str = "account maps", now: int = NOW, ttl: int = 3600,
) -> str:
    """A new access token's digest."""
    digest = access_digest()
    async with backend.transaction() as store:
        await store.tokens.create_access(digest=digest, grant_id=grant_id, client_pk=client.pk,
                                         user_id=user.id, scope=scope, now=now,
                                         expires_at=now + ttl)
    return digest


async def refresh_token(
    backend: Backend, grant_id: int, user: UserProfile, client: Client, *,
    scope: str = "account maps", now: int = NOW, ttl: int = 86_400,
) -> str:
    """A new refresh token's digest."""
    digest = refresh_digest()
    async with backend.transaction() as store:
        await store.tokens.create_refresh(digest=digest, grant_id=grant_id, client_pk=client.pk,
                                          user_id=user.id, scope=scope, now=now,
                                          expires_at=now + ttl)
    return digest


async def code(
    backend: Backend, grant_id: int, user: UserProfile, client: Client, *, now: int = NOW,
    ttl: int = 60,
) -> str:
    """A new authorisation code's digest."""
    digest = code_digest()
    async with backend.transaction() as store:
        await store.codes.create(
            digest=digest, grant_id=grant_id, client_pk=client.pk, user_id=user.id,
            redirect_uri="https://app.example/cb", scope="openid account", code_challenge="c" * 43,
            nonce="n-0S6", auth_time=now - 5, now=now, expires_at=now + ttl,
        )
    return digest
