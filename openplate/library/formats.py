"""The mind-map formats the library reads: name, file extension and media type of each.

This module imports no parser, so the web layer can validate a ``format`` filter or name a
download without loading XML, ZIP or image code.
"""

from __future__ import annotations

from dataclasses import dataclass

XMIND = "xmind"
FREEMIND = "freemind"
OPML = "opml"
MARKDOWN = "markdown"
MINDMANAGER = "mindmanager"


@dataclass(frozen=True)
class MapFormat:
    """One input format: ``ParsedMap.format`` is ``name``; the stored file keeps the rest."""

    name: str
    label: str
    extension: str
    media_type: str


FORMATS: dict[str, MapFormat] = {
    item.name: item
    for item in (
        MapFormat(XMIND, "XMind", ".xmind", "application/vnd.xmind.workbook"),
        MapFormat(FREEMIND, "FreeMind / Freeplane", ".mm", "application/x-freemind"),
        MapFormat(OPML, "OPML", ".opml", "text/x-opml"),
        MapFormat(MARKDOWN, "Markdown outline", ".md", "text/markdown; charset=utf-8"),
        MapFormat(
            MINDMANAGER, "MindManager", ".mmap", "application/vnd.mindjet.mindmanager"
        ),
    )
}
FORMAT_NAMES: tuple[str, ...] = tuple(FORMATS)

#: The 415 description for content that is none of the formats above.
NOT_A_MAP = (
    "The file is not a mind map in a format the library reads: XMind (.xmind), "
    "FreeMind/Freeplane (.mm), MindManager (.mmap), OPML (.opml) or a Markdown outline (.md)."
)
