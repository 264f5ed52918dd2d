"""The library's storage on SQLite and PostgreSQL: maps with tags, visibility and categories,
the lists' filters and cursors, changes and deletion, view counts.

Every test makes a user of its own and lists by that author, so maps other tests leave in the
shared database change nothing here. (Search ranking: test_map_search.py; the 250-map walk and
the view-count bursts: tests/store/test_map_pages.py.)
"""

from __future__ import annotations

import secrets

import pytest

from openplate.store.category_counts import CategoryCounts
from openplate.store.map_cursors import BadCursor
from openplate.store.map_fields import InvalidField
from openplate.store.map_records import MapQuery
from tests.contract.backends import NOW, SqlBackend
from tests.contract.map_helpers import add_map, fts_is_consistent, rows_of, titles, topic, walk


@pytest.fixture(params=["sqlite", "postgresql"])
def sql(request: pytest.FixtureRequest) -> SqlBackend:
    return SqlBackend(request.param, request.getfixturevalue(f"{request.param}_url"))


def _slug() -> str:
    return "c-" + secrets.token_hex(4)


async def _category(sql: SqlBackend, name: str = "Gardening") -> str:
    slug = _slug()
    async with sql.db.transaction() as store:
        await store.categories.add(slug=slug, name=name, now=NOW)
    return slug


async def test_a_map_is_stored_with_its_tags_visibility_and_category(sql: SqlBackend) -> None:
    owner = await sql.add_user()
    category = await _category(sql)
    public_id = await add_map(sql, owner, title="Roses", description="Pruning",
                              outline=[topic("Roses", topic("Spring", note="Cut back hard"))],
                              tags=["  Climbing Roses ", "ROSES", "climbing   roses"],
                              visibility="unlisted", category=category, now=NOW - 50)
    async with sql.db.transaction(readonly=True) as store:
        record = await store.maps.by_public_id(public_id)
    assert record is not None
    assert record.tags == ("climbing-roses", "roses")
    assert (record.visibility, record.category_slug, record.category_name) == (
        "unlisted", category, "Gardening")
    assert record.created_at == record.updated_at == NOW - 50 and record.view_count == 0
    assert record.author == owner.username == record.author_name
    async with sql.db.transaction(readonly=True) as store:
        assert await store.maps.file(map_id=record.id, kind="map") == b"PK original bytes"


@pytest.mark.parametrize("changes, field", [
    ({"tags": [f"t{n}" for n in range(11)]}, "tags"),
    ({"tags": ["ok", "no/slash"]}, "tags"),
    ({"tags": ["x" * 41]}, "tags"),
    ({"visibility": "secret"}, "visibility"),
    ({"category": "no-such-category"}, "category"),
    ({"category": "Bad Slug"}, "category"),
])
async def test_refused_values_store_nothing(sql: SqlBackend, changes: dict[str, object],
                                            field: str) -> None:
    owner = await sql.add_user()
    with pytest.raises(InvalidField) as refused:
        await add_map(sql, owner, **changes)  # type: ignore[arg-type]
    assert refused.value.field == field
    assert await titles(sql, MapQuery(owner_id=owner.id, include_hidden=True)) == []


async def test_lists_show_public_maps_and_the_owner_all_of_theirs(sql: SqlBackend) -> None:
    owner, other = await sql.add_user(), await sql.add_user()
    for n, visibility in enumerate(("public", "unlisted", "private")):
        await add_map(sql, owner, title=f"{visibility} map", visibility=visibility, now=NOW + n)
    await add_map(sql, other, title="someone else's")
    assert await titles(sql, MapQuery(author=owner.username)) == ["public map"]
    assert await titles(sql, MapQuery(author=owner.username.upper())) == ["public map"]
    assert await titles(sql, MapQuery(owner_id=owner.id)) == ["public map"]
    assert await titles(sql, MapQuery(owner_id=owner.id, include_hidden=True)) == [
        "private map", "unlisted map", "public map"]
    # include_hidden without an owner is no way around the rule.
    shown = await titles(sql, MapQuery(author=owner.username, include_hidden=True))
    assert shown == ["public map"]
    # Nor is search.
    assert await titles(sql, MapQuery(q="map", author=owner.username)) == ["public map"]


