"""SQL repository for the mind-map library: map records and their files."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from openplate.store.prepared import DbConnection
from openplate.store.tables import map_files, maps, users


@dataclass(frozen=True, slots=True)
class MapRecord:
    id: int
    public_id: str
    slug: str
    title: str
    description: str
    author: str
    format: str
    filename: str
    media_type: str
    size: int
    has_thumbnail: bool
    outline: str
    topic_count: int
    created_at: int


_COLUMNS = (
    maps.c.id, maps.c.public_id, maps.c.slug, maps.c.title, maps.c.description,
    users.c.username.label("author"), maps.c.format, maps.c.filename, maps.c.media_type,
    maps.c.size, maps.c.has_thumbnail, maps.c.outline, maps.c.topic_count, maps.c.created_at,
)


def _map(row: Any) -> MapRecord:
    return MapRecord(**{name: getattr(row, name) for name in MapRecord.__slots__})


class SqlMaps:
    def __init__(self, conn: DbConnection) -> None:
        self._conn = conn

    async def create(
        self, *, public_id: str, slug: str, title: str, description: str, owner_id: int,
        client_pk: int | None, format: str, filename: str, media_type: str, content: bytes,
        thumbnail: bytes | None, outline: str, topic_count: int, now: int,
    ) -> int:
        result = await self._conn.execute(
            maps.insert()
            .values(
                public_id=public_id, slug=slug, title=title, description=description,
                owner_id=owner_id, client_pk=client_pk, format=format, filename=filename,
                media_type=media_type, size=len(content), has_thumbnail=thumbnail is not None,
                outline=outline, topic_count=topic_count, created_at=now,
            )
            .returning(maps.c.id)
        )
        map_id = int(result.scalar_one())
        files = [{"map_id": map_id, "kind": "map", "content": content}]
        if thumbnail is not None:
            files.append({"map_id": map_id, "kind": "thumbnail", "content": thumbnail})
        await self._conn.execute(map_files.insert(), files)
        return map_id

    async def by_public_id(self, public_id: str) -> MapRecord | None:
        row = (
            await self._conn.execute(
                select(*_COLUMNS)
                .join(users, users.c.id == maps.c.owner_id)
                .where(maps.c.public_id == public_id)
            )
        ).first()
        return _map(row) if row is not None else None

    async def latest(self, *, limit: int = 20) -> list[MapRecord]:
        rows = await self._conn.execute(
            select(*_COLUMNS)
            .join(users, users.c.id == maps.c.owner_id)
            .order_by(maps.c.created_at.desc(), maps.c.id.desc())
            .limit(limit)
        )
        return [_map(row) for row in rows]

    async def file(self, *, map_id: int, kind: str) -> bytes | None:
        row = (
            await self._conn.execute(
                select(map_files.c.content).where(
                    map_files.c.map_id == map_id, map_files.c.kind == kind
                )
            )
        ).first()
        return bytes(row.content) if row is not None else None
