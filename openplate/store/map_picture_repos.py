"""SQL repository for the pictures a map's page and exports draw from: cached ``map_files`` rows.

A picture is made from the map's stored outline on first use and kept as a ``map_files`` row of
its own kind (``picture.svg``, ``picture.png``; see openplate/web/map_pictures.py). Deleting the
map deletes them with its other files. Nothing here commits: the caller's unit of work does.
"""

from __future__ import annotations

from sqlalchemy import LargeBinary, String, exists, literal, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from openplate.store.prepared import DbConnection
from openplate.store.tables import map_files, maps


class SqlMapPictures:
    def __init__(self, conn: DbConnection) -> None:
        self._conn = conn

    async def get(self, *, map_id: int, kind: str) -> bytes | None:
        row = (await self._conn.execute(select(map_files.c.content).where(
            map_files.c.map_id == map_id, map_files.c.kind == kind))).first()
        return bytes(row.content) if row is not None else None

    async def put(self, *, map_id: int, kind: str, content: bytes, replace: bool = False) -> bool:
        """Keep ``content`` as the map's file of ``kind``: True if it was written. An existing
        row stays as it is unless ``replace`` (then it is overwritten). Two callers racing to
        write the same kind never fail: the row's primary key decides, on both databases. A map
        deleted meanwhile gets nothing (and no error)."""
        insert = pg_insert if self._conn.dialect.name == "postgresql" else sqlite_insert
        source = select(literal(map_id, maps.c.id.type), literal(kind, String(16)),
                        literal(content, LargeBinary)).where(
            exists().where(maps.c.id == map_id))
        added = await self._conn.execute(
            insert(map_files).from_select(["map_id", "kind", "content"], source)
            .on_conflict_do_nothing().returning(map_files.c.map_id))
        if added.first() is not None:
            return True
        if not replace:
            return False
        changed = await self._conn.execute(
            update(map_files).where(map_files.c.map_id == map_id, map_files.c.kind == kind)
            .values(content=content).returning(map_files.c.map_id))
        return changed.first() is not None