async def test_filters_by_tag_format_and_category(sql: SqlBackend) -> None:
    owner = await sql.add_user()
    category = await _category(sql)
    await add_map(sql, owner, title="a", tags=["Blue Sky"], now=NOW + 1)
    await add_map(sql, owner, title="b", tags=["green"], format="freemind", category=category,
                  now=NOW + 2)
    await add_map(sql, owner, title="c", tags=["blue-sky", "green"], category=category,
                  now=NOW + 3)
    mine = MapQuery(author=owner.username)
    assert await titles(sql, MapQuery(author=owner.username, tag="BLUE  sky")) == ["c", "a"]
    assert await titles(sql, MapQuery(author=owner.username, format="freemind")) == ["b"]
    assert await titles(sql, MapQuery(author=owner.username, category=category)) == ["c", "b"]
    assert await titles(sql, MapQuery(author=owner.username, category=category,
                                      tag="green", format="xmind")) == ["c"]
    assert await titles(sql, MapQuery(author=owner.username, category=_slug())) == []
    assert await titles(sql, mine) == ["c", "b", "a"]
    for bad, field in ((MapQuery(tag="a/b"), "tag"), (MapQuery(format="XMind!"), "format"),
                       (MapQuery(category="Not A Slug"), "category"),
                       (MapQuery(order="relevance"), "sort")):
        with pytest.raises(InvalidField) as refused:
            await titles(sql, bad)
        assert refused.value.field == field


async def test_most_viewed_first(sql: SqlBackend) -> None:
    owner = await sql.add_user()
    ids = [await add_map(sql, owner, title=f"m{n}", now=NOW + n) for n in range(3)]
    async with sql.db.transaction() as store:
        for n, public_id in enumerate(ids):
            record = await store.maps.by_public_id(public_id)
            assert record is not None
            for viewer in range([2, 0, 5][n]):
                assert await store.maps.record_view(record.id, f"viewer-{viewer}", 20_000)
    order = MapQuery(author=owner.username, order="views")
    assert await titles(sql, order) == ["m2", "m0", "m1"]
    assert [m.title for m in await walk(sql, order, limit=1)] == ["m2", "m0", "m1"]


async def test_a_view_counts_once_per_viewer_and_day(sql: SqlBackend) -> None:
    owner = await sql.add_user()
    public_id = await add_map(sql, owner)
    async with sql.db.transaction() as store:
        record = await store.maps.by_public_id(public_id)
        assert record is not None
        seen = [await store.maps.record_view(record.id, viewer, day)
                for viewer, day in (("a", 1), ("a", 1), ("b", 1), ("a", 2), ("b", 1))]
        assert seen == [True, False, True, True, False]
        assert await store.maps.record_view(10**12, "a", 1) is False  # no such map
        assert await store.maps.forget_views(before_day=2) >= 2
    async with sql.db.transaction(readonly=True) as store:
        again = await store.maps.by_public_id(public_id)
    assert again is not None and again.view_count == 3


async def test_cursors_are_sealed_and_bound_to_their_query(sql: SqlBackend) -> None:
    owner = await sql.add_user()
    for n in range(3):
        await add_map(sql, owner, title=f"m{n}", tags=["t"], now=NOW + n)
    query = MapQuery(author=owner.username)
    async with sql.db.transaction(readonly=True) as store:
        page = await store.maps.page(query, limit=1)
        cursor = page.next_cursor
        assert cursor is not None
        body, _, mac = cursor.partition(".")
        forged = [
            "", ".", "x", "x.y", cursor + "x", cursor[:-1], "a" * 300, cursor.replace(".", ".."),
            body + "." + mac[::-1], "bmV3ZXN0LjEuMQ." + mac, "\x00" + cursor, "é" + cursor,
        ]
        for bad in forged:
            with pytest.raises(BadCursor):
                await store.maps.page(query, limit=1, cursor=bad)
        for other in (MapQuery(author=owner.username, tag="t"), MapQuery(),
                      MapQuery(author=owner.username, order="views")):
            with pytest.raises(BadCursor):
                await store.maps.page(other, limit=1, cursor=cursor)
        # The same query, another page size: the cursor still holds.
        assert [m.title for m in (await store.maps.page(query, limit=5, cursor=cursor)).maps] == [
            "m1", "m0"]
        with pytest.raises(InvalidField):
            await store.maps.page(query, limit=0)
        with pytest.raises(InvalidField):
            await store.maps.page(query, limit=101)


