"""SQLite's full-text index of the library: an FTS5 table over ``map_search``, kept in step by
triggers.

``map_search_fts`` is an external-content FTS5 table: it indexes the key columns of
``map_search`` (rowid = ``map_id``) and stores no copy of them. Three triggers keep it in step
with every insert, update and delete of a ``map_search`` row, those made by the foreign key's
cascade included (a map deleted with its owner's account). The keys are already folded and
spelt in ``[a-z0-9]`` (store/map_search.py), so the ``unicode61`` tokenizer finds exactly the
words PostgreSQL's ``tsvector`` holds.

PostgreSQL needs nothing here: its tsvector columns of ``map_search`` and their GIN indexes are
in tables.py.

Used by migration 0014 and by a new database's schema (migrate.py), so both ways of reaching the
current schema create the very same table and triggers (tests/store/test_new_schema.py).
"""

from __future__ import annotations

#: The FTS5 table, and the tables SQLite makes to hold its index.
FTS_TABLE = "map_search_fts"
SQLITE_TABLES = (FTS_TABLE, *(f"{FTS_TABLE}_{part}" for part in ("data", "idx", "docsize", "config")))

# Written out in full (no formatting), as the migration that first ran them did.
_CREATE = [
    "CREATE VIRTUAL TABLE map_search_fts USING fts5(title_keys, description_keys, topic_keys, "
    "content='map_search', content_rowid='map_id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER map_search_fts_insert AFTER INSERT ON map_search BEGIN "
    "INSERT INTO map_search_fts(rowid, title_keys, description_keys, topic_keys) "
    "VALUES (new.map_id, new.title_keys, new.description_keys, new.topic_keys); END",
    "CREATE TRIGGER map_search_fts_delete AFTER DELETE ON map_search BEGIN "
    "INSERT INTO map_search_fts(map_search_fts, rowid, title_keys, description_keys, topic_keys) "
    "VALUES ('delete', old.map_id, old.title_keys, old.description_keys, old.topic_keys); END",
    "CREATE TRIGGER map_search_fts_update AFTER UPDATE ON map_search BEGIN "
    "INSERT INTO map_search_fts(map_search_fts, rowid, title_keys, description_keys, topic_keys) "
    "VALUES ('delete', old.map_id, old.title_keys, old.description_keys, old.topic_keys); "
    "INSERT INTO map_search_fts(rowid, title_keys, description_keys, topic_keys) "
    "VALUES (new.map_id, new.title_keys, new.description_keys, new.topic_keys); END",
]


def create_statements(dialect: str) -> list[str]:
    """The full-text index of a new database (or one migrated to 0014)."""
    return list(_CREATE) if dialect == "sqlite" else []


def drop_statements(dialect: str) -> list[str]:
    if dialect != "sqlite":
        return []
    return [f"DROP TRIGGER IF EXISTS map_search_fts_{event}" for event in
            ("insert", "delete", "update")] + [f"DROP TABLE IF EXISTS {FTS_TABLE}"]
