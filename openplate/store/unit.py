"""The repositories of one unit of work, all bound to one connection and one transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import cached_property

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from openplate.store.account_repos import SqlAuthRequests, SqlSessions, SqlUsers
from openplate.store.app_repos import SqlApplications
from openplate.store.engine import unit_of_work
from openplate.store.map_repos import SqlMaps
from openplate.store.oauth_repos import SqlClients, SqlCodes, SqlGrants, SqlTokens


class Store:
    """Implements ``openplate.oauth.ports.OAuthStore`` and the site's other repositories."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    @cached_property
    def clients(self) -> SqlClients:
        return SqlClients(self.conn)

    @cached_property
    def grants(self) -> SqlGrants:
        return SqlGrants(self.conn)

    @cached_property
    def codes(self) -> SqlCodes:
        return SqlCodes(self.conn)

    @cached_property
    def tokens(self) -> SqlTokens:
        return SqlTokens(self.conn)

    @cached_property
    def users(self) -> SqlUsers:
        return SqlUsers(self.conn)

    @cached_property
    def sessions(self) -> SqlSessions:
        return SqlSessions(self.conn)

    @cached_property
    def auth_requests(self) -> SqlAuthRequests:
        return SqlAuthRequests(self.conn)

    @cached_property
    def applications(self) -> SqlApplications:
        return SqlApplications(self.conn)

    @cached_property
    def maps(self) -> SqlMaps:
        return SqlMaps(self.conn)


class Database:
    """The engine, and the one way to open a unit of work on it."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    @asynccontextmanager
    async def transaction(self, *, readonly: bool = False) -> AsyncIterator[Store]:
        """Commit when the block ends normally; roll back if it raises."""
        async with unit_of_work(self.engine, readonly=readonly) as conn:
            yield Store(conn)

    async def dispose(self) -> None:
        await self.engine.dispose()
