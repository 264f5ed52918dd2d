"""``openplate demo --maps N``: fill the database with generated maps, for a first look and for
benchmarks.

The maps (demo_maps.py) belong to a few demo users (``demo-amara``, ``demo-lukas`` …, e-mail
``<name>@demo.example``), made when they are missing. A demo user made now gets a password:
a random one printed once, or the first line of standard input with ``--password-stdin``
(then it is never printed); one that exists already keeps theirs. A database with no
categories gets a few. The database must exist and be migrated (``openplate migrate``): this
command refuses anything else and changes nothing then.

Maps are written in batches, each one unit of work (``SqlMaps.create``, as an upload). The
pictures are not drawn: they are drawn on first view (web/map_pictures.py). The same seed gives
the same maps (titles, outlines, files, owners, tags …); their dates count back from now.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from openplate.cli.common import (
    CommandError,
    add_database_flag,
    add_json_flag,
    bounded_int,
    existing,
    one_line,
    print_json,
    run,
    settings_from,
)

if TYPE_CHECKING:
    from openplate.cli.demo_maps import DemoMap
    from openplate.settings import Settings
    from openplate.store.unit import Database, Store

MAX_MAPS = 10_000_000
DEFAULT_BATCH = 500


@dataclass
class Outcome:
    """What a run made, for the report."""

    maps: int = 0
    topics: int = 0
    users: list[tuple[str, bool]] = field(default_factory=list)  # (username, made now)
    categories_added: list[str] = field(default_factory=list)
    visibility: Counter[str] = field(default_factory=Counter)
    formats: Counter[str] = field(default_factory=Counter)


async def _demo_users(store: Store, count: int, password: str) -> tuple[list[int], list[tuple[str, bool]]]:
    """The ids of the first ``count`` demo users, made if missing (a missing one gets
    ``password``); refuses a name taken by an account that is not a demo user."""
    from openplate.accounts.service import prepare_account
    from openplate.cli.demo_words import DEMO_EMAIL_DOMAIN, USERS

    ids: list[int] = []
    users: list[tuple[str, bool]] = []
    for username, name in USERS[:count]:
        email = f"{username}@{DEMO_EMAIL_DOMAIN}"
        found = await store.users.by_login(username)
        if found is not None:
            if found.email != email:
                raise CommandError(f"the username {username} belongs to an account that is not "
                                   f"a demo user ({found.email}); nothing was added")
            ids.append(found.id)
            users.append((username, False))
            continue
        account = await prepare_account(username=username, email=email, password=password)
        user = await store.users.create(username=account.username, email=account.email,
                                        password_hash=account.password_hash,
                                        now=int(time.time()))
        await store.users.set_display_name(user_id=user.id, display_name=name)
        ids.append(user.id)
        users.append((username, True))
    return ids, users


async def _categories(store: Store) -> tuple[list[str], list[str]]:
    """The categories' slugs (a few added when there are none), and those added."""
    from openplate.cli.demo_words import CATEGORIES

    slugs = [category.slug for category in await store.categories.all()]
    if slugs:
        return slugs, []
    now = int(time.time())
    for slug, name in CATEGORIES:
        await store.categories.add(slug=slug, name=name, now=now)
    added = [slug for slug, _ in CATEGORIES]
    return added, added


async def _map_count(store: Store) -> int:
    from sqlalchemy import func, select

    from openplate.store.tables import maps

    return int((await store.conn.execute(select(func.count()).select_from(maps))).scalar_one())


async def _write(store: Store, batch: list[DemoMap], owners: list[int],
                 categories: list[str]) -> None:
    from sqlalchemy import bindparam, update

    from openplate.store.tables import maps

    views: list[dict[str, int]] = []
    for item in batch:
        map_id = await store.maps.create(
            public_id=item.public_id, slug=item.slug, title=item.title,
            description=item.description, owner_id=owners[item.owner], client_pk=None,
            format=item.format, filename=item.filename, media_type=item.media_type,
            content=item.content, thumbnail=None, outline=item.outline,
            topic_count=item.topic_count, now=item.created_at, tags=item.tags,
            visibility=item.visibility,
            category=categories[item.category] if item.category is not None else None)
        if item.views:
            views.append({"map": map_id, "views": item.views})
    if views:
        await store.conn.execute(
            update(maps).where(maps.c.id == bindparam("map"))
            .values(view_count=bindparam("views")), views)


def _batches(total: int, size: int) -> Iterator[tuple[int, int]]:
    for start in range(0, total, size):
        yield start, min(total, start + size)


class _Inline(Executor):
    """Generate batches in this process (``--jobs 1``)."""

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        future.set_result(fn(*args, **kwargs))
        return future


