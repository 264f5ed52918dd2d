"""The security log's append-only triggers: the database itself refuses UPDATE and DELETE.

The one exception is the retention purge (purge_repo.py). A DELETE of a row goes through only
if the row is older than the bound in ``security_log_purge``, and that table is empty outside
the purge's own transaction: the purge writes the bound, deletes what is older, and empties the
table again before it commits, so no other transaction ever sees a bound (on SQLite writers
take turns; on PostgreSQL the row is uncommitted, invisible to others, and its key makes two
purges wait for each other). No repository writes that table, so the application cannot delete
an event by accident, and no row younger than the bound can go even through the purge. UPDATE
is always refused.

Used by the migrations that set the triggers (0002 first, 0008 the purge's bound) and by a new
database's schema (migrate.py), so both ways of reaching the current schema create the very
same triggers. Changing these statements changes no existing database: that takes a migration
of its own; the statements of earlier migrations stay as they were (``*_0002``).
"""

from __future__ import annotations

_REFUSE = "SELECT RAISE(ABORT, 'security_events is append-only')"
#: The purge's bound, or 0 (nothing may go) when the purge is not running.
_BOUND = "COALESCE((SELECT delete_before FROM security_log_purge WHERE id = 1), 0)"


def create_statements(dialect: str) -> list[str]:
    """The current triggers."""
    if dialect == "sqlite":
        return [
            f"CREATE TRIGGER security_events_no_update BEFORE UPDATE ON security_events "
            f"BEGIN {_REFUSE}; END",
            f"CREATE TRIGGER security_events_no_delete BEFORE DELETE ON security_events "
            f"WHEN OLD.at >= {_BOUND} BEGIN {_REFUSE}; END",
        ]
    return [
        _postgresql_function(
            f"IF TG_OP = 'DELETE' AND OLD.at < {_BOUND} THEN RETURN OLD; END IF; "
            "RAISE EXCEPTION 'security_events is append-only';"),
        _POSTGRESQL_TRIGGER,
    ]


def replace_statements(dialect: str) -> list[str]:
    """From migration 0002's triggers to the current ones, on a database that has them."""
    if dialect == "sqlite":
        return ["DROP TRIGGER security_events_no_delete", create_statements(dialect)[1]]
    return [create_statements(dialect)[0].replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION")]


def create_statements_0002(dialect: str) -> list[str]:
    """Migration 0002's triggers, as it created them (no purge)."""
    if dialect == "sqlite":
        return [
            f"CREATE TRIGGER security_events_no_{action.lower()} BEFORE {action} "
            f"ON security_events BEGIN {_REFUSE}; END"
            for action in ("UPDATE", "DELETE")
        ]
    return [_postgresql_function("RAISE EXCEPTION 'security_events is append-only';"),
            _POSTGRESQL_TRIGGER]


def _postgresql_function(body: str) -> str:
    return ("CREATE FUNCTION security_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN {body} END $$")


_POSTGRESQL_TRIGGER = (
    "CREATE TRIGGER security_events_append_only BEFORE UPDATE OR DELETE ON security_events "
    "FOR EACH ROW EXECUTE FUNCTION security_events_append_only()")


def drop_statements(dialect: str) -> list[str]:
    if dialect == "sqlite":
        return ["DROP TRIGGER IF EXISTS security_events_no_update",
                "DROP TRIGGER IF EXISTS security_events_no_delete"]
    return ["DROP TRIGGER IF EXISTS security_events_append_only ON security_events",
            "DROP FUNCTION IF EXISTS security_events_append_only()"]
