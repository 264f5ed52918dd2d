"""The store on a real SQLite file brought to the current schema, for tests that drive the store
or the protocol core directly with a clock they set (the store takes ``now`` from its callers)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text

from openplate.oauth.tokens import Digester
from openplate.settings import Settings
from openplate.store.engine import create_engine
from openplate.store.migrate import upgrade
from openplate.store.unit import Database


@contextmanager
def fresh_database(path: Path, digester: Digester) -> Iterator[Database]:
    settings = Settings(database_url=f"sqlite:///{path}", secret_key="k" * 48)
    upgrade(settings)
    db = Database(create_engine(settings), digester)
    try:
        yield db
    finally:
        asyncio.run(db.dispose())


def seed_owner_and_clients(db: Database, grant_types: dict[int, str]) -> None:
    """User 1, and a client per primary key (``opc_<pk>``, owned by user 1) with its grant types."""
    async def work() -> None:
        async with db.transaction() as store:
            await store.conn.execute(text(
                "INSERT INTO users (id, username, username_key, email, email_key, password_hash,"
                " created_at, password_changed_at) VALUES (1, 'o', 'o', 'o@x', 'o@x', 'h', 0, 0)"))
            for pk, types in grant_types.items():
                await store.conn.execute(text(
                    "INSERT INTO clients (id, client_id, owner_id, name, redirect_uris, require_pkce,"
                    " grant_types, created_at, secret_rotated_at)"
                    " VALUES (:pk, :cid, 1, 'a', '[]', 0, :types, 0, 0)"),
                    {"pk": pk, "cid": f"opc_{pk}", "types": types})

    asyncio.run(work())
