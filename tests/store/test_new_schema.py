"""A new database gets, without Alembic, the very schema the migrations build.

``serve`` creates a new database's schema from ``tables.metadata`` (see store/migrate.py); any
other database is migrated. Both roads must end at the same schema, on SQLite and on PostgreSQL:
the same tables, columns, types, defaults, keys, indexes and triggers, at the same revision. A
migration missing for a change to the tables fails here too (Alembic's own comparison).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, Engine, inspect, text

from openplate.settings import Settings
from openplate.store.engine import create_engine, dispose
from openplate.store.migrate import ensure_current, head_revision, upgrade
from openplate.store.search_schema import SQLITE_TABLES
from openplate.store.tables import metadata
from tests.support.postgres import create_database, drop_database


def _describe(conn: Connection) -> dict[str, Any]:
    """Everything about a schema that a query or a constraint can tell apart (not column order)."""
    insp = inspect(conn)
    tables: dict[str, Any] = {}
    for name in insp.get_table_names():
        tables[name] = {
            "columns": sorted(
                (c["name"], str(c["type"]), c["nullable"], str(c.get("default")))
                for c in insp.get_columns(name)),
            "primary key": insp.get_pk_constraint(name),
            "indexes": sorted(
                (i["name"], tuple(i["column_names"]), bool(i["unique"]))
                for i in insp.get_indexes(name)),
            "unique": sorted(
                (u["name"], tuple(u["column_names"])) for u in insp.get_unique_constraints(name)),
            "foreign keys": sorted(
                (f["name"], tuple(f["constrained_columns"]), f["referred_table"],
                 tuple(f["referred_columns"]), str(sorted(f.get("options", {}).items())))
                for f in insp.get_foreign_keys(name)),
        }
    if conn.dialect.name == "sqlite":
        triggers = sorted(conn.execute(text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")).all())
        functions: list[Any] = []
    else:
        triggers = sorted(conn.execute(text(
            "SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal")).all())
        functions = sorted(conn.execute(text(
            "SELECT proname, prosrc FROM pg_proc JOIN pg_namespace n ON n.oid = pronamespace"
            " WHERE nspname = 'public'")).all())
    return {
        "tables": tables,
        "triggers": [tuple(t) for t in triggers],
        "functions": [tuple(f) for f in functions],
        "revision": conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one(),
        # SQLite's full-text index (search_schema.py) is made by statements, not tables.py:
        # both roads must still make it alike (the tables and triggers above).
        "differences from the tables": [str(d) for d in compare_metadata(
            MigrationContext.configure(conn, opts={"include_name": _in_tables_py}), metadata)],
    }


def _in_tables_py(name: str | None, kind: str, _parents: object) -> bool:
    return not (kind == "table" and name in SQLITE_TABLES)


def _inspect(settings: Settings, look: Callable[[Connection], Any]) -> Any:
    async def work() -> Any:
        engine = create_engine(settings)
        try:
            if isinstance(engine, Engine):
                with engine.connect() as conn:
                    return look(conn)
            async with engine.connect() as async_conn:
                return await async_conn.run_sync(look)
        finally:
            await dispose(engine)
    return asyncio.run(work())


def _settings(url: str) -> Settings:
    return Settings(database_url=url, secret_key="k" * 48)


@pytest.fixture(params=["sqlite", "postgresql"])
def two_databases(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Settings, Settings]]:
    if request.param == "sqlite":
        yield (_settings(f"sqlite:///{tmp_path / 'migrated.db'}"),
               _settings(f"sqlite:///{tmp_path / 'new.db'}"))
        return
    migrated, new = create_database(), create_database()
    try:
        yield _settings(migrated), _settings(new)
    finally:
        drop_database(migrated)
        drop_database(new)


def test_a_new_database_gets_the_schema_the_migrations_build(
    two_databases: tuple[Settings, Settings],
) -> None:
    migrated, new = two_databases
    upgrade(migrated)  # every migration, in order, through Alembic
    ensure_current(new)  # what `serve` does on a database with no tables
    built, created = _inspect(migrated, _describe), _inspect(new, _describe)
    assert created["revision"] == built["revision"] == head_revision()
    assert built["differences from the tables"] == [], "a change to tables.py has no migration"
    assert created == built


def test_a_new_database_refuses_to_rewrite_its_security_log(tmp_path: Path) -> None:
    settings = _settings(f"sqlite:///{tmp_path / 'new.db'}")
    ensure_current(settings)
    with sqlite3.connect(tmp_path / "new.db") as conn:
        conn.execute("INSERT INTO security_events (at, kind, detail) VALUES (1, 'x', '{}')")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("DELETE FROM security_events")


def test_a_migrated_database_still_refuses_to_rewrite_its_security_log(tmp_path: Path) -> None:
    """Migration 0016 rebuilds SQLite's security_events (a wider client_id): its append-only
    triggers are made again."""
    settings = _settings(f"sqlite:///{tmp_path / 'migrated.db'}")
    upgrade(settings)
    with sqlite3.connect(tmp_path / "migrated.db") as conn:
        conn.execute("INSERT INTO security_events (at, kind, detail, client_id) "
                     "VALUES (1, 'x', '{}', ?)", ("https://app.example/" + "c" * 900,))
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("DELETE FROM security_events")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("UPDATE security_events SET kind = 'y'")


def test_a_database_with_tables_of_its_own_is_migrated_not_created_over(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE someone_elses (id INTEGER PRIMARY KEY)")
    settings = _settings(f"sqlite:///{path}")
    ensure_current(settings)  # through the migrations, which leave the other table alone
    tables = _inspect(settings, lambda conn: sorted(inspect(conn).get_table_names()))
    assert "someone_elses" in tables and "users" in tables
    assert _inspect(settings, lambda conn: conn.execute(
        text("SELECT version_num FROM alembic_version")).scalar_one()) == head_revision()


def test_serve_twice_on_a_new_database_creates_it_once(tmp_path: Path) -> None:
    settings = _settings(f"sqlite:///{tmp_path / 'new.db'}")
    ensure_current(settings)
    ensure_current(settings)  # current: nothing to do, nothing created twice
    assert _inspect(settings, lambda conn: conn.execute(
        text("SELECT count(*) FROM alembic_version")).scalar_one()) == 1
