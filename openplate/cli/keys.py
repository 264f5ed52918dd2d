"""``openplate keys rotate`` and ``openplate keys list``."""

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
    for_writing,
    print_fields,
    print_json,
    print_table,
    run,
    settings_from,
    timestamp,
)

if TYPE_CHECKING:
    from openplate import signing
    from openplate.store.unit import Database


def cmd_keys_rotate(args: argparse.Namespace) -> None:
    from openplate import signing

    settings = for_writing(settings_from(args))
    assert settings.secret_key is not None
    instance_key = settings.secret_key.encode("utf-8")

    from openplate.oauth.oidc.jws import ALGORITHMS

    # Every algorithm, the default first (its keys are the top-level fields), or the one named.
    algs = [args.alg] if args.alg else [settings.signing_alg] + [
        a for a in ALGORITHMS if a != settings.signing_alg]

    async def work(db: Database) -> signing.Rotation:
        async with db.transaction() as store:
            rotation = await signing.rotate(
                store.signing_keys, algs=algs, instance_key=instance_key,
                now=int(time.time()), retention=settings.key_retention,
                min_next_age=0 if args.force else args.min_age,
            )
            for result in rotation.rotated:
                await store.events.append(kind="keys.rotated", now=int(time.time()), detail={
                    "alg": result.alg, "current": result.current, "next": result.next})
            return rotation

    try:
        rotation = run(settings, work)
    except signing.RotationRefused as error:
        raise CommandError(str(error)) from None
    first = rotation.rotated[0]
    fields: dict[str, object] = {
        "alg": first.alg, "retired": first.retired, "current": first.current, "next": first.next,
        "removed": list(rotation.removed),
    }
    if args.json:
        print_json({**fields, "rotated": [
            {"alg": r.alg, "retired": r.retired, "current": r.current, "next": r.next}
            for r in rotation.rotated]})
        return
    print_table(["alg", "retired", "current", "next"],
                ([r.alg, r.retired, r.current, r.next] for r in rotation.rotated))
    if rotation.removed:
        print_fields({"removed": list(rotation.removed)})


def cmd_keys_list(args: argparse.Namespace) -> None:
    settings = existing(settings_from(args))

    async def work(db: Database) -> list[dict[str, object]]:
        async with db.transaction(readonly=True) as store:
            return [
                {"kid": k.kid, "alg": k.alg, "status": k.status, "created_at": k.created_at,
                 "activated_at": k.activated_at, "retired_at": k.retired_at}
                for k in await store.signing_keys.all()
            ]

    keys = run(settings, work, readonly_checks=True)
    if args.json:
        for key in keys:
            print_json(key)
        return
    if not keys:
        print("no signing keys yet (the first start of serve makes them)")
        return
    print_table(["kid", "alg", "status", "created", "activated", "retired"], (
        [k["kid"], k["alg"], k["status"], timestamp(k["created_at"]), timestamp(k["activated_at"]),
         timestamp(k["retired_at"])] for k in keys))


def register(commands: Any) -> None:
    keys = commands.add_parser("keys", help="manage token-signing keys").add_subparsers(
        dest="keys_command", required=True, metavar="ACTION")
    rotate = keys.add_parser(
        "rotate", help="retire the current key, sign with the published next one, publish a new next")
    add_database_flag(rotate)
    rotate.add_argument("--min-age", type=bounded_int(0, 31_536_000), default=3600, metavar="SECONDS",
                        help="refuse if the next key was published less than this many seconds "
                             "ago (0-31536000, default 3600), so caching clients already know it")
    rotate.add_argument("--force", action="store_true", help="rotate even if the next key is new")
    rotate.add_argument("--alg", choices=["RS256", "ES256", "EdDSA"],
                        help="rotate only this algorithm's keys (default: every algorithm's)")
    add_json_flag(rotate, help_text='print {"alg", "retired", "current", "next", "removed", '
                                    '"rotated"} as JSON')
    rotate.set_defaults(func=cmd_keys_rotate)

    listing = keys.add_parser("list", help="print the signing keys (never their private halves)")
    add_database_flag(listing)
    add_json_flag(listing, help_text="print one JSON object a line")
    listing.set_defaults(func=cmd_keys_list)
