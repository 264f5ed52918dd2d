"""The security log's append-only triggers: the database itself refuses UPDATE and DELETE.

Used by migration 0002, which added them, and by a new database's schema (migrate.py), so both
ways of reaching the current schema create the very same triggers. Changing these statements
changes no existing database: that takes a migration of its own.
"""

from __future__ import annotations


def create_statements(dialect: str) -> list[str]:
    if dialect == "sqlite":
        return [
            f"CREATE TRIGGER security_events_no_{action.lower()} BEFORE {action} "
            "ON security_events BEGIN SELECT RAISE(ABORT, 'security_events is append-only'); END"
            for action in ("UPDATE", "DELETE")
        ]
    return [
        "CREATE FUNCTION security_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION 'security_events is append-only'; END $$",
        "CREATE TRIGGER security_events_append_only BEFORE UPDATE OR DELETE ON security_events "
        "FOR EACH ROW EXECUTE FUNCTION security_events_append_only()",
    ]


def drop_statements(dialect: str) -> list[str]:
    if dialect == "sqlite":
        return ["DROP TRIGGER IF EXISTS security_events_no_update",
                "DROP TRIGGER IF EXISTS security_events_no_delete"]
    return ["DROP TRIGGER IF EXISTS security_events_append_only ON security_events",
            "DROP FUNCTION IF EXISTS security_events_append_only()"]
