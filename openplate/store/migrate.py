"""Bringing a database's schema up to date with Alembic (``openplate migrate``, and ``serve``).

``serve`` on a database with no tables at all (a first start) creates the current schema
straight from ``tables.metadata`` in one transaction, adds the security log's triggers and the
library's full-text index (search_schema.py), and
records the newest revision, as Alembic recommends for a new database: Alembic's own start-up
(importing it, reading every revision, replaying each one) was about 150 ms of a first start.
tests/store/test_new_schema.py checks, on SQLite and PostgreSQL, that this schema is the very
one the migrations build. Any other database goes through the migrations.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    inspect,
    text,
)
from sqlalchemy.exc import DBAPIError

from openplate.settings import Settings
from openplate.store import append_only, search_schema
from openplate.store.engine import AnyEngine, create_engine, dispose, unit_of_work
from openplate.store.tables import metadata

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
_REVISION_FILE = re.compile(r"(\d{4})_\w+\.py")
#: Alembic's own table of the applied revision, as Alembic creates it.
_VERSION_TABLE = Table(
    "alembic_version", MetaData(), Column("version_num", String(32), nullable=False),
    PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
)
#: Serialises creating the schema between nodes that start together on a new PostgreSQL database.
_CREATE_LOCK = 0x4F50_4C54


def head_revision() -> str:
    """The newest revision id; our revision files are named ``NNNN_what.py`` with id ``NNNN``."""
    ids = [m.group(1) for p in (MIGRATIONS / "versions").iterdir()
           if (m := _REVISION_FILE.fullmatch(p.name))]
    return max(ids)


def alembic_config(settings: Settings) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["settings"] = settings
    return config


async def current_revision(engine: AnyEngine) -> str | None:
    """The revision the database is at; None when it has no ``alembic_version`` table (no
    Openplate schema yet) or cannot be read."""
    try:
        async with unit_of_work(engine, readonly=True, lock=asyncio.Lock()) as conn:
            row = (await conn.execute(text("SELECT version_num FROM alembic_version"))).first()
            return str(row[0]) if row else None
    except DBAPIError:
        return None  # no alembic_version table yet


def _create_if_empty(conn: Connection) -> bool:
    """Create the current schema if the database has no tables; False (and nothing done) if it
    has any. Runs inside the caller's transaction, so the schema appears whole or not at all."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CREATE_LOCK})
    if inspect(conn).get_table_names():
        return False
    metadata.create_all(conn, checkfirst=False)
    for statement in (*append_only.create_statements(conn.dialect.name),
                      *search_schema.create_statements(conn.dialect.name)):
        conn.exec_driver_sql(statement)
    _VERSION_TABLE.create(conn)
    conn.execute(_VERSION_TABLE.insert().values(version_num=head_revision()))
    return True


async def _create_new(engine: AnyEngine) -> bool:
    """The schema of a new database, without Alembic: see the module's docstring."""
    if isinstance(engine, Engine):
        with engine.begin() as sync_conn:  # BEGIN IMMEDIATE: one writer, so no race
            return _create_if_empty(sync_conn)
    async with engine.begin() as conn:
        return await conn.run_sync(_create_if_empty)


def upgrade(settings: Settings, revision: str = "head") -> None:
    """Apply every migration up to ``revision``. Safe to run again: it is a no-op when current."""
    from alembic import command

    command.upgrade(alembic_config(settings), revision)


async def current_without_alembic(engine: AnyEngine) -> bool:
    """Whether the database is current without running Alembic: it was (one query), or it had
    no tables and now has the current schema. False: the migrations must run (``upgrade``).
    ``serve`` calls this on the engine it then checks the signing keys with."""
    revision = await current_revision(engine)
    if revision == head_revision():
        return True
    return revision is None and await _create_new(engine)


def ensure_current(settings: Settings) -> None:
    """Migrate only if needed: a current database costs one query, not an Alembic start-up, and
    a new one gets the current schema at once."""

    async def check() -> bool:
        engine = create_engine(settings)
        try:
            return await current_without_alembic(engine)
        finally:
            await dispose(engine)

    if not asyncio.run(check()):
        upgrade(settings)
