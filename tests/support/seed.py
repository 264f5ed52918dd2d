"""Create accounts and applications straight in the server's database (the CLI's own code path)."""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass

from openplate.accounts import applications
from openplate.accounts.service import prepare_account
from openplate.oauth.tokens import Digester
from openplate.settings import Settings
from openplate.store.engine import create_engine
from openplate.store.unit import Database
from tests.support.server import LiveServer

PASSWORD = "correct horse battery staple"
_counter = itertools.count(1)


@dataclass(frozen=True)
class Account:
    id: int
    username: str
    email: str
    password: str = PASSWORD


@dataclass(frozen=True)
class App:
    client_id: str
    client_secret: str | None
    redirect_uris: tuple[str, ...]
    name: str


class Seeder:
    def __init__(self, server: LiveServer) -> None:
        self.settings = Settings(
            database_url=server.database_url, secret_key=server.env["OPENPLATE_SECRET_KEY"]
        )
        self.digester = Digester(server.env["OPENPLATE_SECRET_KEY"].encode())

    def _run(self, work):  # type: ignore[no-untyped-def]
        async def main():  # type: ignore[no-untyped-def]
            db = Database(create_engine(self.settings), self.digester)
            try:
                return await work(db)
            finally:
                await db.dispose()

        return asyncio.run(main())

    def user(self, prefix: str = "user") -> Account:
        n = next(_counter)
        username = f"{prefix}{n}x{int(time.time() * 1000) % 100000:05d}"
        email = f"{username}@example.org"

        async def work(db: Database) -> Account:
            account = await prepare_account(username=username, email=email, password=PASSWORD)
            async with db.transaction() as store:
                user = await store.users.create(
                    username=account.username, email=account.email,
                    password_hash=account.password_hash, now=int(time.time()),
                )
            return Account(user.id, user.username, user.email)

        result: Account = self._run(work)
        return result

    def app(
        self, owner: Account, *, redirect_uris: tuple[str, ...] = ("http://localhost:13524/",),
        public: bool = False, name: str = "Mind Mapper", by_operator: bool = True,
        grant_types: tuple[str, ...] | None = None,
        post_logout_redirect_uris: tuple[str, ...] = (), backchannel_logout_uri: str | None = None,
        backchannel_logout_session_required: bool = False,
    ) -> App:
        """An app, registered as the operator's `openplate app create` does (``by_operator``:
        trusted for automatic error redirects), or as a developer on the site does."""

        async def work(db: Database) -> App:
            async with db.transaction() as store:
                client, secret = await applications.register(
                    store, self.digester, owner_id=owner.id, name=name,
                    redirect_uris=list(redirect_uris), public=public, now=int(time.time()),
                    by_operator=by_operator,
                    grant_types=list(grant_types) if grant_types is not None else None,
                )
                if post_logout_redirect_uris or backchannel_logout_uri:
                    # As the application page saves them (its checks are the tests' business).
                    await store.applications.set_logout(
                        pk=client.pk, post_logout_redirect_uris=list(post_logout_redirect_uris),
                        backchannel_logout_uri=backchannel_logout_uri,
                        backchannel_logout_session_required=backchannel_logout_session_required)
            return App(client.client_id, secret, client.redirect_uris, client.name)

        result: App = self._run(work)
        return result

    def self_registered(self, metadata: dict[str, object], *, kind: str = "open") -> App:
        """An app that registered itself (RFC 7591, as /oauth/register stores it), owned by
        nobody; ``kind`` is how ("open" or "token")."""
        from openplate.accounts import self_registration

        async def work(db: Database) -> App:
            async with db.transaction() as store:
                made = await self_registration.register_client(
                    store, self.digester, metadata, owner_id=None, kind=kind,
                    now=int(time.time()))
            client = made.client
            return App(client.client_id, made.client_secret, client.redirect_uris, client.name)

        result: App = self._run(work)
        return result

    def execute(self, sql: str, **params: object) -> None:
        """Run one SQL statement on the server's database (to age a record, say)."""
        from sqlalchemy import text

        async def work(db: Database) -> None:
            async with db.transaction() as store:
                await store.conn.execute(text(sql), params)

        self._run(work)

    def scalar(self, sql: str, **params: object) -> object:
        from sqlalchemy import text

        async def work(db: Database) -> object:
            async with db.transaction(readonly=True) as store:
                return (await store.conn.execute(text(sql), params)).scalar()

        return self._run(work)

    def dump(self) -> bytes:
        """Every row of every table, as text: what rests in the database, whatever the engine."""
        from sqlalchemy import select

        from openplate.store.tables import metadata

        async def work(db: Database) -> bytes:
            parts: list[str] = []
            async with db.transaction(readonly=True) as store:
                for table in metadata.sorted_tables:
                    for row in await store.conn.execute(select(table)):
                        parts.append(repr(tuple(row)))
            return "\n".join(parts).encode()

        result: bytes = self._run(work)
        return result

    def at_rest(self, server: LiveServer) -> bytes:
        """The database's bytes at rest: the SQLite files themselves (main file and WAL), or a
        dump of every row."""
        if server.database_url.startswith("sqlite"):
            folder = server.database_url.removeprefix("sqlite:///").rsplit("/", 1)[0]
            from pathlib import Path

            return b"".join(p.read_bytes() for p in Path(folder).glob("openplate.db*"))
        return self.dump()
