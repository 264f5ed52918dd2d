"""Parse the ``content.xml`` document of an XMind 8 (and earlier) workbook.

Elements are matched by namespace URI (``urn:xmind:xmap:xmlns:content:2.0``), never by
prefix. Each ``<sheet>``'s first ``<topic>`` is its root; a topic's children are the topics
of its ``<children><topics type="attached">`` and ``type="detached"`` groups, in document
order. Summary/callout groups, notes, markers and extensions are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from openplate.library.model import MapRejected, Topic, UploadLimits
from openplate.library.outline import TopicBudget, clean_title
from openplate.library.xmlstream import StreamHandler, parse_stream

XMIND_NS = "urn:xmind:xmap:xmlns:content:2.0"
CHILD_KINDS = frozenset({"attached", "detached"})

# Roles of open elements.
_ROOT, _SHEET, _TOPIC, _CHILDREN, _TOPICS, _TITLE, _OTHER = (
    "root", "sheet", "topic", "children", "topics", "title", "other"
)
# (parent role, element local name) -> role of the element
_TRANSITIONS = {
    (_ROOT, "sheet"): _SHEET,
    (_SHEET, "topic"): _TOPIC,
    (_TOPIC, "children"): _CHILDREN,
    (_TOPIC, "title"): _TITLE,
    (_CHILDREN, "topics"): _TOPICS,
    (_TOPICS, "topic"): _TOPIC,
}
# XML levels per topic level (topic > children > topics), plus a little slack.
_XML_LEVELS_PER_TOPIC = 3
_XML_DEPTH_SLACK = 64


@dataclass
class _TopicFrame:
    title: str | None = None
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
        self._title_parts: list[str] | None = None
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
        if role == _TOPIC:
            self._budget.add(len(self._frames) + 1)
            self._frames.append(_TopicFrame())
        elif role == _TITLE:
            self._title_parts = []
        elif role == _SHEET:
            self._sheet_root = None
        self._roles.append(role)

    def on_end(self, namespace: str, local: str) -> None:
        role = self._roles.pop()
        if role == _TITLE and self._title_parts is not None:
            self._frames[-1].title = "".join(self._title_parts)
            self._title_parts = None
        elif role == _TOPIC:
            frame = self._frames.pop()
            topic = Topic(clean_title(frame.title or "", self._limits), tuple(frame.children))
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
        if self._title_parts is not None:
            self._title_parts.append(text)


def parse_content_xml(raw: bytes, limits: UploadLimits, budget: TopicBudget) -> list[Topic]:
    """Return the root topic of every sheet in an XMind 8 ``content.xml`` document."""
    handler = _XMindHandler(limits, budget)
    parse_stream(raw, handler)
    if not handler.sheets:
        raise MapRejected.invalid("The workbook has no sheets.")
    return handler.sheets
