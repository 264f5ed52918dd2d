"""Full-text search gives the same maps in the same order on SQLite (FTS5) and PostgreSQL
(tsvector): one corpus, written to both, and one list of queries, friendly and hostile.

The ranking rule (store/map_queries.py): every word in the title first, then every word in the
title or description, then the rest; the most recently shared (larger id) first within each.
The corpus's ``created_at`` order differs from its id order on purpose: it takes no part. Some
queries' expected order is written out here, so both databases agreeing on a wrong answer fails
too.
"""

from __future__ import annotations

from typing import Any

import pytest

from openplate.oauth.models import UserProfile
from openplate.store import map_queries
from openplate.store.map_records import MapQuery
from tests.contract.backends import NOW, SqlBackend
from tests.contract.map_helpers import add_map, titles, topic, walk

#: title, description, topics, created_at order (larger: newer), visibility; shared in this order
CORPUS: list[tuple[str, str, list[dict[str, Any]], int, str]] = [
    ("Garden planning", "Vegetables and herbs", [topic("Tomatoes", note="Sow in March")], 1,
     "public"),
    ("Kitchen herbs", "A garden on the windowsill", [topic("Basil"), topic("Thyme")], 2,
     "public"),
    ("Holiday", "Trip to the coast", [topic("Packing", note="garden gloves? no")], 3, "public"),
    ("Café culture in Paris", "Crème brûlée", [topic("Éclair")], 4, "public"),
    ("思维导图 入门", "学习 方法", [topic("导图 工具")], 5, "public"),
    ("Straße und Verkehr", "", [topic("Fußgänger")], 6, "public"),
    ("Garden garden", "", [], 0, "public"),
    ("e-mail etiquette", "Write 3.14 better e-mails",
     [topic("C++ & C#"), topic("50% off: NEAR * AND")], 7, "public"),
    ("Ωmega Ελληνικά", "Κόσμος", [topic("Москва"), topic("हिन्दी")], 8, "public"),
    ("Emoji 🎉 party", "🎉🎉", [topic("🎈 balloons")], 9, "public"),
    ("Garden secret", "garden", [], 11, "private"),
    ("Gardening tools", "", [], 10, "public"),
    ("Pizza night", "dough", [topic("Mozzarella", topic("Buffalo", note="from Campania"))], 12,
     "unlisted"),
]

EXPECTED: dict[str, list[str]] = {
    "garden": ["Gardening tools", "Garden garden", "Garden planning", "Kitchen herbs", "Holiday"],
    "garden ": ["Garden garden", "Garden planning", "Kitchen herbs", "Holiday"],
    "GARDEN planning": ["Garden planning"],
    "herbs": ["Kitchen herbs", "Garden planning"],
    "cafe": ["Café culture in Paris"],
    "CRÈME brulee": ["Café culture in Paris"],
    "eclair": ["Café culture in Paris"],
    "导图": ["思维导图 入门"],
    "工具": ["思维导图 入门"],
    "strasse": ["Straße und Verkehr"],
    "FUSSGÄNGER": ["Straße und Verkehr"],
    "e-mail": ["e-mail etiquette"],
    "3.14": ["e-mail etiquette"],
    "ελληνικα": ["Ωmega Ελληνικά"],
    "МОСКВА": ["Ωmega Ελληνικά"],
    "हिन्दी": ["Ωmega Ελληνικά"],
    "balloons": ["Emoji 🎉 party"],
    "march": ["Garden planning"],
    "mozzarella": [],  # unlisted: reachable by link, never listed or found
    "🎉": [],
    "": [],
}

HOSTILE = [
    '"garden"', "garden*", "garden:", "-garden", "(garden)", "garden AND kitchen",
    "NEAR(garden kitchen)", "NEAR/2", "garden OR holiday", "NOT garden", "\x00garden",
    "garden\x00", "' OR 1=1 --", "'; DROP TABLE maps; --", "garden & herbs | !holiday",
    "garden:* & herbs:A", "title_keys : garden", "{title_keys} : garden", "^garden", "garden +",
    "\\", "\"", "'", "*", ":", "&", "-", "NEAR", "AND", "\u202egarden", "garde\u0301n",
    "ga\u200brden", "\ud800garden", "🎉 garden", "garden " * 40, "x" * 200, "a:b:c:d",
    "e-mail@example.org", "c++", "c#", "near and", "%garden%", "_garden", "garden\\",
]


