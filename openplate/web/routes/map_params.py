"""The query parameters of the library's lists (``GET /maps``, ``GET /users/{username}/maps``):
read from the raw query string, each at most once, refused in the API's error shape with the
parameter named; their OpenAPI description; and the next page's URL."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import QueryParams

from openplate.store.map_cursors import MAX_CURSOR_CHARS
from openplate.store.map_fields import InvalidField
from openplate.store.map_records import ORDERS, MapQuery, Order
from openplate.store.map_repos import MAX_PAGE

DEFAULT_LIMIT = 20
MAX_QUERY_CHARS = 200
#: Every parameter a list reads, in the order the next page's URL repeats them.
NAMES = ("q", "author", "tag", "format", "category", "sort", "limit", "cursor")


@dataclass(frozen=True, slots=True)
class ListParams:
    query: MapQuery
    limit: int
    cursor: str | None
    #: The filters as given (for the next page's URL).
    given: tuple[tuple[str, str], ...]


def _one(params: QueryParams, name: str) -> str | None:
    values = params.getlist(name)
    if len(values) > 1:
        raise InvalidField(name, f"'{name}' was sent more than once")
    return values[0] if values else None


def _limit(text: str | None) -> int:
    if text is None:
        return DEFAULT_LIMIT
    if not (text.isascii() and text.isdigit() and len(text) <= 4) or not 1 <= int(text) <= MAX_PAGE:
        raise InvalidField("limit", f"must be a whole number from 1 to {MAX_PAGE}")
    return int(text)


def read(params: QueryParams, *, with_author: bool) -> ListParams:
    """The list's parameters; ``InvalidField`` naming the first one at fault. Filters given
    empty (``tag=``) count as not given."""
    values = {name: _one(params, name) for name in NAMES if with_author or name != "author"}
    text = {name: value.strip() for name, value in values.items()
            if value is not None and value.strip() and name not in ("limit", "cursor")}
    q = values.get("q")
    if q is not None and len(q) > MAX_QUERY_CHARS:
        raise InvalidField("q", f"a query is at most {MAX_QUERY_CHARS} characters")
    sort = text.get("sort")
    if sort is not None and sort not in ORDERS:
        raise InvalidField("sort", "must be one of " + ", ".join(ORDERS))
    if sort == "relevance" and "q" not in text:
        raise InvalidField("sort", "relevance needs a query (q)")
    cursor = values.get("cursor") or None
    if cursor is not None and len(cursor) > MAX_CURSOR_CHARS:
        raise InvalidField("cursor", "the cursor is not one this list gave")
    for name in ("author", "tag", "format", "category"):
        if len(text.get(name, "")) > 100:
            raise InvalidField(name, f"'{name}' is too long")
    order: Order | None = next((o for o in ORDERS if o == sort), None)
    query = MapQuery(q=q if "q" in text else None, author=text.get("author"), tag=text.get("tag"),
                     format=text.get("format"), category=text.get("category"), order=order)
    limit = _limit(values.get("limit"))
    given = tuple((name, text[name]) for name in NAMES if name in text)
    return ListParams(query, limit, cursor, given)


def next_url(base: str, params: ListParams, cursor: str) -> str:
    """The next page: the same filters and limit, and its cursor."""
    pairs = [*params.given]
    if params.limit != DEFAULT_LIMIT:
        pairs.append(("limit", str(params.limit)))
    pairs.append(("cursor", cursor))
    return f"{base}?{urlencode(pairs)}"


def _parameter(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema}


def openapi_parameters(*, with_author: bool) -> list[dict[str, Any]]:
    """The lists' query parameters, for ``openapi_extra``."""
    found = [
        _parameter("q", "Full text over title, description and every topic: all words must "
                        "match, the last one as a prefix (3 characters or more).",
                   {"type": "string", "maxLength": MAX_QUERY_CHARS}),
        _parameter("author", "A username: only that user's maps.", {"type": "string"}),
        _parameter("tag", "Only maps with this tag (normalised as tags are).", {"type": "string"}),
        _parameter("format", "Only maps of this format (xmind, freemind, …).", {"type": "string"}),
        _parameter("category", "Only maps in this category (its slug).", {"type": "string"}),
        _parameter("sort", "newest (the default without q), relevance (the default with q; needs "
                           "q) or views (most viewed first).",
                   {"type": "string", "enum": list(ORDERS)}),
        _parameter("limit", f"Maps per page, 1 to {MAX_PAGE}.",
                   {"type": "integer", "minimum": 1, "maximum": MAX_PAGE,
                    "default": DEFAULT_LIMIT}),
        _parameter("cursor", "Where the page starts: from the previous page's next URL.",
                   {"type": "string", "maxLength": MAX_CURSOR_CHARS}),
    ]
    return [p for p in found if with_author or p["name"] != "author"]
