"""``openplate user list|show|set-password|disable|enable|delete``: an operator's account tools.

USER is a username or an e-mail address. None of these creates a database or a key file: the
account must exist already. Every change is written to the security log (lifecycle.py).
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import TYPE_CHECKING, Any

from openplate.cli.common import (
    CommandError,
    add_database_flag,
    add_json_flag,
    existing,
    print_fields,
    print_json,
    print_table,
    run,
    settings_from,
    timestamp,
)
from openplate.cli.paging import add_paging_flags, page_of, summary

if TYPE_CHECKING:
    from openplate.store.account_repos import UserRecord
    from openplate.store.unit import Database, Store


def _user_json(user: UserRecord) -> dict[str, object]:
    return {"id": user.id, "username": user.username, "email": user.email,
            "created_at": user.created_at, "disabled_at": user.disabled_at}


async def _find(store: Store, login: str) -> UserRecord:
    user = await store.users.by_login(login) if 0 < len(login.strip()) <= 254 else None
    if user is None:
        raise CommandError(f"no user with username or e-mail '{login[:254]}'")
    return user


def cmd_user_list(args: argparse.Namespace) -> None:
    settings = existing(settings_from(args))
    page = page_of(args)

    async def work(db: Database) -> tuple[list[UserRecord], int]:
        async with db.transaction(readonly=True) as store:
            found = await store.admin.users_page(search=page.search, limit=page.limit,
                                                 offset=page.offset)
            return found, await store.admin.count_users(search=page.search)

    found, total = run(settings, work, readonly_checks=True)
    if args.json:
        print_json({"total": total, "limit": page.limit, "offset": page.offset,
                    "users": [_user_json(u) for u in found]})
        return
    if found:
        print_table(["id", "username", "email", "created", "disabled"], (
            [u.id, u.username, u.email, timestamp(u.created_at),
             timestamp(u.disabled_at) if u.disabled_at else "no"]
            for u in found))
    print(summary(page, len(found), total, "users"))


def cmd_user_show(args: argparse.Namespace) -> None:
    settings = existing(settings_from(args))

    async def work(db: Database) -> dict[str, object]:
        async with db.transaction(readonly=True) as store:
            user = await _find(store, args.user)
            facts = await store.admin.user_facts(user_id=user.id, now=int(time.time()))
        return {**_user_json(user), "apps": facts.apps, "maps": facts.maps,
                "allowed_apps": facts.allowed_apps, "active_grants": facts.active_grants,
                "sessions": facts.sessions, "last_signin_at": facts.last_signin}

    shown = run(settings, work, readonly_checks=True)
    if args.json:
        print_json(shown)
        return
    print_fields({
        "id": shown["id"], "username": shown["username"], "email": shown["email"],
        "created": timestamp(shown["created_at"]),
        "disabled": timestamp(shown["disabled_at"]) if shown["disabled_at"] else "no",
        "applications": shown["apps"], "maps": shown["maps"],
        "apps allowed": shown["allowed_apps"], "active grants": shown["active_grants"],
        "signed-in browsers": shown["sessions"],
        "last sign-in": timestamp(shown["last_signin_at"]) if shown["last_signin_at"]
        else "unknown (none in the security log)",
    })


def cmd_user_set_password(args: argparse.Namespace) -> None:
    from openplate.accounts import lifecycle
    from openplate.accounts.passwords import hash_password
    from openplate.accounts.service import run_hash
    from openplate.accounts.validation import InvalidAccountInput, check_password

    settings = existing(settings_from(args))
    if not args.password_stdin:
        raise CommandError("give the new password on standard input with --password-stdin")
    try:
        password = check_password(sys.stdin.readline().rstrip("\r\n"))
    except InvalidAccountInput as error:
        raise CommandError(f"invalid password: {error}") from None

    async def work(db: Database) -> dict[str, object]:
        async with db.transaction(readonly=True) as store:
            await _find(store, args.user)
        password_hash = await run_hash(hash_password, password)  # never inside a transaction
        async with db.transaction() as store:
            user = await _find(store, args.user)
            await lifecycle.set_password(store, user, password_hash, now=int(time.time()),
                                         by=lifecycle.BY_OPERATOR, base_url=settings.base_url)
        return {"id": user.id, "username": user.username, "password_changed": True}

    result = run(settings, work, readonly_checks=True)
    if args.json:
        print_json(result)
    else:
        print(f"New password set for {result['username']}: every browser is signed out and "
              "every application's access has ended.")


def _switch(args: argparse.Namespace, *, disable: bool) -> None:
    from openplate.accounts import lifecycle

    settings = existing(settings_from(args))

    async def work(db: Database) -> tuple[UserRecord, bool]:
        async with db.transaction() as store:
            user = await _find(store, args.user)
            change = lifecycle.disable_user if disable else lifecycle.enable_user
            return user, await change(store, user, now=int(time.time()))

    user, changed = run(settings, work, readonly_checks=True)
    if args.json:
        print_json({"id": user.id, "username": user.username, "disabled": disable,
                    "changed": changed})
    elif not changed:
        print(f"{user.username} was already {'disabled' if disable else 'enabled'}; nothing changed.")
    elif disable:
        print(f"Disabled {user.username}: they cannot sign in, every browser of theirs is signed "
              "out and every token of theirs has stopped working.")
    else:
        print(f"Enabled {user.username}: they can sign in again (tokens ended by the disabling "
              "stay ended).")


def cmd_user_disable(args: argparse.Namespace) -> None:
    _switch(args, disable=True)


def cmd_user_enable(args: argparse.Namespace) -> None:
    _switch(args, disable=False)


def cmd_user_delete(args: argparse.Namespace) -> None:
    from openplate.accounts import lifecycle

    settings = existing(settings_from(args))

    async def work(db: Database) -> dict[str, object]:
        async with db.transaction() as store:
            user = await _find(store, args.user)
            if not args.yes:
                preview = await store.admin.deletion_preview(user_id=user.id)
                raise CommandError(
                    f"not deleted: this deletes {user.username} with their "
                    f"{len(preview.app_names)} applications and {len(preview.map_titles)} maps, "
                    "for good; add --yes to do it")
            gone = await lifecycle.delete_account(store, user, now=int(time.time()),
                                                  by=lifecycle.BY_OPERATOR)
        return {"id": user.id, "username": user.username, "deleted": True,
                "apps": list(gone.app_names), "maps": list(gone.map_titles),
                "allowed_apps": gone.allowed_apps}

    result = run(settings, work, readonly_checks=True)
    if args.json:
        print_json(result)
        return
    apps, maps = result["apps"], result["maps"]
    assert isinstance(apps, list) and isinstance(maps, list)
    print(f"Deleted {result['username']} with {len(apps)} applications and {len(maps)} maps; "
          "every session and token of theirs has ended.")


def register(user: Any) -> None:
    """The operator's actions, beside ``user create`` (``user`` is its sub-command set)."""

    def action(name: str, help_text: str, func: Any, *, takes_user: bool = True,
               json_help: str = "print JSON") -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = user.add_parser(name, help=help_text)
        if takes_user:
            parser.add_argument("user", metavar="USER", help="username or e-mail address")
        add_database_flag(parser)
        add_json_flag(parser, help_text=json_help)
        parser.set_defaults(func=func)
        return parser

    listing = action("list", "list accounts, oldest first", cmd_user_list, takes_user=False,
                     json_help='print {"total", "limit", "offset", "users": [...]} as JSON')
    add_paging_flags(listing, matches="username or e-mail")
    action("show", "an account's facts: created, disabled, applications, maps, grants",
           cmd_user_show)
    password = action("set-password", "set a new password (ends every session and grant)",
                      cmd_user_set_password)
    password.add_argument("--password-stdin", action="store_true",
                          help="read the password from the first line of standard input")
    action("disable", "stop the account signing in; end its sessions and tokens",
           cmd_user_disable)
    action("enable", "let a disabled account sign in again", cmd_user_enable)
    delete = action("delete", "delete the account with its applications and maps",
                    cmd_user_delete)
    delete.add_argument("--yes", action="store_true", help="really delete (it cannot be undone)")