async def test_every_order_pages_through_ties(sql: SqlBackend) -> None:
    """Maps made in the same second, with the same views: the id breaks the tie, so every map
    comes once whatever the page size."""
    owner = await sql.add_user()
    for n in range(9):
        await add_map(sql, owner, title=f"same second {n}", now=NOW)
    for query in (MapQuery(author=owner.username), MapQuery(author=owner.username, order="views"),
                  MapQuery(author=owner.username, q="same second")):
        everything = [m.id for m in await walk(sql, query, limit=100)]
        assert len(everything) == 9
        for size in (1, 2, 4):
            assert [m.id for m in await walk(sql, query, limit=size)] == everything


async def test_update_changes_what_is_given_and_nothing_else(sql: SqlBackend) -> None:
    owner = await sql.add_user()
    category = await _category(sql, "Food")
    public_id = await add_map(sql, owner, title="Obsolete heading", description="old words",
                              tags=["x"], category=category, outline=[topic("Root")])
    async with sql.db.transaction() as store:
        record = await store.maps.by_public_id(public_id)
        assert record is not None
        assert await store.maps.update(record.id, now=NOW + 10, title="  New Title  ",
                                       tags=["A", "b"], category=None, visibility="private")
    async with sql.db.transaction(readonly=True) as store:
        changed = await store.maps.by_public_id(public_id)
    assert changed is not None
    assert (changed.title, changed.slug, changed.filename) == ("New Title", "new-title",
                                                               "new-title.xmind")
    assert changed.description == "old words" and changed.tags == ("a", "b")
    assert changed.category_slug is None and changed.visibility == "private"
    assert changed.updated_at == NOW + 10 and changed.created_at == record.created_at
    mine = MapQuery(owner_id=owner.id, include_hidden=True)
    assert await titles(sql, MapQuery(q="new title", owner_id=owner.id, include_hidden=True)) == [
        "New Title"]
    assert await titles(sql, MapQuery(q="obsolete", owner_id=owner.id, include_hidden=True)) == []
    assert await titles(sql, MapQuery(q="old words", owner_id=owner.id, include_hidden=True)) == [
        "New Title"]
    # A refused value changes nothing, not even what came with it.
    for bad in ({"title": ""}, {"title": "t" * 201}, {"tags": ["a"] * 3 + ["#"]},
                {"category": "gone"}, {"visibility": "everyone"}, {"description": "d" * 10_001}):
        async with sql.db.transaction() as store:
            with pytest.raises(InvalidField):
                await store.maps.update(record.id, now=NOW + 20, **{
                    "description": "Should not be kept", **bad})  # type: ignore[arg-type]
    async with sql.db.transaction(readonly=True) as store:
        assert await store.maps.by_public_id(public_id) == changed
        assert await store.maps.update(10**12, now=NOW, title="x") is False
    assert [m.title for m in await walk(sql, mine, limit=5)] == ["New Title"]
    await fts_is_consistent(sql)


async def test_delete_leaves_nothing_behind(sql: SqlBackend) -> None:
    owner = await sql.add_user()
    word = "zq" + secrets.token_hex(4)
    public_id = await add_map(sql, owner, title=f"Doomed {word}", tags=["a", "b"],
                              outline=[topic("Root", topic(word, note=word))])
    async with sql.db.transaction() as store:
        record = await store.maps.by_public_id(public_id)
        assert record is not None
        assert await store.maps.record_view(record.id, "viewer", 1)
    assert await rows_of(sql, record.id) == {
        "map_files": 2, "map_tags": 2, "map_views": 1, "map_search": 1, "maps": 1}
    assert await titles(sql, MapQuery(q=word)) == [f"Doomed {word}"]
    async with sql.db.transaction() as store:
        assert await store.maps.delete(record.id) is True
        assert await store.maps.delete(record.id) is False
    assert set((await rows_of(sql, record.id)).values()) == {0}
    assert await titles(sql, MapQuery(q=word)) == []
    async with sql.db.transaction(readonly=True) as store:
        assert await store.maps.by_public_id(public_id) is None
    await fts_is_consistent(sql)


