"""``openplate demo --maps N`` as an operator runs it (real processes), on SQLite and PostgreSQL:
it refuses a database that is not migrated, makes the demo users and categories once, and the
maps it adds are listable, searchable, in every format and language, their files read back
to their outlines, and the same for the same seed."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import text

from openplate.accounts.service import password_matches
from openplate.library import Topic, parse_upload
from openplate.oauth.tokens import Digester
from openplate.settings import Settings
from openplate.store.engine import create_engine
from openplate.store.map_records import MapQuery
from openplate.store.migrate import upgrade
from openplate.store.unit import Database
from tests.support.postgres import create_database, drop_database
from tests.test_cli import assert_one_line_error

KEY = "k" * 48
T = TypeVar("T")


def demo(url: str, *args: str, stdin: str = "", folder: Path | None = None,
         ) -> subprocess.CompletedProcess[str]:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("OPENPLATE_")},
           "OPENPLATE_SECRET_KEY": KEY}
    return subprocess.run(
        [sys.executable, "-m", "openplate.cli", "demo", "--database-url", url, "--jobs", "1",
         *args], input=stdin, capture_output=True, text=True, env=env, cwd=folder,
        timeout=300)


def demo_json(url: str, *args: str, stdin: str = "") -> dict[str, Any]:
    done = demo(url, *args, "--json", stdin=stdin)
    assert done.returncode == 0, done.stderr
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer


def query(url: str, work: Callable[[Database], Awaitable[T]]) -> T:
    async def main() -> T:
        db = Database(create_engine(Settings(database_url=url, secret_key=KEY)),
                      Digester(KEY.encode()))
        try:
            return await work(db)
        finally:
            await db.dispose()

    return asyncio.run(main())


def rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    async def work(db: Database) -> list[tuple[Any, ...]]:
        async with db.transaction(readonly=True) as store:
            return [tuple(row) for row in await store.conn.execute(text(sql))]

    return query(url, work)


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database that exists but has no schema yet."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'demo.db'}"
        return
    url = create_database()
    try:
        yield url
    finally:
        drop_database(url)


def migrated(url: str) -> str:
    upgrade(Settings(database_url=url, secret_key=KEY))
    return url


def test_demo_fills_a_migrated_database(fresh_url: str) -> None:
    refused = demo(fresh_url, "--maps", "5")
    if fresh_url.startswith("sqlite"):
        assert_one_line_error(refused, "no database at")
        assert not Path(fresh_url.removeprefix("sqlite:///")).exists()
    else:
        assert_one_line_error(refused, "no Openplate schema (openplate migrate creates it)")
    url = migrated(fresh_url)

    answer = demo_json(url, "--maps", "60", "--seed", "7", "--batch", "25")
    assert answer["maps"] == 60 and answer["seed"] == 7
    assert sum(answer["visibility"].values()) == 60 and answer["visibility"]["public"] > 40
    assert set(answer["formats"]) == {"xmind", "freemind", "opml", "markdown", "mindmanager"}
    assert [u["created"] for u in answer["users"]] == [True] * 6
    assert answer["categories_added"] and isinstance(answer["password"], str)
    assert rows(url, "SELECT count(*), sum(topic_count) FROM maps") == [(60, answer["topics"])]
    assert rows(url, "SELECT count(*) FROM categories") == [(7,)]
    assert rows(url, "SELECT count(DISTINCT owner_id) FROM maps")[0][0] > 1
    assert rows(url, "SELECT count(*) FROM map_files WHERE kind <> 'map'") == [(0,)]  # no pictures
    assert rows(url, "SELECT count(*) FROM maps WHERE view_count > 0")[0][0] > 10
    created = [at for (at,) in rows(url, "SELECT created_at FROM maps")]
    assert max(created) - min(created) > 30 * 86_400  # spread over the past year
    if url.startswith("postgresql"):
        # The planner's statistics were read again after the load (a manual ANALYZE, not
        # autovacuum's): without them the lists' plans read every map (docs/performance.md).
        analyzed = rows(url, "SELECT relname FROM pg_stat_user_tables WHERE last_analyze IS NOT "
                             "NULL AND relname IN ('maps', 'map_search', 'map_tags')")
        assert sorted(name for (name,) in analyzed) == ["map_search", "map_tags", "maps"]

    async def check(db: Database) -> None:
        async with db.transaction(readonly=True) as store:
            amara = await store.users.by_login("demo-amara")
            assert amara is not None and amara.display_name == "Amara Okafor"
            assert await password_matches(amara, answer["password"])
            listed = await store.maps.page(MapQuery(), limit=100)
            assert len(listed.maps) == answer["visibility"]["public"]
            # Every map's file reads back, as an upload, to the outline that was stored.
            for summary in listed.maps:
                record = await store.maps.by_public_id(summary.public_id)
                assert record is not None
                content = await store.maps.file(map_id=record.id, kind="map")
                assert content is not None and len(content) == record.size
                parsed = parse_upload(record.filename, content)
                assert parsed.format == record.format
                stored = [Topic.from_json(sheet) for sheet in json.loads(record.outline)]
                assert list(parsed.sheets) == stored
                assert record.title == stored[0].title[:200]
            # Searchable: a word of a map's title finds it; a tag and an author list theirs.
            sample = listed.maps[3]
            word = max(sample.title.split(), key=len)
            found = await store.maps.page(MapQuery(q=word), limit=100)
            assert sample.public_id in {m.public_id for m in found.maps}, word
            tagged = next(m for m in listed.maps if m.tags)
            by_tag = await store.maps.page(MapQuery(tag=tagged.tags[0]), limit=100)
            assert tagged.public_id in {m.public_id for m in by_tag.maps}
            by_author = await store.maps.page(MapQuery(author="demo-amara"), limit=100)
            assert by_author.maps and {m.author for m in by_author.maps} == {"demo-amara"}

    query(url, check)
    scripts = "".join(title for (title,) in rows(url, "SELECT title FROM maps"))
    outlines = "".join(json.dumps(json.loads(outline), ensure_ascii=False)
                       for (outline,) in rows(url, "SELECT outline FROM maps"))
    assert any("\u0600" <= c <= "\u06ff" for c in outlines)  # Arabic
    assert any("\u4e00" <= c <= "\u9fff" for c in outlines)  # CJK
    assert any(c in "éèàçäöüßñłąę" for c in outlines + scripts)  # Latin with accents

    # A second run adds new maps and keeps the users, their passwords and the categories.
    again = demo(url, "--maps", "10", "--seed", "7", "--users", "2")
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[0].startswith("Added 10 demo maps (")
    assert "keep the passwords they had" in again.stdout and "password " not in \
        again.stdout.split("keep")[0]
    assert rows(url, "SELECT count(*) FROM maps") == [(70,)]
    assert rows(url, "SELECT count(*) FROM users") == [(6,)]
    assert rows(url, "SELECT count(*) FROM categories") == [(7,)]


def test_the_same_seed_gives_the_same_maps(tmp_path: Path) -> None:
    first = migrated(f"sqlite:///{tmp_path / 'one.db'}")
    second = migrated(f"sqlite:///{tmp_path / 'two.db'}")
    other = migrated(f"sqlite:///{tmp_path / 'three.db'}")
    demo_json(first, "--maps", "30", "--seed", "11")
    demo_json(second, "--maps", "30", "--seed", "11", "--batch", "7", "--jobs", "2")
    demo_json(other, "--maps", "30", "--seed", "12")
    columns = ("SELECT public_id, title, description, format, outline, topic_count, visibility, "
               "view_count, size FROM maps ORDER BY public_id")
    assert rows(first, columns) == rows(second, columns)
    assert rows(first, columns) != rows(other, columns)
    files = "SELECT m.public_id, f.content FROM maps m JOIN map_files f ON f.map_id = m.id " \
            "ORDER BY m.public_id"
    assert rows(first, files) == rows(second, files)


def test_passwords_and_refusals(tmp_path: Path) -> None:
    url = migrated(f"sqlite:///{tmp_path / 'demo.db'}")
    assert_one_line_error(demo(url, "--maps", "3", "--password-stdin", stdin="short\n"),
                          "--password-stdin")
    assert rows(url, "SELECT count(*) FROM users") == [(0,)]
    given = demo(url, "--maps", "3", "--users", "1", "--password-stdin",
                 stdin="a demo password\n")
    assert given.returncode == 0, given.stderr
    assert "with the password from standard input" in given.stdout
    assert "a demo password" not in given.stdout

    async def check(db: Database) -> None:
        async with db.transaction(readonly=True) as store:
            user = await store.users.by_login("demo-amara")
            assert await password_matches(user, "a demo password")

    query(url, check)
    # A demo user's name taken by someone else: refused, and nothing added.
    rows_before = rows(url, "SELECT count(*) FROM maps")
    taken = migrated(f"sqlite:///{tmp_path / 'taken.db'}")
    made = subprocess.run(
        [sys.executable, "-m", "openplate.cli", "user", "create", "--database-url", taken,
         "--email", "someone@example.org", "--username", "demo-lukas", "--password-stdin"],
        input="s3cret-password\n", capture_output=True, text=True, timeout=60,
        env={**os.environ, "OPENPLATE_SECRET_KEY": KEY})
    assert made.returncode == 0, made.stderr
    assert_one_line_error(demo(taken, "--maps", "3"), "demo-lukas belongs to an account that is "
                                                      "not a demo user")
    assert rows(taken, "SELECT count(*) FROM maps") == [(0,)]
    assert rows(taken, "SELECT count(*) FROM users") == [(1,)]
    assert rows(url, "SELECT count(*) FROM maps") == rows_before


@pytest.mark.parametrize("args, words", [
    ((), "--maps"),
    (("--maps", "0"), "--maps"),
    (("--maps", "many"), "--maps"),
    (("--maps", "3", "--users", "7"), "--users"),
    (("--maps", "3", "--seed", "-1"), "--seed"),
    (("--maps", "3", "--batch", "0"), "--batch"),
])
def test_bad_flags_are_one_line_usage_errors(tmp_path: Path, args: tuple[str, ...],
                                             words: str) -> None:
    done = demo(f"sqlite:///{tmp_path / 'x.db'}", *args)
    assert_one_line_error(done, words)
    assert done.returncode == 2
    assert not (tmp_path / "x.db").exists()
