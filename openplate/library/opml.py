"""Read OPML 1.0 / 2.0 outlines into a single-sheet outline.

Topics are the ``<outline>`` elements under ``<body>`` (and under each other). A topic's title
is its ``text`` attribute (``title`` when there is no ``text``), its note the ``_note``
attribute and its link the ``url`` attribute, or failing that ``htmlUrl``. A single top-level
outline is the root; several become the children of a root titled from ``<head><title>``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from openplate.library.cleaning import clean_title, cleaned_topic
from openplate.library.formats import FORMATS, OPML
from openplate.library.model import MapRejected, ParsedMap, Topic, UploadLimits
from openplate.library.outline import TopicBudget
from openplate.library.xmlstream import StreamHandler

FORMAT = FORMATS[OPML]

_XML_DEPTH_SLACK = 64

# Roles of open elements.
_ROOT, _HEAD, _TITLE, _BODY, _OUTLINE, _OTHER = (
    "root", "head", "title", "body", "outline", "other"
)
_TRANSITIONS = {
    (_ROOT, "head"): _HEAD,
    (_HEAD, "title"): _TITLE,
    (_ROOT, "body"): _BODY,
    (_BODY, "outline"): _OUTLINE,
    (_OUTLINE, "outline"): _OUTLINE,
}


@dataclass
class _Frame:
    title: str
    note: str
    link: str
    children: list[Topic] = field(default_factory=list)


class OpmlHandler(StreamHandler):
    """Builds the outline of an ``<opml>`` document from parser events."""

    def __init__(self, limits: UploadLimits, budget: TopicBudget) -> None:
        super().__init__(max_xml_depth=limits.max_depth + _XML_DEPTH_SLACK)
        self._limits = limits
        self._budget = budget
        self._roles: list[str] = []
        self._frames: list[_Frame] = []
        self._title_parts: list[str] | None = None
        self._head_title: str | None = None
        self.tops: list[Topic] = []

    def on_start(self, namespace: str, local: str, attrib: dict[str, str], root: bool) -> None:
        if root:
            if namespace or local != "opml":
                raise MapRejected.unsupported("The XML document is not an OPML outline.")
            self._roles.append(_ROOT)
            return
        parent = self._roles[-1]
        role = _OTHER if namespace else _TRANSITIONS.get((parent, local), _OTHER)
        if role == _TITLE and self._head_title is not None:
            role = _OTHER  # keep the first title only
        if role == _OUTLINE:
            self._budget.add(len(self._frames) + 1)
            title = attrib.get("text")
            if title is None:
                title = attrib.get("title", "")
            link = attrib.get("url") or attrib.get("htmlUrl") or ""
            self._frames.append(_Frame(title, attrib.get("_note", ""), link))
        elif role == _TITLE:
            self._title_parts = []
        self._roles.append(role)

    def on_end(self, namespace: str, local: str) -> None:
        role = self._roles.pop()
        if role == _TITLE and self._title_parts is not None:
            self._head_title = "".join(self._title_parts)
            self._title_parts = None
        elif role == _OUTLINE:
            frame = self._frames.pop()
            topic = cleaned_topic(frame.title, frame.children, frame.note, frame.link,
                                  self._limits)
            if self._frames:
                self._frames[-1].children.append(topic)
            else:
                self.tops.append(topic)

    def on_data(self, text: str) -> None:
        if self._title_parts is not None:
            self._title_parts.append(text)

    def finish(self) -> ParsedMap:
        if not self.tops:
            raise MapRejected.invalid("The OPML outline has no outline elements in its body.")
        if len(self.tops) == 1:
            root = self.tops[0]
        else:
            self._budget.add_root_above()
            root = Topic(clean_title(self._head_title or "", self._limits), tuple(self.tops))
        return ParsedMap(
            format=FORMAT.name,
            extension=FORMAT.extension,
            media_type=FORMAT.media_type,
            sheets=(root,),
            topic_count=self._budget.count,
            thumbnail_png=None,
        )
