"""``openplate app registration-token``: initial access tokens for dynamic client registration
(RFC 7591 §3, with ``OPENPLATE_REGISTRATION=token``), and ``app registration-tokens`` to list
the live ones."""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING, Any

from openplate.cli.common import (
    CommandError,
    add_database_flag,
    add_json_flag,
    existing,
    for_writing,
    print_fields,
    print_json,
    print_table,
    run,
    settings_from,
    timestamp,
)

if TYPE_CHECKING:
    from openplate.store.unit import Database

DAY = 86_400
MAX_DAYS = 365
MAX_USES = 10_000


def _positive(limit: int) -> Any:
    def parse(text: str) -> int:
        if not text.isdigit() or not 1 <= int(text) <= limit:
            raise argparse.ArgumentTypeError(f"a whole number from 1 to {limit}")
        return int(text)

    return parse


def cmd_registration_token(args: argparse.Namespace) -> None:
    from openplate.oauth.tokens import INITIAL_ACCESS_TOKEN_PREFIX, Digester

    if args.revoke is not None:
        _revoke(args)
        return
    settings = for_writing(settings_from(args))
    assert settings.secret_key is not None
    digester = Digester(settings.secret_key.encode("utf-8"))
    note = (args.note or "").strip() or None
    if note is not None and (len(note) > 100 or not note.isprintable()):
        raise CommandError("--note: at most 100 printable characters")
    token = digester.mint(INITIAL_ACCESS_TOKEN_PREFIX)
    t = int(time.time())

    async def work(db: Database) -> dict[str, object]:
        async with db.transaction() as store:
            owner_id = None
            if args.owner is not None:
                owner = await store.users.by_login(args.owner)
                if owner is None:
                    raise CommandError(f"no user with username or e-mail '{args.owner}'")
                owner_id = owner.id
            token_id = await store.registrations.create_token(
                digest=digester.digest(token), owner_id=owner_id, note=note, uses=args.uses,
                now=t, expires_at=t + args.days * DAY)
        return {"id": token_id, "token": token, "owner": args.owner, "uses": args.uses,
                "expires_at": t + args.days * DAY, "note": note}

    result = run(settings, work)
    if args.json:
        print_json(result)
        return
    print_fields({**result, "expires_at": timestamp(result["expires_at"])})
    if settings.registration != "token":
        print(f"Note: OPENPLATE_REGISTRATION is {settings.registration!r}; this token is asked "
              "for only when it is 'token'.")


def _revoke(args: argparse.Namespace) -> None:
    settings = existing(settings_from(args))

    async def work(db: Database) -> bool:
        async with db.transaction() as store:
            return await store.registrations.revoke_token(token_id=args.revoke)

    if not run(settings, work, readonly_checks=True):
        raise CommandError(f"no registration token with id {args.revoke}")
    if args.json:
        print_json({"id": args.revoke, "revoked": True})
    else:
        print(f"Registration token {args.revoke} revoked.")


def cmd_registration_tokens(args: argparse.Namespace) -> None:
    settings = existing(settings_from(args))

    async def work(db: Database) -> list[dict[str, object]]:
        async with db.transaction(readonly=True) as store:
            found = await store.registrations.tokens(now=int(time.time()))
        return [{"id": r.id, "owner": r.owner, "note": r.note, "uses_left": r.uses_left,
                 "created_at": r.created_at, "expires_at": r.expires_at} for r in found]

    tokens = run(settings, work, readonly_checks=True)
    if args.json:
        print_json({"tokens": tokens})
        return
    if tokens:
        print_table(["id", "owner", "uses left", "expires", "note"], (
            [t["id"], t["owner"] or "(none)", t["uses_left"], timestamp(t["expires_at"]),
             t["note"] or ""] for t in tokens))
    print(f"{len(tokens)} registration tokens can still register an app.")


def register(app: Any) -> None:
    create = app.add_parser(
        "registration-token",
        help="make an initial access token that lets a client register itself "
             "(OPENPLATE_REGISTRATION=token)")
    add_database_flag(create)
    create.add_argument("--owner", metavar="USER",
                        help="username or e-mail of the account the registered apps belong to "
                             "(default: none; client_credentials needs one)")
    create.add_argument("--uses", type=_positive(MAX_USES), default=1,
                        help="how many apps it may register (default 1)")
    create.add_argument("--days", type=_positive(MAX_DAYS), default=7,
                        help="days until it expires (default 7)")
    create.add_argument("--note", metavar="TEXT", help="what it is for (shown in the list)")
    create.add_argument("--revoke", type=int, metavar="ID",
                        help="revoke the token with this id instead of making one")
    add_json_flag(create)
    create.set_defaults(func=cmd_registration_token)
    listing = app.add_parser("registration-tokens",
                             help="list the registration tokens that can still be used")
    add_database_flag(listing)
    add_json_flag(listing)
    listing.set_defaults(func=cmd_registration_tokens)
