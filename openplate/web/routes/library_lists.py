"""What the library's list pages share: the page size, the next page's link, and reading a
list page's cursor and filters from its query string."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from starlette.datastructures import QueryParams

from openplate.store.map_cursors import MAX_CURSOR_CHARS, BadCursor
from openplate.store.map_records import MapPage, MapQuery
from openplate.store.unit import Store

#: Maps on one page of a list; the home page shows fewer of each list.
PAGE_SIZE = 24
HOME_SIZE = 8
BAD_CURSOR = ("This page's link is not one the library gave, or it belongs to another list. "
              "Start again from the first page.")


def link(path: str, pairs: list[tuple[str, str]]) -> str:
    """A same-site link: ``path`` and its query string (none when ``pairs`` is empty)."""
    return f"{path}?{urlencode(pairs)}" if pairs else path


def one(params: QueryParams, name: str) -> str | None:
    """A query parameter given at most once (the first, if it came more often: a page never
    refuses what a link or a person typed); None when absent."""
    values = params.getlist(name)
    return values[0] if values else None


def cursor_of(params: QueryParams) -> str | None:
    """The ``cursor`` parameter, or None (an empty one, or one far too long to be ours, is
    treated as none given)."""
    cursor = one(params, "cursor")
    return cursor if cursor and len(cursor) <= MAX_CURSOR_CHARS else None


@dataclass(frozen=True, slots=True)
class Listed:
    """A page of a list as a page shows it: the maps, the next page's link, and whether this
    is a later page (then the page links back to the first)."""

    page: MapPage
    next_url: str | None
    later: bool
    #: Set when the cursor was refused: the first page is shown instead, with this message.
    cursor_error: str | None = None


async def list_page(store: Store, query: MapQuery, *, path: str, pairs: list[tuple[str, str]],
                    cursor: str | None, limit: int = PAGE_SIZE) -> Listed:
    """One page of ``query``: from ``cursor`` (a refused cursor shows the first page and says
    so). ``pairs`` are the list's own parameters, repeated in the next page's link.
    ``InvalidField`` passes through for a filter the repository refuses."""
    error = None
    try:
        page = await store.maps.page(query, limit=limit, cursor=cursor)
    except BadCursor:
        error, cursor = BAD_CURSOR, None
        page = await store.maps.page(query, limit=limit)
    following = (link(path, [*pairs, ("cursor", page.next_cursor)])
                 if page.next_cursor is not None else None)
    return Listed(page, following, cursor is not None, error)
