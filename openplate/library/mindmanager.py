"""Read MindManager ``.mmap`` maps: a ZIP archive whose ``Document.xml`` holds the map.

Elements are matched by namespace URI (``http://schemas.mindjet.com/MindManager/Application/
2003``), never by prefix. The root topic is ``ap:Map/ap:OneTopic/ap:Topic``; a topic's
children are the ``ap:Topic`` elements of its ``ap:SubTopics``. Its title is the
``PlainText`` attribute of its ``ap:Text``, its note the text of
``ap:NotesGroup/ap:NotesXhtmlData`` (its ``PreviewPlainText`` attribute when that is empty)
and its link the ``Url`` of its ``ap:Hyperlink``. Floating topics, callouts, relationships,
markers and styles are ignored. ``Preview.png`` is used as the thumbnail when it is usable.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from openplate.library.cleaning import cleaned_topic
from openplate.library.formats import FORMATS, MINDMANAGER
from openplate.library.model import MapRejected, ParsedMap, Topic, UploadLimits
from openplate.library.outline import TopicBudget
from openplate.library.richtext import RichText
from openplate.library.xmind import read_thumbnail
from openplate.library.xmlstream import StreamHandler, parse_stream
from openplate.library.zipsafe import SafeZip

FORMAT = FORMATS[MINDMANAGER]
MINDMANAGER_NS = "http://schemas.mindjet.com/MindManager/Application/2003"
DOCUMENT_XML = "Document.xml"
PREVIEW = ("Preview.png",)

# XML levels per topic level (Topic > SubTopics), plus slack for notes' XHTML and the rest.
_XML_LEVELS_PER_TOPIC = 2
_XML_DEPTH_SLACK = 64

_MAP, _ONE, _TOPIC, _SUBS, _NOTES, _XHTML, _XHTML_INNER, _OTHER = (
    "map", "one", "topic", "subtopics", "notes", "xhtml", "xhtml-inner", "other"
)
_TRANSITIONS = {
    (_MAP, "OneTopic"): _ONE,
    (_ONE, "Topic"): _TOPIC,
    (_TOPIC, "SubTopics"): _SUBS,
    (_SUBS, "Topic"): _TOPIC,
    (_TOPIC, "NotesGroup"): _NOTES,
    (_NOTES, "NotesXhtmlData"): _XHTML,
}


@dataclass
class _Frame:
    title: str = ""
    note: str = ""
    preview: str = ""
    link: str = ""
    children: list[Topic] = field(default_factory=list)


class _MindManagerHandler(StreamHandler):
    def __init__(self, limits: UploadLimits, budget: TopicBudget) -> None:
        super().__init__(
            max_xml_depth=limits.max_depth * _XML_LEVELS_PER_TOPIC + _XML_DEPTH_SLACK
        )
        self._limits = limits
        self._budget = budget
        self._roles: list[str] = []
        self._frames: list[_Frame] = []
        self._rich: RichText | None = None
        self.root: Topic | None = None

    def on_start(self, namespace: str, local: str, attrib: dict[str, str], root: bool) -> None:
        if root:
            if namespace != MINDMANAGER_NS or local != "Map":
                raise MapRejected.invalid("The archive's Document.xml is not a MindManager map.")
            self._roles.append(_MAP)
            return
        parent = self._roles[-1]
        if self._rich is not None:
            self._rich.start(local)
            self._roles.append(_XHTML_INNER)
            return
        role = _TRANSITIONS.get((parent, local), _OTHER) if namespace == MINDMANAGER_NS else _OTHER
        if role == _TOPIC and parent == _ONE and (self.root is not None or self._frames):
            role = _OTHER  # one central topic
        if role == _TOPIC:
            self._budget.add(len(self._frames) + 1)
            self._frames.append(_Frame())
        elif role == _XHTML:
            self._frames[-1].preview = attrib.get("PreviewPlainText", "")
            self._rich = RichText()
        elif parent == _TOPIC and namespace == MINDMANAGER_NS:
            frame = self._frames[-1]
            if local == "Text" and not frame.title:
                frame.title = attrib.get("PlainText", "")
            elif local == "Hyperlink" and not frame.link:
                frame.link = attrib.get("Url", "")
        self._roles.append(role)

    def on_end(self, namespace: str, local: str) -> None:
        role = self._roles.pop()
        if role == _XHTML_INNER and self._rich is not None:
            self._rich.end(local)
        elif role == _XHTML and self._rich is not None:
            frame = self._frames[-1]
            frame.note = self._rich.text()
            if not frame.note.strip():
                frame.note = frame.preview
            self._rich = None
        elif role == _TOPIC:
            frame = self._frames.pop()
            topic = cleaned_topic(frame.title, frame.children, frame.note, frame.link,
                                  self._limits)
            if self._frames:
                self._frames[-1].children.append(topic)
            else:
                self.root = topic

    def on_data(self, text: str) -> None:
        if self._rich is not None:
            self._rich.data(text)


def is_mindmanager(archive: SafeZip) -> bool:
    """True when the archive has a MindManager ``Document.xml``."""
    return archive.has(DOCUMENT_XML)


def read_mindmanager(archive: SafeZip, limits: UploadLimits) -> ParsedMap:
    """Read a MindManager map (``is_mindmanager`` is true); raise MapRejected otherwise."""
    budget = TopicBudget(limits)
    handler = _MindManagerHandler(limits, budget)
    parse_stream(archive.read(DOCUMENT_XML, limits.max_xml_bytes), handler)
    if handler.root is None:
        raise MapRejected.invalid("The MindManager map has no central topic.")
    return ParsedMap(
        format=FORMAT.name,
        extension=FORMAT.extension,
        media_type=FORMAT.media_type,
        sheets=(handler.root,),
        topic_count=budget.count,
        thumbnail_png=read_thumbnail(archive, limits, PREVIEW),
    )
