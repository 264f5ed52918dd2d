"""SQL repository for the library's categories: the list the operator keeps."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, case, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from openplate.store import map_fields
from openplate.store.category_counts import CategoryCounts
from openplate.store.map_fields import InvalidField
from openplate.store.map_records import CategoryRecord
from openplate.store.prepared import DbConnection
from openplate.store.tables import categories, maps

_COLUMNS = (categories.c.id, categories.c.slug, categories.c.name, categories.c.created_at)


def _category(row: Any, counts: dict[int, tuple[int, int]] | None = None) -> CategoryRecord:
    record = CategoryRecord(int(row.id), row.slug, row.name, int(row.created_at))
    if counts is None:
        return record
    total, public = counts.get(record.id, (0, 0))
    return CategoryRecord(record.id, record.slug, record.name, record.created_at, total, public)


class SqlCategories:
    def __init__(self, conn: DbConnection, counts: CategoryCounts) -> None:
        self._conn = conn
        self._counts = counts

    async def add(self, *, slug: str, name: str, now: int) -> CategoryRecord:
        """A new category; ``InvalidField`` for a slug or name the rules refuse, or a slug
        that is taken (field ``slug``)."""
        map_fields.check_category_slug(slug, field="slug")
        name = map_fields.check_category_name(name)
        insert = pg_insert if self._conn.dialect.name == "postgresql" else sqlite_insert
        row = (await self._conn.execute(
            insert(categories).values(slug=slug, name=name, created_at=now)
            .on_conflict_do_nothing().returning(*_COLUMNS))).first()
        if row is None:
            raise InvalidField("slug", f"there is a category {slug!r} already")
        self._counts.changed()
        return _category(row)

    async def all(self, *, with_counts: bool = False) -> list[CategoryRecord]:
        """Every category, by name (then slug); ``with_counts``: with how many maps each has,
        and how many of them are public."""
        rows = (await self._conn.execute(select(*_COLUMNS))).all()
        counts = None
        if with_counts:
            public = func.sum(case((maps.c.visibility == "public", 1), else_=0), type_=Integer)
            found = await self._conn.execute(
                select(maps.c.category_id, func.count().label("total"), public.label("public"))
                .where(maps.c.category_id.is_not(None)).group_by(maps.c.category_id))
            counts = {int(r.category_id): (int(r.total), int(r.public or 0)) for r in found}
        # Sorted here, by code point: the databases' collations differ.
        return sorted((_category(row, counts) for row in rows),
                      key=lambda c: (c.name.casefold(), c.slug))

    async def counted(self) -> list[CategoryRecord]:
        """``all(with_counts=True)``, as this process last counted it if that was recently
        (the home page's; see category_counts.py)."""
        kept = self._counts.fresh()
        if kept is not None:
            return kept
        generation = self._counts.generation
        counted = await self.all(with_counts=True)
        self._counts.keep(counted, generation)
        return counted

    async def by_slug(self, slug: str) -> CategoryRecord | None:
        row = (await self._conn.execute(
            select(*_COLUMNS).where(categories.c.slug == slug))).first()
        return _category(row) if row is not None else None

    async def remove(self, slug: str) -> int | None:
        """Remove the category; the maps in it are left without a category. How many maps
        those were; None if there is no such category."""
        found = await self.by_slug(slug)
        if found is None:
            return None
        cleared = await self._conn.execute(
            update(maps).where(maps.c.category_id == found.id).values(category_id=None)
            .returning(maps.c.id))
        count = len(cleared.all())
        await self._conn.execute(delete(categories).where(categories.c.id == found.id))
        self._counts.changed()
        return count
