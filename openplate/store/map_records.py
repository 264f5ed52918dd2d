"""What the library's repositories take and give: map records, list queries and pages,
categories."""

from __future__ import annotations

import enum
from dataclasses import dataclass, fields
from typing import Any, Literal, TypeAlias

#: How a list is ordered: newest first, most viewed first, or by relevance to ``q``.
Order: TypeAlias = Literal["newest", "views", "relevance"]
ORDERS: tuple[Order, ...] = ("newest", "views", "relevance")


class Keep(enum.Enum):
    """``SqlMaps.update``'s default for a field: leave it as it is."""

    KEEP = "keep"


KEEP = Keep.KEEP


@dataclass(frozen=True, slots=True)
class MapSummary:
    """A map as lists show it (no outline)."""

    id: int
    public_id: str
    slug: str
    title: str
    description: str
    owner_id: int
    #: The owner's username, and the name the account shows (its display name, else username).
    author: str
    author_name: str
    format: str
    filename: str
    media_type: str
    size: int
    has_thumbnail: bool
    topic_count: int
    visibility: str
    category_slug: str | None
    category_name: str | None
    view_count: int
    created_at: int
    updated_at: int
    #: Sorted by code point.
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class MapRecord(MapSummary):
    """A map with its outline: the stored JSON text, a list of sheets (root topics)."""

    outline: str = "[]"


SUMMARY_FIELDS = tuple(f.name for f in fields(MapSummary) if f.name != "tags")


def summary_from(row: Any, tags: tuple[str, ...]) -> MapSummary:
    return MapSummary(**{name: getattr(row, name) for name in SUMMARY_FIELDS}, tags=tags)


def record_from(row: Any, tags: tuple[str, ...]) -> MapRecord:
    return MapRecord(**{name: getattr(row, name) for name in SUMMARY_FIELDS}, tags=tags,
                     outline=row.outline)


@dataclass(frozen=True, slots=True)
class MapQuery:
    """Which maps a list holds, and in which order.

    Lists hold public maps only, but for ``include_hidden`` with ``owner_id``: the owner's own
    list, all of their maps. ``author`` is a username (any case); ``tag`` is normalised as
    tags are (store/map_fields.py); ``category`` is a category's slug. ``order`` None means
    relevance when ``q`` is given, else newest. A ``q`` with no words in it matches nothing.
    """

    q: str | None = None
    author: str | None = None
    owner_id: int | None = None
    tag: str | None = None
    format: str | None = None
    category: str | None = None
    include_hidden: bool = False
    order: Order | None = None


@dataclass(frozen=True, slots=True)
class MapPage:
    """One page of a list, and the cursor of the next one (None: this was the last)."""

    maps: tuple[MapSummary, ...]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class CategoryRecord:
    id: int
    slug: str
    name: str
    created_at: int
    #: With ``SqlCategories.all(with_counts=True)``: its maps, and how many of them are public.
    maps: int | None = None
    public_maps: int | None = None
