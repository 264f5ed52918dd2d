"""The repositories of one unit of work, all bound to one connection and one transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Generic, TypeVar

from sqlalchemy import Engine

from openplate.oauth.tokens import Digester
from openplate.store.account_repos import SqlAuthRequests, SqlSessions, SqlUsers
from openplate.store.admin_repos import SqlAdmin
from openplate.store.app_repos import SqlApplications
from openplate.store.backchannel_repos import SqlBackchannelLogouts
from openplate.store.category_counts import CategoryCounts
from openplate.store.category_repos import SqlCategories
from openplate.store.client_cache import ClientCache
from openplate.store.client_grants import ClientGrants
from openplate.store.consent_repos import SqlConsents
from openplate.store.device_repos import SqlDeviceCodes
from openplate.store.engine import AnyEngine, dispose, unit_of_work
from openplate.store.key_repos import SqlSigningKeys
from openplate.store.link_repos import SqlEmailVerifications, SqlPasswordResets
from openplate.store.mail_repos import SqlOutbox
from openplate.store.map_repos import SqlMaps
from openplate.store.oauth_repos import SqlClients, SqlCodes, SqlGrants, SqlTokens
from openplate.store.passkey_repos import SqlPasskeys
from openplate.store.prepared import DbConnection
from openplate.store.pushed_repos import SqlPushedRequests
from openplate.store.registration_repos import SqlRegistrations
from openplate.store.second_factor_repos import SqlSecondFactors
from openplate.store.security_log import SqlSecurityLog
from openplate.store.sqlite_units import SqliteUnits
from openplate.store.throttle_repo import SqlCounters

T = TypeVar("T")


class _repository(Generic[T]):  # noqa: N801 - used as a decorator, like cached_property
    """A repository made on first use and kept on the instance (cached_property without its lock,
    which Python 3.11 takes on every first access)."""

    def __init__(self, make: Callable[[Store], T]) -> None:
        self._make = make
        self._name = make.__name__

    def __get__(self, store: Store, owner: type | None = None) -> T:
        value = self._make(store)
        store.__dict__[self._name] = value
        return value


class Store:
    """Implements ``openplate.oauth.ports.OAuthStore`` and the site's other repositories."""

    def __init__(self, conn: DbConnection, *, digester: Digester, clients: ClientCache,
                 client_grants: ClientGrants, category_counts: CategoryCounts,
                 ip: str | None = None) -> None:
        self.conn = conn
        self.digester = digester
        self.ip = ip
        self.client_cache = clients
        self.client_grants = client_grants
        self.category_counts = category_counts

    @_repository
    def clients(self) -> SqlClients:
        return SqlClients(self.conn, self.client_cache)

    @_repository
    def grants(self) -> SqlGrants:
        return SqlGrants(self.conn, self.client_grants)

    @_repository
    def codes(self) -> SqlCodes:
        return SqlCodes(self.conn)

    @_repository
    def tokens(self) -> SqlTokens:
        return SqlTokens(self.conn)

    @_repository
    def pushed_requests(self) -> SqlPushedRequests:
        return SqlPushedRequests(self.conn)

    @_repository
    def device_codes(self) -> SqlDeviceCodes:
        return SqlDeviceCodes(self.conn)

    @_repository
    def users(self) -> SqlUsers:
        return SqlUsers(self.conn)

    @_repository
    def sessions(self) -> SqlSessions:
        return SqlSessions(self.conn)

    @_repository
    def auth_requests(self) -> SqlAuthRequests:
        return SqlAuthRequests(self.conn)

    @_repository
    def applications(self) -> SqlApplications:
        return SqlApplications(self.conn, self.client_cache)

    @_repository
    def registrations(self) -> SqlRegistrations:
        return SqlRegistrations(self.conn, self.client_cache)

    @_repository
    def admin(self) -> SqlAdmin:
        return SqlAdmin(self.conn, self.client_cache)

    @_repository
    def maps(self) -> SqlMaps:
        return SqlMaps(self.conn, self.digester, self.category_counts)

    @_repository
    def categories(self) -> SqlCategories:
        return SqlCategories(self.conn, self.category_counts)

    @_repository
    def consents(self) -> SqlConsents:
        return SqlConsents(self.conn)

    @_repository
    def events(self) -> SqlSecurityLog:
        return SqlSecurityLog(self.conn, ip=self.ip)

    @_repository
    def signing_keys(self) -> SqlSigningKeys:
        return SqlSigningKeys(self.conn)

    @_repository
    def second_factors(self) -> SqlSecondFactors:
        return SqlSecondFactors(self.conn)

    @_repository
    def passkeys(self) -> SqlPasskeys:
        return SqlPasskeys(self.conn)

    @_repository
    def password_resets(self) -> SqlPasswordResets:
        return SqlPasswordResets(self.conn)

    @_repository
    def email_verifications(self) -> SqlEmailVerifications:
        return SqlEmailVerifications(self.conn)

    @_repository
    def outbox(self) -> SqlOutbox:
        return SqlOutbox(self.conn)

    @_repository
    def backchannel_logouts(self) -> SqlBackchannelLogouts:
        return SqlBackchannelLogouts(self.conn)

    @_repository
    def counters(self) -> SqlCounters:
        return SqlCounters(self.conn, self.digester)


