"""``openplate app list|show|disable|enable|delete``: an operator's application tools.

None of these creates a database or a key file. Every change is written to the security log
(accounts/lifecycle.py).
"""

from __future__ import annotations

import argparse
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
    from openplate.store.admin_repos import AppRecord
    from openplate.store.unit import Database, Store


def _app_json(app: AppRecord) -> dict[str, object]:
    return {"client_id": app.client_id, "name": app.name, "owner": app.owner,
            "public": app.public, "grant_types": list(app.grant_types),
            "redirect_uris": list(app.redirect_uris), "created_at": app.created_at,
            "disabled_at": app.disabled_at, "registration": app.registration,
            "require_pushed_authorization_requests": app.require_pushed_authorization_requests}


async def _find(store: Store, client_id: str) -> AppRecord:
    app = await store.admin.app(client_id=client_id) if 0 < len(client_id) <= 1000 else None
    if app is None:
        raise CommandError(f"no application with client ID '{client_id[:64]}'")
    return app


def cmd_app_list(args: argparse.Namespace) -> None:
    settings = existing(settings_from(args))
    page = page_of(args)

    async def work(db: Database) -> tuple[list[AppRecord], int]:
        async with db.transaction(readonly=True) as store:
            found = await store.admin.apps_page(search=page.search, limit=page.limit,
                                                offset=page.offset)
            return found, await store.admin.count_apps(search=page.search)

    found, total = run(settings, work, readonly_checks=True)
    if args.json:
        print_json({"total": total, "limit": page.limit, "offset": page.offset,
                    "apps": [_app_json(a) for a in found]})
        return
    if found:
        print_table(["client_id", "name", "owner", "created", "disabled"], (
            [a.client_id, a.name, a.owner or "(none: registered itself)", timestamp(a.created_at),
             timestamp(a.disabled_at) if a.disabled_at else "no"]
            for a in found))
    print(summary(page, len(found), total, "applications"))


def cmd_app_show(args: argparse.Namespace) -> None:
    settings = existing(settings_from(args))

    async def work(db: Database) -> dict[str, object]:
        async with db.transaction(readonly=True) as store:
            app = await _find(store, args.client_id)
            facts = await store.admin.app_facts(pk=app.pk, now=int(time.time()))
        return {**_app_json(app), "allowed_by": facts.allowed_by,
                "active_grants": facts.active_grants, "maps": facts.maps}

    shown = run(settings, work, readonly_checks=True)
    if args.json:
        print_json(shown)
        return
    print_fields({
        "client_id": shown["client_id"], "name": shown["name"],
        "owner": shown["owner"] or "(none: registered itself)",
        "registered": {"open": "by itself (open registration)",
                       "token": "by itself (with a registration token)"}.get(
                           str(shown["registration"]), "by a person or the operator"),
        "public": shown["public"], "grant types": shown["grant_types"],
        "redirect URIs": shown["redirect_uris"],
        "requires PAR": shown["require_pushed_authorization_requests"],
        "created": timestamp(shown["created_at"]),
        "disabled": timestamp(shown["disabled_at"]) if shown["disabled_at"] else "no",
        "allowed by": f"{shown['allowed_by']} users", "active grants": shown["active_grants"],
        "maps uploaded": shown["maps"],
    })


def _switch(args: argparse.Namespace, *, disable: bool) -> None:
    from openplate.accounts import lifecycle

    settings = existing(settings_from(args))

    async def work(db: Database) -> tuple[AppRecord, bool]:
        async with db.transaction() as store:
            app = await _find(store, args.client_id)
            change = lifecycle.disable_app if disable else lifecycle.enable_app
            return app, await change(store, app.pk, app.client_id, app.owner_id,
                                     now=int(time.time()))

    app, changed = run(settings, work, readonly_checks=True)
    if args.json:
        print_json({"client_id": app.client_id, "name": app.name, "disabled": disable,
                    "changed": changed})
    elif not changed:
        print(f"{app.name} ({app.client_id}) was already {'disabled' if disable else 'enabled'}; "
              "nothing changed.")
    elif disable:
        print(f"Disabled {app.name} ({app.client_id}): it gets no tokens and every token it "
              "held has stopped working.")
    else:
        print(f"Enabled {app.name} ({app.client_id}): it can get tokens again (tokens ended by "
              "the disabling stay ended).")


def cmd_app_disable(args: argparse.Namespace) -> None:
    _switch(args, disable=True)


def cmd_app_enable(args: argparse.Namespace) -> None:
    _switch(args, disable=False)


def cmd_app_delete(args: argparse.Namespace) -> None:
    from openplate.accounts import lifecycle

    settings = existing(settings_from(args))

    async def work(db: Database) -> AppRecord:
        async with db.transaction() as store:
            app = await _find(store, args.client_id)
            if not args.yes:
                raise CommandError(f"not deleted: this deletes {app.name} ({app.client_id}) and "
                                   "ends every token it holds, for good; add --yes to do it")
            await lifecycle.delete_app(store, app.pk, app.client_id, app.owner_id,
                                       now=int(time.time()), by=lifecycle.BY_OPERATOR, name=app.name)
            return app

    app = run(settings, work, readonly_checks=True)
    if args.json:
        print_json({"client_id": app.client_id, "name": app.name, "deleted": True})
    else:
        print(f"Deleted {app.name} ({app.client_id}); every token it held has ended.")


def register(app: Any) -> None:
    """The operator's actions, beside ``app create`` (``app`` is its sub-command set)."""

    def action(name: str, help_text: str, func: Any, *, takes_id: bool = True,
               json_help: str = "print JSON") -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = app.add_parser(name, help=help_text)
        if takes_id:
            parser.add_argument("client_id", metavar="CLIENT_ID")
        add_database_flag(parser)
        add_json_flag(parser, help_text=json_help)
        parser.set_defaults(func=func)
        return parser

    listing = action("list", "list applications, oldest first", cmd_app_list, takes_id=False,
                     json_help='print {"total", "limit", "offset", "apps": [...]} as JSON')
    add_paging_flags(listing, matches="name or client ID")
    action("show", "an application's facts: owner, created, disabled, users, grants",
           cmd_app_show)
    action("disable", "stop the application getting tokens; end the tokens it holds",
           cmd_app_disable)
    action("enable", "let a disabled application get tokens again", cmd_app_enable)
    delete = action("delete", "delete the application and end every token it holds",
                    cmd_app_delete)
    delete.add_argument("--yes", action="store_true", help="really delete (it cannot be undone)")
