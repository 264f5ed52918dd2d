"""``openplate user create`` (the operator's other user commands are in user_admin.py).

It prints the account as JSON with or without ``--json``: the README has promised that output
(``{"id", "username", "email"}``) since the first release, and scripts read it.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import TYPE_CHECKING, Any

from openplate.cli import user_admin
from openplate.cli.common import (
    CommandError,
    add_database_flag,
    add_json_flag,
    for_writing,
    print_json,
    run,
    settings_from,
)

if TYPE_CHECKING:
    from openplate.store.unit import Database


def cmd_user_create(args: argparse.Namespace) -> None:
    from openplate.accounts.service import prepare_account
    from openplate.accounts.validation import InvalidAccountInput
    from openplate.store.account_repos import DuplicateUser

    settings = settings_from(args)
    if not args.password_stdin:
        raise CommandError("give the password on standard input with --password-stdin")
    password = sys.stdin.readline().rstrip("\r\n")
    settings = for_writing(settings)

    async def work(db: Database) -> dict[str, object]:
        account = await prepare_account(username=args.username, email=args.email, password=password)
        async with db.transaction() as store:
            user = await store.users.create(
                username=account.username, email=account.email,
                password_hash=account.password_hash, now=int(time.time()),
            )
        return user.public_json()

    try:
        print_json(run(settings, work))
    except InvalidAccountInput as error:
        raise CommandError(f"invalid {error.field}: {error}") from None
    except DuplicateUser as error:
        raise CommandError(f"a user with that {error.field} already exists") from None


def register(commands: Any) -> None:
    user = commands.add_parser("user", help="manage user accounts").add_subparsers(
        dest="user_command", required=True, metavar="ACTION")
    create = user.add_parser("create", help="create an account; prints it as JSON")
    add_database_flag(create)
    create.add_argument("--email", required=True)
    create.add_argument("--username", required=True)
    create.add_argument("--password-stdin", action="store_true",
                        help="read the password from the first line of standard input")
    add_json_flag(create, help_text="print JSON (the default for this command, kept for scripts)")
    create.set_defaults(func=cmd_user_create)
    user_admin.register(user)
