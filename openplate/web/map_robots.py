"""Keep maps that are not public out of search engines.

An unlisted map is open to whoever has its link, and a link can reach a crawler (a chat, a page
that quotes it). Its page, files, picture and exports therefore answer with
``X-Robots-Tag: noindex`` (and the page says ``<meta name="robots" content="noindex">`` too),
so that a search engine that finds the link does not list the map. Public maps are listed
and indexed as usual; private ones are a 404 to everyone but their owner anyway.
"""

from __future__ import annotations

from openplate.store.map_records import MapSummary

NOINDEX = {"X-Robots-Tag": "noindex"}


def robots_headers(record: MapSummary) -> dict[str, str]:
    """The header that keeps ``record`` out of search engines, if it is not public."""
    return NOINDEX if record.visibility != "public" else {}
