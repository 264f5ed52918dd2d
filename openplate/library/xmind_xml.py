"""Parse the ``content.xml`` document of an XMind 8 (and earlier) workbook.

Elements are matched by namespace URI (``urn:xmind:xmap:xmlns:content:2.0``), never by
prefix. Each ``<sheet>``'s first ``<topic>`` is its root; a topic's children are the topics
of its ``<children><topics type="attached">`` and ``type="detached"`` groups, in document
order. A topic's note is the text of its ``<notes><plain>`` and its link its ``xlink:href``
attribute. Summary/callout groups, HTML notes, markers and extensions are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from openplate.library.cleaning import cleaned_topic
from openplate.library.model import MapRejected, Topic, UploadLimits
from openplate.library.outline import TopicBudget
from openplate.library.xmlstream import StreamHandler, parse_stream

XMIND_NS = "urn:xmind:xmap:xmlns:content:2.0"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
CHILD_KINDS = frozenset({"attached", "detached"})

# Roles of open elements.
_ROOT, _SHEET, _TOPIC, _CHILDREN, _TOPICS, _TITLE, _NOTES, _PLAIN, _OTHER = (
    "root", "sheet", "topic", "children", "topics", "title", "notes", "plain", "other"
)
# (parent role, element local name) -> role of the element
_TRANSITIONS = {
    (_ROOT, "sheet"): _SHEET,
    (_SHEET, "topic"): _TOPIC,
    (_TOPIC, "children"): _CHILDREN,
    (_TOPIC, "title"): _TITLE,
    (_TOPIC, "notes"): _NOTES,
    (_NOTES, "plain"): _PLAIN,
    (_CHILDREN, "topics"): _TOPICS,
    (_TOPICS, "topic"): _TOPIC,
}
# XML levels per topic level (topic > children > topics), plus a little slack.
_XML_LEVELS_PER_TOPIC = 3
_XML_DEPTH_SLACK = 64


@dataclass
class _TopicFrame:
    link: str
    title: str | None = None
    note: str | None = None
    children: list[Topic] = field(default_factory=list)


class _XMindHandler(StreamHandler):
    def __init__(self, limits: UploadLimits, budget: TopicBudget) -> None:
        super().__init__(
            max_xml_depth=limits.max_depth * _XML_LEVELS_PER_TOPIC + _XML_DEPTH_SLACK
        )
        self._limits = limits
        self._budget = budget
        self._roles: list[str] = []
        self._frames: list[_TopicFrame] = []
        self._text_parts: list[str] | None = None  # of the open <title> or <plain>
        self._sheet_root: Topic | None = None
        self.sheets: list[Topic] = []

    def on_start(self, namespace: str, local: str, attrib: dict[str, str], root: bool) -> None:
        if root:
            if namespace != XMIND_NS or local != "xmap-content":
                raise MapRejected.invalid("The workbook's content.xml is not XMind content.")
            self._roles.append(_ROOT)
            return
        parent = self._roles[-1]
        role = _TRANSITIONS.get((parent, local), _OTHER) if namespace == XMIND_NS else _OTHER
        if role == _TOPIC and parent == _SHEET and (self._sheet_root is not None or self._frames):
            role = _OTHER  # a sheet has exactly one root topic; ignore extras
        elif role == _TOPICS and attrib.get("type", "attached") not in CHILD_KINDS:
            role = _OTHER
        elif role == _TITLE and self._frames[-1].title is not None:
            role = _OTHER  # keep the first title only
        elif role == _PLAIN and self._frames[-1].note is not None:
            role = _OTHER  # and the first note
        if role == _TOPIC:
            self._budget.add(len(self._frames) + 1)
            self._frames.append(_TopicFrame(attrib.get(XLINK_HREF, "")))
        elif role in (_TITLE, _PLAIN):
            self._text_parts = []
        elif role == _SHEET:
            self._sheet_root = None
        self._roles.append(role)

    def on_end(self, namespace: str, local: str) -> None:
        role = self._roles.pop()
        if role in (_TITLE, _PLAIN) and self._text_parts is not None:
            text = "".join(self._text_parts)
            if role == _TITLE:
                self._frames[-1].title = text
            else:
                self._frames[-1].note = text
            self._text_parts = None
        elif role == _TOPIC:
            frame = self._frames.pop()
            topic = cleaned_topic(frame.title or "", frame.children, frame.note or "", frame.link,
                                  self._limits)
            if self._frames:
                self._frames[-1].children.append(topic)
            else:
                self._sheet_root = topic
        elif role == _SHEET:
            if self._sheet_root is None:
                raise MapRejected.invalid("A sheet in the workbook has no root topic.")
            self.sheets.append(self._sheet_root)
            self._sheet_root = None

    def on_data(self, text: str) -> None:
        if self._text_parts is not None:
            self._text_parts.append(text)


def parse_content_xml(raw: bytes, limits: UploadLimits, budget: TopicBudget) -> list[Topic]:
    """Return the root topic of every sheet in an XMind 8 ``content.xml`` document."""
    handler = _XMindHandler(limits, budget)
    parse_stream(raw, handler)
    if not handler.sheets:
        raise MapRejected.invalid("The workbook has no sheets.")
    return handler.sheets
