"""SQLite units of work: one transaction per group of concurrent units, each unit in its own
savepoint, and no unit's block ending before its group is committed. A real SQLite file; a second,
independent driver connection checks what is durable."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, bindparam, insert, select, text
from sqlalchemy.exc import DBAPIError

from openplate.settings import Settings
from openplate.store.engine import create_engine
from openplate.store.prepared import Prepared
from openplate.store.sqlite_units import GROUP_WAIT_PASSES, SqliteUnits
from tests.support.waiting import wait_until_async, within

metadata = MetaData()
notes = Table("notes", metadata, Column("id", Integer, primary_key=True), Column("body", String))
INSERT = Prepared(insert(notes))
BY_BODY = Prepared(select(notes.c.id).where(notes.c.body == bindparam("b")))


@pytest.fixture()
def database(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "units.db"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
        conn.execute("CREATE TABLE parents (id INTEGER PRIMARY KEY)")
        # A deferred foreign key is checked at COMMIT: a real way to make a commit fail.
        conn.execute("CREATE TABLE children (id INTEGER PRIMARY KEY, parent INTEGER "
                     "REFERENCES parents(id) DEFERRABLE INITIALLY DEFERRED)")
    yield path


def units_on(path: Path) -> SqliteUnits:
    engine = create_engine(Settings(database_url=f"sqlite:///{path}", secret_key="k" * 48))
    assert isinstance(engine, Engine)
    return SqliteUnits(engine)


def durable(path: Path) -> list[str]:
    """What another connection sees: only committed rows."""
    with sqlite3.connect(path) as conn:
        return sorted(row[0] for row in conn.execute("SELECT body FROM notes"))


class SteppedClock(asyncio.SelectorEventLoop):
    """An event loop whose clock the test moves forward (``advance``), its timers with it: the
    real clock plus every step taken. A timer set hours ahead fires only once the test has
    stepped there, however slowly the machine runs."""

    def __init__(self) -> None:
        super().__init__()
        self.stepped = 0.0

    def time(self) -> float:
        return super().time() + self.stepped

    def advance(self, seconds: float) -> None:
        self.stepped += seconds


async def passes(count: int) -> None:
    """Let the event loop make ``count`` passes: whatever is due runs meanwhile."""
    for _ in range(count):
        await asyncio.sleep(0)


def test_concurrent_units_commit_together_and_end_only_when_durable(database: Path) -> None:
    units = units_on(database)
    seen_at_exit: dict[str, bool] = {}

    async def unit(name: str) -> None:
        async with units.begin(readonly=False) as conn:
            await conn.execute(INSERT, {"body": name})
        seen_at_exit[name] = name in durable(database)

    async def main() -> None:
        await asyncio.gather(*(unit(f"n{i:02}") for i in range(20)))

    asyncio.run(main())
    assert durable(database) == [f"n{i:02}" for i in range(20)]
    assert all(seen_at_exit.values()) and len(seen_at_exit) == 20
    assert units.commits < 20, "concurrent units should share commits"
    units.close()


def test_a_failing_unit_is_undone_alone(database: Path) -> None:
    units = units_on(database)

    async def good(name: str) -> None:
        async with units.begin(readonly=False) as conn:
            await conn.execute(INSERT, {"body": name})

    async def bad() -> None:
        async with units.begin(readonly=False) as conn:
            await conn.execute(INSERT, {"body": "bad"})
            raise RuntimeError("refused after writing")

    async def main() -> list[object]:
        return await asyncio.gather(good("a"), bad(), good("c"), return_exceptions=True)

    results = asyncio.run(main())
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], RuntimeError)
    assert durable(database) == ["a", "c"]
    units.close()


def test_a_failed_commit_fails_every_unit_of_its_group_and_keeps_nothing(database: Path) -> None:
    units = units_on(database)

    async def orphan() -> None:
        async with units.begin(readonly=False) as conn:
            await conn.execute(text("INSERT INTO children (id, parent) VALUES (1, 999)"))

    async def note(name: str) -> None:
        async with units.begin(readonly=False) as conn:
            await conn.execute(INSERT, {"body": name})

    async def group() -> list[object]:
        # The note units run first and wait for the group's commit; the orphan joins the group
        # through SQLAlchemy, which commits it at once: the deferred key fails that commit.
        return await asyncio.gather(note("x"), note("y"), orphan(), return_exceptions=True)

    results = asyncio.run(group())
    assert all(isinstance(result, DBAPIError) for result in results), results
    assert durable(database) == []

    async def afterwards() -> None:
        await note("z")

    asyncio.run(afterwards())  # the connection recovered
    assert durable(database) == ["z"]
    units.close()


def test_a_reader_in_a_group_answers_after_the_commit(database: Path) -> None:
    units = units_on(database)
    order: list[str] = []

    async def writer() -> None:
        async with units.begin(readonly=False) as conn:
            await conn.execute(INSERT, {"body": "w"})
        order.append("writer done")

    async def reader() -> None:
        async with units.begin(readonly=True) as conn:
            found = (await conn.execute(BY_BODY, {"b": "w"})).first()
        order.append(f"reader done, durable={'w' in durable(database)}, found={found is not None}")

    async def main() -> None:
        await asyncio.gather(writer(), reader())

    asyncio.run(main())
    assert order == ["writer done", "reader done, durable=True, found=True"]
    units.close()


def test_a_lone_reader_runs_in_its_own_transaction(database: Path) -> None:
    units = units_on(database)

    async def main() -> object:
        async with units.begin(readonly=True) as conn:
            return (await conn.execute(BY_BODY, {"b": "none"})).first()

    assert asyncio.run(main()) is None
    assert units.commits == 0
    units.close()


def test_no_commit_while_a_unit_is_between_its_statements(database: Path) -> None:
    """A unit that awaits inside its transaction (Redis, say) holds the group open: committing
    then would commit half of it. The group commits when it ends."""
    units = units_on(database)
    inside: list[list[str]] = []

    async def quick() -> None:
        async with units.begin(readonly=False) as conn:
            await conn.execute(INSERT, {"body": "quick"})

    async def slow() -> None:
        async with units.begin(readonly=False) as conn:
            await conn.execute(INSERT, {"body": "slow-1"})
            await passes(GROUP_WAIT_PASSES + 2)  # the flush scheduled by `quick` comes and goes
            inside.append(durable(database))
            await conn.execute(INSERT, {"body": "slow-2"})

    async def main() -> None:
        await asyncio.gather(quick(), slow())

    asyncio.run(main())
    assert inside == [[]]  # nothing committed while `slow` was half done
    assert durable(database) == ["quick", "slow-1", "slow-2"]
    assert units.commits == 1
    units.close()


def _staggered(units: SqliteUnits, count: int) -> tuple[list[int], list[int]]:
    """``count`` units, each begun one loop pass after the one before (as requests arrive one
    by one under load): for each, the commits made before its block ended, and how many loop
    passes it took from its start to its end."""
    ended_after: list[int] = []
    waited: list[int] = []
    passes = 0

    async def unit(name: str) -> None:
        began = passes
        async with units.begin(readonly=False) as conn:
            await conn.execute(INSERT, {"body": name})
        ended_after.append(units.commits)
        waited.append(passes - began)

    async def main() -> None:
        nonlocal passes
        started = []
        for i in range(count):
            started.append(asyncio.create_task(unit(f"s{i:02}")))
            await asyncio.sleep(0)  # one pass of the loop
            passes += 1
        while not all(task.done() for task in started):
            await asyncio.sleep(0)
            passes += 1

    asyncio.run(main())
    return ended_after, waited


def test_units_arriving_over_the_next_passes_join_the_open_group(database: Path) -> None:
    units = units_on(database)
    ended_after, _ = _staggered(units, 3)
    assert units.commits == 1 and ended_after == [1, 1, 1]
    assert durable(database) == ["s00", "s01", "s02"]
    units.close()


def test_a_group_waits_for_more_units_only_a_few_passes(database: Path) -> None:
    units = units_on(database)
    _, waited = _staggered(units, 40)  # a unit every pass: the group must still commit
    assert 1 < units.commits < 40
    assert max(waited) <= GROUP_WAIT_PASSES + 3, waited
    assert len(durable(database)) == 40
    units.close()


def test_a_lone_unit_commits_without_waiting_for_company(database: Path) -> None:
    units = units_on(database)

    async def main() -> None:
        async with units.begin(readonly=False) as conn:
            await conn.execute(INSERT, {"body": "alone"})
        assert durable(database) == ["alone"]  # ended only once durable, a pass or two later

    asyncio.run(within(main(), "a lone unit's commit"))
    assert units.commits == 1
    units.close()


def _many_groups(units: SqliteUnits, groups: int, size: int) -> None:
    async def unit(name: str) -> None:
        async with units.begin(readonly=False) as conn:
            await conn.execute(INSERT, {"body": name})

    async def main() -> None:
        for g in range(groups):
            await asyncio.gather(*(unit(f"g{g:04}-{u:02}-" + "x" * 500) for u in range(size)))
        running = units.checkpointer._running if units.checkpointer is not None else None
        if running is not None:  # its callback on the loop comes before this wake-up
            await asyncio.wrap_future(running)

    asyncio.run(main())


def test_checkpoints_run_off_the_loop_and_the_log_stays_small(database: Path) -> None:
    units = units_on(database)
    assert units.checkpointer is not None
    _many_groups(units, groups=600, size=8)
    raw = units._raw
    assert raw is not None
    assert raw.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0  # never inside a commit
    assert units.commits >= 600
    assert units.checkpointer.done >= 600 // units.checkpointer.every - 1
    assert not units.checkpointer.failed
    # 4,800 rows of 500 bytes: without the log being rewound it would pass 1,000 pages.
    log_pages = (database.with_name("units.db-wal").stat().st_size - 32) // (4096 + 24)
    assert log_pages < 600, log_pages
    assert len(durable(database)) == 4800
    units.dispose()


def test_a_failing_checkpoint_hands_back_to_sqlite(database: Path, tmp_path: Path) -> None:
    units = units_on(database)
    assert units.checkpointer is not None
    units.checkpointer.path = str(tmp_path)  # a folder: the thread cannot open it
    _many_groups(units, groups=units.checkpointer.every + 5, size=2)
    assert units.checkpointer.failed and units.checkpointer.done == 0
    raw = units._raw
    assert raw is not None
    assert raw.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000
    assert len(durable(database)) == 2 * (units.checkpointer.every + 5)
    units.dispose()


def test_a_quiet_spell_checkpoints_the_log_however_few_groups_it_holds(database: Path) -> None:
    units = units_on(database)
    checkpointer = units.checkpointer
    assert checkpointer is not None
    spell = checkpointer.idle = 3600.0  # reached by the test's steps, never by the real clock

    async def write(body: str) -> None:
        async with units.begin(readonly=False) as conn:
            await conn.execute(INSERT, {"body": body})

    async def main() -> None:
        loop = asyncio.get_running_loop()
        assert isinstance(loop, SteppedClock)
        # Busy: a commit every half spell for five spells, far fewer groups than `every`.
        for n in range(10):
            await write(f"busy-{n}")
            loop.advance(spell / 2)
            await passes(3)
        assert checkpointer.done == 0 and checkpointer._running is None  # never a quiet spell
        # Quiet for a whole spell, with nobody writing: the log is checkpointed.
        loop.advance(spell)
        await passes(3)

        async def finished() -> int:
            return checkpointer.done

        await wait_until_async(finished, "the checkpoint begun after a quiet spell to finish")
        assert checkpointer.done == 1
        # Ten spells more: once, since nothing was written since.
        for _ in range(10):
            loop.advance(spell)
            await passes(3)
        assert checkpointer.done == 1 and checkpointer._running is None

    with asyncio.Runner(loop_factory=SteppedClock) as runner:  # (asyncio.timeout would step too)
        runner.run(main())
    assert checkpointer.last is not None
    busy, log_frames, copied = checkpointer.last
    assert busy == 0 and log_frames > 0 and copied == log_frames  # every frame back in the file
    assert len(durable(database)) == 10
    units.dispose()


def test_commits_are_synced_and_files_give_space_back(tmp_path: Path) -> None:
    """The serving connection syncs the log at every COMMIT (synchronous=FULL: 2), so an answer
    sent after it survives a power cut; NORMAL (1) synced only at checkpoints. A new file has
    incremental vacuum (2), so the purge can hand free pages back (tests/store/test_purge.py)."""
    units = units_on(tmp_path / "new.db")

    async def main() -> tuple[int, int]:
        async with units.begin(readonly=False) as conn:
            await conn.execute(text("CREATE TABLE t (x INTEGER)"))
        async with units.begin(readonly=True) as conn:
            synchronous = (await conn.execute(text("PRAGMA synchronous"))).scalar_one()
            auto_vacuum = (await conn.execute(text("PRAGMA auto_vacuum"))).scalar_one()
        return int(synchronous), int(auto_vacuum)

    try:
        assert asyncio.run(main()) == (2, 2)
    finally:
        units.dispose()
