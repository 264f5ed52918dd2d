"""Mind maps: parse uploads (XMind, FreeMind/Freeplane, OPML, Markdown, MindManager) and export.

``parse_upload`` reads an upload; ``export_map`` writes an outline as OPML, Markdown, FreeMind
or JSON, and ``import_json`` reads the JSON export back. ``FORMATS`` describes the input
formats and ``EXPORT_FORMATS`` the export formats.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from openplate.library.formats import FORMATS, MapFormat
from openplate.library.model import MapRejected, ParsedMap, Topic, UploadLimits

if TYPE_CHECKING:
    from openplate.library.export import EXPORT_FORMATS, Exported, export_map
    from openplate.library.map_json import import_json
    from openplate.library.upload import parse_upload

__all__ = [
    "parse_upload",
    "UploadLimits",
    "ParsedMap",
    "Topic",
    "MapRejected",
    "FORMATS",
    "MapFormat",
    "export_map",
    "Exported",
    "EXPORT_FORMATS",
    "import_json",
]


def __getattr__(name: str) -> Any:
    # The parsers (XML, zip, images) load on the first upload, not when the server starts.
    if name == "parse_upload":
        from openplate.library.upload import parse_upload

        return parse_upload
    if name in ("export_map", "Exported", "EXPORT_FORMATS"):
        from openplate.library import export

        return getattr(export, name)
    if name == "import_json":
        from openplate.library.map_json import import_json

        return import_json
    raise AttributeError(name)
