"""The headers of a map's page and files that depend on who may see the map.

Caching: a public or unlisted map's files may be kept by any cache for five minutes; a private
map's only by its owner's browser, and checked each time.

Search engines: an unlisted map is open to whoever has its link, and a link can reach a crawler
(a chat, a page that quotes it). Its page, files, picture and exports therefore answer with
``X-Robots-Tag: noindex`` (and the page says ``<meta name="robots" content="noindex">`` too),
so that a search engine that finds the link does not list the map. Public maps are listed
and indexed as usual; private ones are a 404 to everyone but their owner anyway.
"""

from __future__ import annotations

from openplate.store.map_records import MapSummary

NOINDEX = {"X-Robots-Tag": "noindex"}
PUBLIC_CACHE = "public, max-age=300"
PRIVATE_CACHE = "private, no-cache"


def robots_headers(record: MapSummary) -> dict[str, str]:
    """The header that keeps ``record`` out of search engines, if it is not public."""
    return NOINDEX if record.visibility != "public" else {}


def file_headers(record: MapSummary) -> dict[str, str]:
    """``Cache-Control`` and the robots header of one of the map's files (the upload, its
    thumbnail, its exports)."""
    cache = PRIVATE_CACHE if record.visibility == "private" else PUBLIC_CACHE
    return {"Cache-Control": cache, **robots_headers(record)}
