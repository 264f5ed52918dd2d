"""``openplate purge`` and ``openplate security-log``: both need a database that is already
there (neither makes one, nor a key file).

``security-log`` prints JSON lines with or without ``--json``: the README has promised JSON
lines since the first release, and scripts read them.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from openplate.cli.common import (
    CommandError,
    add_database_flag,
    add_json_flag,
    bounded_int,
    existing,
    print_fields,
    print_json,
    run,
    settings_from,
)

if TYPE_CHECKING:
    from openplate.store.unit import Database


def cmd_purge(args: argparse.Namespace) -> None:
    from openplate.housekeeping import purge, retention_of
    from openplate.store.purge_repo import enable_incremental_vacuum

    settings = existing(settings_from(args))
    path = settings.sqlite_path
    if path is not None and enable_incremental_vacuum(path):  # once, on a file from before it
        print("turned on incremental vacuum (the database file was rewritten once)",
              file=sys.stderr)

    async def work(db: Database) -> dict[str, int]:
        return await purge(db, batch=settings.purge_batch, retention=retention_of(settings))

    counts = run(settings, work, readonly_checks=True)
    if args.json:
        print_json(counts)
    else:
        print_fields({name.replace("_", " "): count for name, count in counts.items()})


def cmd_security_log(args: argparse.Namespace) -> None:
    settings = existing(settings_from(args))

    async def work(db: Database) -> list[dict[str, object]]:
        async with db.transaction(readonly=True) as store:
            user_id = None
            if args.user:
                user = await store.users.by_login(args.user)
                if user is None:
                    raise CommandError(f"no user with username or e-mail '{args.user}'")
                user_id = user.id
            events = await store.events.recent(user_id=user_id, limit=args.limit)
        return [event.to_json() for event in events]

    for event in run(settings, work, readonly_checks=True):
        print_json(event)


def register(commands: Any) -> None:
    purge = commands.add_parser(
        "purge", help="delete expired codes, tokens, sessions, parked requests and old "
                      "security-log events, and give the space back; prints counts")
    add_database_flag(purge)
    purge.add_argument("--batch", dest="purge_batch", metavar="N",
                       help="rows per delete statement, 1-100000 (env OPENPLATE_PURGE_BATCH; "
                            "default 1000)")
    for name, what in (
            ("security_log_routine_retention",
             "routine security-log events (tokens issued, refreshed, revoked; sign-outs)"),
            ("security_log_retention", "every other security-log event"),
            ("refresh_reuse_window", "rotated refresh tokens, for reuse detection"),
            ("mail_retention", "sent mail (its bodies are blanked once sent)")):
        purge.add_argument("--" + name.replace("_", "-"), dest=name, metavar="SECONDS",
                           help=f"how long to keep {what} (env OPENPLATE_{name.upper()})")
    add_json_flag(purge, help_text="print the counts as one JSON object")
    purge.set_defaults(func=cmd_purge)

    security = commands.add_parser(
        "security-log", help="print the append-only security log, newest first, as JSON lines")
    add_database_flag(security)
    security.add_argument("--user", help="only this user's events (username or e-mail)")
    security.add_argument("--limit", type=bounded_int(1, 1_000_000), default=100, metavar="N",
                          help="at most this many, 1-1000000 (default 100)")
    add_json_flag(security, help_text="print JSON lines (the default for this command, kept for "
                                      "scripts)")
    security.set_defaults(func=cmd_security_log)
