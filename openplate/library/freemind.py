"""Read FreeMind / Freeplane ``.mm`` documents into a single-sheet outline.

A node's title is its ``TEXT`` attribute; failing that, the plain text of a Freeplane
``<richcontent TYPE="NODE">`` HTML body (tags stripped, head/style/script skipped); failing
that, ``LOCALIZED_TEXT``; otherwise "(untitled)". Its note is the plain text of
``<richcontent TYPE="NOTE">`` and its link the ``LINK`` attribute.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from openplate.library.cleaning import cleaned_topic
from openplate.library.formats import FORMATS, FREEMIND
from openplate.library.model import MapRejected, ParsedMap, Topic, UploadLimits
from openplate.library.outline import TopicBudget
from openplate.library.richtext import RichText
from openplate.library.xmlstream import StreamHandler

FORMAT = FORMATS[FREEMIND]

# Extra XML nesting allowed beyond max_depth for non-node elements (richcontent HTML etc.).
_XML_DEPTH_SLACK = 64

# Roles of open elements.
_MAP, _NODE, _RICH, _RICH_INNER, _OTHER = "map", "node", "rich", "rich-inner", "other"


@dataclass
class _NodeFrame:
    text: str
    localized: str
    link: str
    rich: str = ""
    note: str = ""
    children: list[Topic] = field(default_factory=list)

    def title(self) -> str:
        for candidate in (self.text, self.rich, self.localized):
            if candidate.strip():
                return candidate
        return ""


class FreeMindHandler(StreamHandler):
    """Builds the outline of a ``<map>`` document from parser events."""

    def __init__(self, limits: UploadLimits, budget: TopicBudget) -> None:
        super().__init__(max_xml_depth=limits.max_depth + _XML_DEPTH_SLACK)
        self._limits = limits
        self._budget = budget
        self._roles: list[str] = []
        self._frames: list[_NodeFrame] = []
        self._rich: RichText | None = None
        self._rich_is_note = False
        self.roots: list[Topic] = []

    def on_start(self, namespace: str, local: str, attrib: dict[str, str], root: bool) -> None:
        if root:
            if namespace or local != "map":
                raise MapRejected.unsupported("The XML document is not a FreeMind map.")
            self._roles.append(_MAP)
            return
        parent = self._roles[-1]
        kind = attrib.get("TYPE", "").upper()
        if self._rich is not None:
            self._rich.start(local)
            role = _RICH_INNER
        elif local == "node" and not namespace and parent in (_MAP, _NODE):
            if parent == _MAP and (self.roots or self._frames):
                raise MapRejected.invalid("The FreeMind map has more than one root node.")
            self._budget.add(len(self._frames) + 1)
            self._frames.append(
                _NodeFrame(
                    attrib.get("TEXT", ""), attrib.get("LOCALIZED_TEXT", ""),
                    attrib.get("LINK", ""),
                )
            )
            role = _NODE
        elif local == "richcontent" and parent == _NODE and kind in ("NODE", "NOTE"):
            plain = attrib.get("CONTENT-TYPE", "").lower().startswith("plain")
            self._rich = RichText(keep_breaks=plain)
            self._rich_is_note = kind == "NOTE"
            role = _RICH
        else:
            role = _OTHER
        self._roles.append(role)

    def on_end(self, namespace: str, local: str) -> None:
        role = self._roles.pop()
        if role == _RICH_INNER and self._rich is not None:
            self._rich.end(local)
        elif role == _RICH and self._rich is not None:
            if self._rich_is_note:
                self._frames[-1].note = self._rich.text()
            else:
                self._frames[-1].rich = self._rich.text()
            self._rich = None
        elif role == _NODE:
            frame = self._frames.pop()
            topic = cleaned_topic(frame.title(), frame.children, frame.note, frame.link,
                                  self._limits)
            if self._frames:
                self._frames[-1].children.append(topic)
            else:
                self.roots.append(topic)

    def on_data(self, text: str) -> None:
        if self._rich is not None:
            self._rich.data(text)

    def finish(self) -> ParsedMap:
        if not self.roots:
            raise MapRejected.invalid("The FreeMind map has no root node.")
        return ParsedMap(
            format=FORMAT.name,
            extension=FORMAT.extension,
            media_type=FORMAT.media_type,
            sheets=tuple(self.roots),
            topic_count=self._budget.count,
            thumbnail_png=None,
        )
