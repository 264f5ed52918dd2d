"""``openplate mail list`` and ``openplate mail retry``: the mail queue, for operators.

Neither prints a message's body (it may hold a one-time link): only who, what kind, the
subject, its state and its attempts.
"""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING, Any

from openplate.cli.common import (
    CommandError,
    add_database_flag,
    add_json_flag,
    bounded_int,
    existing,
    print_json,
    print_table,
    run,
    settings_from,
    timestamp,
)

if TYPE_CHECKING:
    from openplate.store.unit import Database

STATES = ("queued", "failed", "sent")


def cmd_mail_list(args: argparse.Namespace) -> None:
    settings = existing(settings_from(args))
    states = tuple(args.state) if args.state else STATES

    async def work(db: Database) -> list[dict[str, object]]:
        async with db.transaction(readonly=True) as store:
            messages = await store.outbox.listing(states=states, limit=args.limit)
        return [message.to_json() for message in messages]

    messages = run(settings, work, readonly_checks=True)
    if args.json:
        print_json(messages)
        return
    if not messages:
        print("no mail")
        return
    print_table(
        ["ID", "STATE", "KIND", "TO", "ATTEMPTS", "CREATED", "NEXT ATTEMPT / SENT", "LAST ERROR"],
        ([m["id"], m["state"], m["kind"], m["recipient"], m["attempts"], timestamp(m["created_at"]),
          timestamp(m["sent_at"] if m["sent_at"] is not None else m["next_attempt_at"]),
          m["last_error"]] for m in messages))


def cmd_mail_retry(args: argparse.Namespace) -> None:
    if not args.ids and not args.all:
        raise CommandError("name the messages to retry (their ids, see openplate mail list) "
                           "or give --all")
    if args.ids and args.all:
        raise CommandError("give message ids or --all, not both")
    settings = existing(settings_from(args))

    async def work(db: Database) -> list[int]:
        async with db.transaction() as store:
            return await store.outbox.retry(now=int(time.time()), ids=args.ids or None)

    retried = run(settings, work, readonly_checks=True)
    missing = sorted(set(args.ids or []) - set(retried))
    if args.json:
        print_json({"retried": retried, "not_waiting": missing})
    else:
        print(f"{len(retried)} message(s) due now: the server sends them within "
              f"{settings.mail_poll_interval:g} s" if retried else "no message waiting")
    if missing:
        raise CommandError("no unsent message with id " + ", ".join(map(str, missing)))


def register(commands: Any) -> None:
    mail = commands.add_parser("mail", help="the mail queue").add_subparsers(
        dest="mail_command", required=True, metavar="ACTION")
    listing = mail.add_parser("list", help="list queued, failed and sent mail, newest first")
    add_database_flag(listing)
    listing.add_argument("--state", action="append", choices=STATES,
                         help="only mail in this state (repeatable)")
    listing.add_argument("--limit", type=bounded_int(1, 100_000), default=100, metavar="N",
                         help="at most this many, 1-100000 (default 100)")
    add_json_flag(listing, help_text="print a JSON array")
    listing.set_defaults(func=cmd_mail_list)

    retry = mail.add_parser("retry", help="make waiting or failed mail due now")
    add_database_flag(retry)
    retry.add_argument("ids", nargs="*", type=bounded_int(1, 2**62), metavar="ID",
                       help="the messages to retry (see openplate mail list)")
    retry.add_argument("--all", action="store_true", help="every message not yet sent")
    add_json_flag(retry, help_text="print the ids made due as JSON")
    retry.set_defaults(func=cmd_mail_retry)