class Database:
    """The engine, and the one way to open a unit of work on it."""

    def __init__(self, engine: AnyEngine, digester: Digester) -> None:
        self.engine = engine
        self.digester = digester
        #: Client records for a second (see client_cache.py), shared by this process's units.
        self.clients = ClientCache()
        #: The grant each client's client-credentials tokens hang on (see client_grants.py).
        self.client_grants = ClientGrants()
        #: The home page's category counts (see category_counts.py).
        self.category_counts = CategoryCounts()
        self._sqlite = SqliteUnits(engine) if isinstance(engine, Engine) else None

    def transaction(
        self, *, readonly: bool = False, ip: str | None = None
    ) -> AbstractAsyncContextManager[Store]:
        """One unit of work: ``async with db.transaction() as store:``.

        - The block ends normally: its changes are committed, and the ``async with`` returns
          only once that commit has been made; if the commit fails, the ``async with`` raises
          that error and nothing the block wrote is kept.
        - The block raises: everything it wrote is rolled back and the exception goes on.
          Nothing in between: to keep what was written before a refusal (the revocation after a
          code replay), the caller must not let the refusal leave the block as an exception
          (see ``commit_even_if_refused`` in web/routes/client_endpoints.py).

        On SQLite (sqlite_units.py) a writing unit is a savepoint in a transaction shared with
        the other units open at about the same time (group commit): raising rolls back to its
        own savepoint only, and ending normally waits for the one ``COMMIT`` of the whole group,
        whose failure fails every unit of it. A ``readonly`` unit begins a
        deferred transaction of its own when no group is open; while one is, it joins that group
        like a writer (and sees the group's writes before they are committed, but returns only
        once they are). On PostgreSQL each unit is one transaction on a pooled connection, at the
        server's isolation level (read committed), and ``readonly`` changes nothing: it is the
        caller's word that the block only reads, which lets SQLite begin without the write lock.

        ``ip`` is the client address that security-log entries of this unit of work record.
        """
        digester, clients, client_grants = self.digester, self.clients, self.client_grants
        counts = self.category_counts
        if self._sqlite is not None:
            return self._sqlite.unit(readonly, lambda conn: Store(
                conn, digester=digester, ip=ip, clients=clients, client_grants=client_grants,
                category_counts=counts))
        return self._pooled(readonly, ip)

    @asynccontextmanager
    async def _pooled(self, readonly: bool, ip: str | None) -> AsyncIterator[Store]:
        async with unit_of_work(self.engine, readonly=readonly) as conn:
            yield Store(conn, digester=self.digester, ip=ip, clients=self.clients,
                        client_grants=self.client_grants, category_counts=self.category_counts)

    async def dispose(self) -> None:
        if self._sqlite is not None:
            self._sqlite.dispose()
        await dispose(self.engine)
