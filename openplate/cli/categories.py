"""``openplate category add|list|remove``: the library's categories, a list the operator keeps.

``add`` creates the database and key file if need be (as ``app create`` does); ``list`` and
``remove`` only work on a database that is already there and up to date. Removing a category in
use leaves its maps without one, and says how many.
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
    for_writing,
    print_fields,
    print_json,
    print_table,
    run,
    settings_from,
    timestamp,
)

if TYPE_CHECKING:
    from openplate.store.map_records import CategoryRecord
    from openplate.store.unit import Database


def _category_json(category: CategoryRecord) -> dict[str, object]:
    shown: dict[str, object] = {"slug": category.slug, "name": category.name,
                                "created_at": category.created_at}
    if category.maps is not None:
        shown.update(maps=category.maps, public_maps=category.public_maps)
    return shown


def _slug(text: str) -> str:
    """argparse ``type`` of SLUG: the rule the repository checks (a bad one is a usage error)."""
    from openplate.store import map_fields

    try:
        return map_fields.check_category_slug(text, field="SLUG")
    except map_fields.InvalidField as refused:
        raise argparse.ArgumentTypeError(f"{refused.message}, not {text[:60]!r}") from None


def _name(text: str) -> str:
    from openplate.store import map_fields

    try:
        return map_fields.check_category_name(text)
    except map_fields.InvalidField as refused:
        raise argparse.ArgumentTypeError(refused.message) from None


def cmd_category_add(args: argparse.Namespace) -> None:
    from openplate.store.map_fields import InvalidField

    settings = for_writing(settings_from(args))

    async def work(db: Database) -> CategoryRecord:
        async with db.transaction() as store:
            return await store.categories.add(slug=args.slug, name=args.name,
                                              now=int(time.time()))

    try:
        added = run(settings, work)
    except InvalidField as refused:
        raise CommandError(refused.message) from None
    if args.json:
        print_json(_category_json(added))
    else:
        print(f"Added the category {added.name} ({added.slug}).")


def cmd_category_list(args: argparse.Namespace) -> None:
    settings = existing(settings_from(args))

    async def work(db: Database) -> list[CategoryRecord]:
        async with db.transaction(readonly=True) as store:
            return await store.categories.all(with_counts=True)

    found = run(settings, work, readonly_checks=True)
    if args.json:
        print_json({"categories": [_category_json(c) for c in found]})
        return
    if not found:
        print("no categories (openplate category add SLUG --name NAME adds one)")
        return
    print_table(["slug", "name", "maps", "public", "created"],
                [[c.slug, c.name, c.maps, c.public_maps, timestamp(c.created_at)] for c in found])


def cmd_category_remove(args: argparse.Namespace) -> None:
    settings = existing(settings_from(args))

    async def work(db: Database) -> tuple[CategoryRecord, int]:
        async with db.transaction() as store:
            found = next((c for c in await store.categories.all(with_counts=True)
                          if c.slug == args.slug), None)
            if found is None:
                raise CommandError(f"no category '{args.slug}'")
            if not args.yes:
                raise CommandError(
                    f"not removed: {found.maps} maps are in {found.name} ({found.slug}) and "
                    "would be left without a category; add --yes to remove it")
            cleared = await store.categories.remove(args.slug)
            assert cleared is not None
            return found, cleared

    found, cleared = run(settings, work, readonly_checks=True)
    if args.json:
        print_json({"slug": found.slug, "name": found.name, "removed": True,
                    "maps_uncategorised": cleared})
        return
    print_fields({"removed": f"{found.name} ({found.slug})",
                  "maps left without a category": cleared})


def register(commands: Any) -> None:
    category = commands.add_parser(
        "category", help="manage the library's categories").add_subparsers(
        dest="category_command", required=True, metavar="ACTION")
    add = category.add_parser("add", help="add a category")
    add.add_argument("slug", metavar="SLUG", type=_slug,
                     help="its slug: lower-case letters, digits and single '-' (at most 40)")
    add.add_argument("--name", required=True, type=_name,
                     help="its name, as the site shows it (at most 80 characters)")
    add_database_flag(add)
    add_json_flag(add)
    add.set_defaults(func=cmd_category_add)
    listing = category.add_parser("list", help="list the categories, with their maps")
    add_database_flag(listing)
    add_json_flag(listing)
    listing.set_defaults(func=cmd_category_list)
    remove = category.add_parser(
        "remove", help="remove a category (its maps are left without one)")
    remove.add_argument("slug", metavar="SLUG", type=_slug)
    remove.add_argument("--yes", action="store_true", help="really remove it")
    add_database_flag(remove)
    add_json_flag(remove)
    remove.set_defaults(func=cmd_category_remove)
