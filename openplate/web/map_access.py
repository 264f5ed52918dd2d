"""Who may see and who may change a map: the one rule the JSON API (routes/maps_api.py) and the
MCP server (web/mcp_server) both apply.

A private map is its owner's alone: for anyone else it is exactly a map that does not exist.
Unlisted and public maps are open to whoever names them. Changing or deleting a map is its
owner's only.
"""

from __future__ import annotations

import re

from openplate.store.map_records import MapRecord
from openplate.store.unit import Store

#: A map's public id, as the library makes them (slugs.new_public_id).
PUBLIC_ID = re.compile(r"[0-9a-z]{6,16}")


def may_see(record: MapRecord, viewer_id: int | None) -> bool:
    """Whether the user ``viewer_id`` (None: nobody signed in) may see the map."""
    return record.visibility != "private" or (viewer_id is not None and viewer_id == record.owner_id)


async def visible_map(store: Store, public_id: str, viewer_id: int | None) -> MapRecord | None:
    """The map, if ``viewer_id`` may see it; None for a map that is not there or is hidden."""
    record = await store.maps.by_public_id(public_id) if PUBLIC_ID.fullmatch(public_id) else None
    return record if record is not None and may_see(record, viewer_id) else None
