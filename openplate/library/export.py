"""Export a map's outline as OPML, Markdown, FreeMind or JSON.

``export_map(sheets, fmt, title=...)`` returns the file's bytes (UTF-8), media type and
extension. Every topic is first put in the normal form the parsers produce (see
:func:`openplate.library.outline.normalise`), so importing an export gives back exactly the
normalised outline. OPML, Markdown and FreeMind hold one tree: a map with several sheets is
exported as one root titled with the map's title, whose children are the sheets; a map with
one sheet is exported as that sheet. JSON keeps the sheets as they are.

The same outline always gives the same bytes. Nothing recurses over the outline's depth.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from openplate.library.cleaning import clean_title
from openplate.library.export_markdown import write_markdown
from openplate.library.export_xml import write_freemind, write_opml
from openplate.library.map_json import write_json
from openplate.library.model import Topic, UploadLimits
from openplate.library.outline import normalise

_NORMAL = UploadLimits()


@dataclass(frozen=True)
class Exported:
    """One exported file."""

    content: bytes
    media_type: str
    extension: str


def _one_tree(write: Callable[[Topic, str], str]) -> Callable[[Sequence[Topic], str], str]:
    def write_sheets(sheets: Sequence[Topic], title: str) -> str:
        root = sheets[0] if len(sheets) == 1 else Topic(title, tuple(sheets))
        return write(root, title)

    return write_sheets


@dataclass(frozen=True)
class ExportFormat:
    """One export format; the key of :data:`EXPORT_FORMATS` is what ``?format=`` takes."""

    label: str
    extension: str
    media_type: str
    write: Callable[[Sequence[Topic], str], str]


EXPORT_FORMATS: dict[str, ExportFormat] = {
    "opml": ExportFormat("OPML", ".opml", "text/x-opml; charset=utf-8", _one_tree(write_opml)),
    "md": ExportFormat(
        "Markdown", ".md", "text/markdown; charset=utf-8", _one_tree(write_markdown)
    ),
    "mm": ExportFormat(
        "FreeMind", ".mm", "application/x-freemind", _one_tree(write_freemind)
    ),
    "json": ExportFormat("JSON", ".json", "application/json", write_json),
}


def export_map(sheets: Sequence[Topic], fmt: str, *, title: str) -> Exported:
    """Export ``sheets`` (one root topic per sheet) as ``fmt``, a key of EXPORT_FORMATS.

    Raises ValueError for an unknown format or an empty list of sheets.
    """
    chosen = EXPORT_FORMATS.get(fmt)
    if chosen is None:
        raise ValueError(f"unknown export format {fmt!r}; expected one of {sorted(EXPORT_FORMATS)}")
    if not sheets:
        raise ValueError("a map has at least one sheet")
    normal = [normalise(sheet, _NORMAL) for sheet in sheets]
    text = chosen.write(normal, clean_title(title, _NORMAL))
    return Exported(text.encode("utf-8"), chosen.media_type, chosen.extension)
