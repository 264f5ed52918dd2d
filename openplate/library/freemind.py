"""Parse FreeMind / Freeplane ``.mm`` documents into a single-sheet outline.

A node's title is its ``TEXT`` attribute; failing that, the plain text of a Freeplane
``<richcontent TYPE="NODE">`` HTML body (tags stripped, head/style/script skipped); failing
that, ``LOCALIZED_TEXT``; otherwise "(untitled)".
"""

from __future__ import annotations

from dataclasses import dataclass, field

from openplate.library.model import (
    INVALID_MAP,
    MapRejected,
    ParsedMap,
    Topic,
    UploadLimits,
    describe_size,
)
from openplate.library.outline import TopicBudget, clean_title
from openplate.library.xmlstream import StreamHandler, parse_stream

FORMAT = "freemind"
EXTENSION = ".mm"
MEDIA_TYPE = "application/x-freemind"

# Extra XML nesting allowed beyond max_depth for non-node elements (richcontent HTML etc.).
_XML_DEPTH_SLACK = 64
_BLOCK_TAGS = frozenset({"p", "div", "br", "li", "tr", "td", "th", "h1", "h2", "h3", "h4", "h5",
                         "h6", "ul", "ol", "table", "blockquote", "pre", "body"})
_HIDDEN_TAGS = frozenset({"head", "style", "script", "title"})

# Roles of open elements.
_MAP, _NODE, _RICH, _RICH_INNER, _OTHER = "map", "node", "rich", "rich-inner", "other"


@dataclass
class _NodeFrame:
    text: str
    localized: str
    rich: str = ""
    children: list[Topic] = field(default_factory=list)

    def title(self) -> str:
        for candidate in (self.text, self.rich, self.localized):
            if candidate.strip():
                return candidate
        return ""


class _RichText:
    """Collects the visible text of an HTML fragment from parser events."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._hidden = 0

    def start(self, local: str) -> None:
        lowered = local.lower()
        if lowered in _HIDDEN_TAGS:
            self._hidden += 1
        elif lowered in _BLOCK_TAGS:
            self._parts.append(" ")

    def end(self, local: str) -> None:
        lowered = local.lower()
        if lowered in _HIDDEN_TAGS:
            self._hidden -= 1
        elif lowered in _BLOCK_TAGS:
            self._parts.append(" ")

    def data(self, text: str) -> None:
        if not self._hidden:
            self._parts.append(text)

    def text(self) -> str:
        return "".join(self._parts)


class _FreeMindHandler(StreamHandler):
    def __init__(self, limits: UploadLimits, budget: TopicBudget) -> None:
        super().__init__(max_xml_depth=limits.max_depth + _XML_DEPTH_SLACK)
        self._limits = limits
        self._budget = budget
        self._roles: list[str] = []
        self._frames: list[_NodeFrame] = []
        self._rich: _RichText | None = None
        self.roots: list[Topic] = []

    def on_start(self, namespace: str, local: str, attrib: dict[str, str], root: bool) -> None:
        if root:
            if namespace or local != "map":
                raise MapRejected.unsupported("The XML document is not a FreeMind map.")
            self._roles.append(_MAP)
            return
        parent = self._roles[-1]
        if self._rich is not None:
            self._rich.start(local)
            role = _RICH_INNER
        elif local == "node" and not namespace and parent in (_MAP, _NODE):
            if parent == _MAP and (self.roots or self._frames):
                raise MapRejected.invalid("The FreeMind map has more than one root node.")
            self._budget.add(len(self._frames) + 1)
            self._frames.append(
                _NodeFrame(attrib.get("TEXT", ""), attrib.get("LOCALIZED_TEXT", ""))
            )
            role = _NODE
        elif (
            local == "richcontent"
            and parent == _NODE
            and attrib.get("TYPE", "").upper() == "NODE"
        ):
            self._rich = _RichText()
            role = _RICH
        else:
            role = _OTHER
        self._roles.append(role)

    def on_end(self, namespace: str, local: str) -> None:
        role = self._roles.pop()
        if role == _RICH_INNER and self._rich is not None:
            self._rich.end(local)
        elif role == _RICH and self._rich is not None:
            self._frames[-1].rich = self._rich.text()
            self._rich = None
        elif role == _NODE:
            frame = self._frames.pop()
            topic = Topic(clean_title(frame.title(), self._limits), tuple(frame.children))
            if self._frames:
                self._frames[-1].children.append(topic)
            else:
                self.roots.append(topic)

    def on_data(self, text: str) -> None:
        if self._rich is not None:
            self._rich.data(text)


def parse_freemind(data: bytes, limits: UploadLimits) -> ParsedMap:
    """Parse a FreeMind/Freeplane document; raise MapRejected if it is not an acceptable map."""
    if len(data) > limits.max_xml_bytes:
        raise MapRejected.too_large(
            f"The map document is larger than the {describe_size(limits.max_xml_bytes)} limit."
        )
    budget = TopicBudget(limits)
    handler = _FreeMindHandler(limits, budget)
    try:
        parse_stream(data, handler)
    except MapRejected as exc:
        if exc.error == INVALID_MAP and not handler.root_seen:
            raise MapRejected.unsupported(
                "The file is neither an XMind workbook nor a FreeMind map."
            ) from exc
        raise
    if not handler.roots:
        raise MapRejected.invalid("The FreeMind map has no root node.")
    return ParsedMap(
        format=FORMAT,
        extension=EXTENSION,
        media_type=MEDIA_TYPE,
        sheets=tuple(handler.roots),
        topic_count=budget.count,
        thumbnail_png=None,
    )