async def _corpus(sql: SqlBackend) -> UserProfile:
    owner = await sql.add_user()
    async with sql.db.transaction() as store:
        for title, description, topics, age, visibility in CORPUS:
            await add_map(sql, owner, title=title, description=description,
                          outline=[topic(title, *topics)] if topics else [], now=NOW + age,
                          visibility=visibility, store=store)
    return owner


async def _results(sql: SqlBackend, owner: UserProfile, queries: list[str]) -> dict[str, list[str]]:
    return {q: await titles(sql, MapQuery(q=q, author=owner.username)) for q in queries}


async def test_search_ranks_alike_on_sqlite_and_postgresql(sqlite: SqlBackend,
                                                           postgresql: SqlBackend) -> None:
    queries = list(EXPECTED) + HOSTILE
    found = {}
    for sql in (sqlite, postgresql):
        found[sql.name] = await _results(sql, await _corpus(sql), queries)
        await sql.aclose()
    assert found["sqlite"] == found["postgresql"]
    for query, expected in EXPECTED.items():
        assert found["sqlite"][query] == expected, query
    # A hostile query is only ever its words: quotes, operators and NUL are separators.
    for query in ('"garden"', "garden*", "garden:", "-garden", "(garden)", "\x00garden"):
        assert found["sqlite"][query] == EXPECTED["garden"], query
    for query in ("garden AND kitchen", "NEAR(garden kitchen)", "garden OR holiday"):
        assert found["sqlite"][query] == [], query


async def test_relevance_pages_through_the_same_order(sqlite: SqlBackend,
                                                      postgresql: SqlBackend) -> None:
    for sql in (sqlite, postgresql):
        owner = await _corpus(sql)
        query = MapQuery(q="garden", author=owner.username)
        for size in (1, 2, 3):
            assert [m.title for m in await walk(sql, query, limit=size)] == EXPECTED["garden"]
        await sql.aclose()


async def test_search_follows_changes_to_title_and_description(sqlite: SqlBackend,
                                                               postgresql: SqlBackend) -> None:
    for sql in (sqlite, postgresql):
        owner = await _corpus(sql)
        holiday = (await walk(sql, MapQuery(q="holiday", author=owner.username), limit=5))[0]
        async with sql.db.transaction() as store:
            record = await store.maps.by_public_id(holiday.public_id)
            assert record is not None
            await store.maps.update(record.id, now=NOW + 100, title="Garden holiday",
                                    description="Nothing")
        # Its place in the tier follows when it was shared (its id), not when it was changed.
        assert await titles(sql, MapQuery(q="garden", author=owner.username)) == [
            "Gardening tools", "Garden garden", "Garden holiday", "Garden planning",
            "Kitchen herbs"]
        assert await titles(sql, MapQuery(q="coast", author=owner.username)) == []
        await sql.aclose()


async def test_postgresql_reads_a_crowded_tier_in_id_order_alike(
    postgresql: SqlBackend, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """PostgreSQL reads a tier with few maps by their ids, one with many in id order (see
    map_queries.PROBE_CAP): both roads give the same pages."""
    owner = await _corpus(postgresql)

    async def by_date_and_views() -> dict[tuple[str, str], list[str]]:
        return {(q, order): await titles(postgresql, MapQuery(q=q, author=owner.username,
                                                              order=order))  # type: ignore[arg-type]
                for q in EXPECTED for order in ("newest", "views")}

    few = await by_date_and_views()
    assert few[("garden", "newest")] == ["Gardening tools", "Holiday", "Kitchen herbs",
                                         "Garden planning", "Garden garden"]  # by created_at
    monkeypatch.setattr(map_queries, "PROBE_CAP", 1)
    crowded = await _results(postgresql, owner, list(EXPECTED))
    for query, expected in EXPECTED.items():
        assert crowded[query] == expected, query
    assert await by_date_and_views() == few
    query = MapQuery(q="garden", author=owner.username)
    assert [m.title for m in await walk(postgresql, query, limit=2)] == EXPECTED["garden"]