async def test_deleting_the_owner_takes_the_maps_and_their_search_rows(sql: SqlBackend) -> None:
    owner = await sql.add_user()
    word = "zq" + secrets.token_hex(4)
    public_id = await add_map(sql, owner, title=word, tags=["t"])
    async with sql.db.transaction(readonly=True) as store:
        record = await store.maps.by_public_id(public_id)
    assert record is not None
    async with sql.db.transaction() as store:
        assert await store.admin.delete_user(user_id=owner.id)
    assert set((await rows_of(sql, record.id)).values()) == {0}
    assert await titles(sql, MapQuery(q=word)) == []
    await fts_is_consistent(sql)


async def test_categories_add_list_remove(sql: SqlBackend) -> None:
    owner = await sql.add_user()
    slug = _slug()
    async with sql.db.transaction() as store:
        added = await store.categories.add(slug=slug, name="  Ärzte & Medicine ", now=NOW)
        assert (added.slug, added.name) == (slug, "Ärzte & Medicine")
        for bad_slug, bad_name, field in ((slug, "Again", "slug"), ("Upper", "x", "slug"),
                                          ("a--b", "x", "slug"), ("-a", "x", "slug"),
                                          ("s" * 41, "x", "slug"), (_slug(), "", "name"),
                                          (_slug(), "n" * 81, "name"), (_slug(), "a\x00b", "name")):
            with pytest.raises(InvalidField) as refused:
                await store.categories.add(slug=bad_slug, name=bad_name, now=NOW)
            assert refused.value.field == field
    await add_map(sql, owner, category=slug)
    await add_map(sql, owner, category=slug, visibility="private")
    async with sql.db.transaction(readonly=True) as store:
        listed = {c.slug: c for c in await store.categories.all(with_counts=True)}
        assert (listed[slug].maps, listed[slug].public_maps) == (2, 1)
        assert (await store.categories.by_slug(slug)) == added
    async with sql.db.transaction() as store:
        assert await store.categories.remove(slug) == 2
        assert await store.categories.remove(slug) is None
    async with sql.db.transaction(readonly=True) as store:
        assert await store.categories.by_slug(slug) is None
        assert slug not in {c.slug for c in await store.categories.all()}
    shown = await walk(sql, MapQuery(owner_id=owner.id, include_hidden=True), limit=10)
    assert [m.category_slug for m in shown] == [None, None]


async def test_the_home_pages_counts_are_kept_briefly_and_recounted_after_a_write(
        sql: SqlBackend) -> None:
    """``counted`` (the home page's) counts once, then answers from memory until this process
    writes a map or a category, or ``TTL`` seconds pass; another process's write (a second
    ``Database`` on the same file or server) shows only after that."""
    clock = [1000.0]
    sql.db.category_counts = CategoryCounts(ttl=30, clock=lambda: clock[0])
    other = SqlBackend(sql.name, sql.url)  # another node, or the openplate command
    owner = await sql.add_user()
    slug = await _category(sql)

    async def public_count() -> int | None:
        async with sql.db.transaction(readonly=True) as store:
            return {c.slug: c for c in await store.categories.counted()}[slug].public_maps

    assert await public_count() == 0
    await add_map(sql, owner, category=slug)  # this process: counted again at once
    assert await public_count() == 1
    await add_map(other, owner, category=slug)
    await add_map(other, owner, category=slug, visibility="private")
    assert await public_count() == 1  # from memory
    clock[0] += 29
    assert await public_count() == 1
    clock[0] += 1
    assert await public_count() == 2  # 30 s later, read again
    public_id = await add_map(other, owner, category=slug)
    async with sql.db.transaction() as store:  # a change made here: at once
        record = await store.maps.by_public_id(public_id)
        assert record is not None
        assert await store.maps.update(record.id, now=NOW, visibility="unlisted")
    assert await public_count() == 2
    async with sql.db.transaction() as store:
        assert await store.maps.delete(record.id)
        await store.categories.add(slug=_slug(), name="Another", now=NOW)
    async with sql.db.transaction(readonly=True) as store:
        assert len(await store.categories.counted()) == len(await store.categories.all())
    await other.aclose()


def test_a_count_begun_before_a_write_is_not_kept() -> None:
    counts = CategoryCounts(ttl=30, clock=lambda: 0.0)
    begun = counts.generation
    counts.changed()  # a write of this process while the count was being read
    counts.keep([], begun)
    assert counts.fresh() is None
    counts.keep([], counts.generation)
    assert counts.fresh() == []