async def _fill(db: Database, args: argparse.Namespace, password: str) -> Outcome:
    from openplate.cli.demo_maps import make_batch

    outcome = Outcome()
    async with db.transaction() as store:
        owners, outcome.users = await _demo_users(store, args.users, password)
        categories, outcome.categories_added = await _categories(store)
        base = await _map_count(store)
    now = int(time.time())
    jobs = args.jobs
    if jobs > 1:
        import multiprocessing

        pool: Executor = ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"))
    else:
        pool = _Inline()
    with pool:
        pending: list[Future[list[DemoMap]]] = []
        batches = _batches(args.maps, args.batch)
        for start, stop in batches:  # keep the workers busy while the database writes
            pending.append(pool.submit(make_batch, args.seed, base, start, stop, len(owners),
                                       len(categories), now))
            if len(pending) <= jobs:
                continue
            await _store(db, pending.pop(0), owners, categories, outcome)
        while pending:
            await _store(db, pending.pop(0), owners, categories, outcome)
    async with db.transaction() as store:
        await store.maps.refresh_statistics()
    return outcome


async def _store(db: Database, future: Future[list[DemoMap]], owners: list[int],
                 categories: list[str], outcome: Outcome) -> None:
    batch = await asyncio.wrap_future(future) if not future.done() else future.result()
    async with db.transaction() as store:
        await _write(store, batch, owners, categories)
    outcome.maps += len(batch)
    for item in batch:
        outcome.topics += item.topic_count
        outcome.visibility[item.visibility] += 1
        outcome.formats[item.format] += 1


def _password(args: argparse.Namespace) -> tuple[str, bool]:
    """The password for demo users made now, and whether it came from standard input."""
    from openplate.accounts.validation import InvalidAccountInput, check_password

    if not args.password_stdin:
        return secrets.token_urlsafe(12), False
    password = sys.stdin.readline().rstrip("\r\n")
    try:
        return check_password(password), True
    except InvalidAccountInput as refused:
        raise CommandError(f"--password-stdin: {refused}") from None


def _settings(args: argparse.Namespace) -> Settings:
    """The settings of an existing database, with the instance key (made beside an SQLite
    database that ``openplate migrate`` made, as ``serve`` would make it)."""
    settings = settings_from(args)
    path = settings.sqlite_path
    if path is not None and not path.is_file():
        raise CommandError(f"no database at {path} (openplate migrate creates it)")
    if settings.secret_key is None and (path is None or path.parent.is_dir()):
        try:
            settings = settings.with_secret_key()
        except OSError as error:
            raise CommandError(f"cannot make the key file {settings.key_file}: "
                               f"{one_line(error)}") from None
    return existing(settings)


def cmd_demo(args: argparse.Namespace) -> None:
    settings = _settings(args)
    password, given = _password(args)
    started = time.monotonic()
    outcome = run(settings, lambda db: _fill(db, args, password), readonly_checks=True)
    seconds = round(time.monotonic() - started, 1)
    made = [name for name, new in outcome.users if new]
    shown_password = password if made and not given else None
    if args.json:
        print_json({
            "maps": outcome.maps, "topics": outcome.topics, "seed": args.seed,
            "seconds": seconds, "visibility": dict(outcome.visibility),
            "formats": dict(outcome.formats),
            "users": [{"username": name, "created": new} for name, new in outcome.users],
            "categories_added": outcome.categories_added, "password": shown_password})
        return
    shares = ", ".join(f"{count} {name}" for name, count in outcome.visibility.most_common())
    print(f"Added {outcome.maps} demo maps ({outcome.topics} topics; {shares or 'none'}) "
          f"with seed {args.seed} in {seconds} s.")
    if outcome.categories_added:
        print("Added the categories " + ", ".join(outcome.categories_added) + ".")
    names = ", ".join(name for name, _ in outcome.users)
    first = outcome.users[0][0]
    signin = settings.base_url + "/signin"
    if shown_password is not None:
        print(f"Made the demo users {', '.join(made)}. Sign in at {signin} as {first} with the "
              f"password {shown_password} (shown only now; every demo user made now has it).")
    elif made:
        print(f"Made the demo users {', '.join(made)}, with the password from standard input. "
              f"Sign in at {signin} as {first}.")
    if len(made) < len(outcome.users):
        print(f"The demo users {names} keep the passwords they had "
              "(openplate user set-password USER --password-stdin sets one).")


def register(commands: Any) -> None:
    demo = commands.add_parser(
        "demo", help="fill the database with generated demo maps",
        description="Fill a migrated database with generated maps of demo users, in every "
                    "format and in several languages.")
    demo.add_argument("--maps", type=bounded_int(1, MAX_MAPS), required=True, metavar="N",
                      help="how many maps to add")
    demo.add_argument("--seed", type=bounded_int(0, 2**31 - 1), default=1,
                      help="the same seed gives the same maps (default 1)")
    demo.add_argument("--users", type=bounded_int(1, 6), default=6, metavar="K",
                      help="how many demo users own them (1 to 6, default 6)")
    demo.add_argument("--password-stdin", action="store_true",
                      help="the password of demo users made now, from the first line of "
                           "standard input (default: a random one, printed once)")
    demo.add_argument("--batch", type=bounded_int(1, 10_000), default=DEFAULT_BATCH,
                      help=f"maps per transaction (default {DEFAULT_BATCH})")
    demo.add_argument("--jobs", type=bounded_int(1, 64), default=min(4, os.cpu_count() or 1),
                      help="processes that generate maps (default: the CPUs, at most 4)")
    add_database_flag(demo)
    add_json_flag(demo)
    demo.set_defaults(func=cmd_demo)
