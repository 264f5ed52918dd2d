"""Write an outline as a file of one of the library's five input formats, for ``openplate demo``.

OPML, Markdown and FreeMind come from the library's own exporters (``export_map``). XMind and
MindManager have no exporter (the library only reads them), so this module writes the least
each format needs: an XMind Zen workbook (a ZIP with ``content.json``, ``metadata.json`` and
``manifest.json``) and a MindManager map (a ZIP with ``Document.xml``). Nothing recurses over
the outline.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Sequence

from openplate.library.export import export_map
from openplate.library.model import Topic

MINDMANAGER_NS = "http://schemas.mindjet.com/MindManager/Application/2003"
_ATTRIBUTE = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;",
                            "\n": "&#10;", "\t": "&#9;", "\r": "&#13;"})
_TEXT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def _zip(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, content in entries.items():  # a fixed date: the same outline, the same bytes
            archive.writestr(zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0)), content,
                             compress_type=zipfile.ZIP_DEFLATED, compresslevel=1)
    return out.getvalue()


def _xmind_topic(topic: Topic, number: int) -> dict[str, object]:
    node: dict[str, object] = {"id": f"t{number}", "class": "topic", "title": topic.title}
    if topic.note:
        node["notes"] = {"plain": {"content": topic.note}}
    if topic.link:
        node["href"] = topic.link
    return node


def xmind_workbook(sheets: Sequence[Topic], title: str) -> bytes:
    """An XMind Zen workbook with one sheet per root topic."""
    documents: list[dict[str, object]] = []
    number = 0
    for index, sheet in enumerate(sheets):
        root = _xmind_topic(sheet, number)
        stack: list[tuple[Topic, dict[str, object]]] = [(sheet, root)]
        while stack:
            topic, node = stack.pop()
            if not topic.children:
                continue
            attached: list[dict[str, object]] = []
            for child in topic.children:
                number += 1
                made = _xmind_topic(child, number)
                attached.append(made)
                stack.append((child, made))
            node["children"] = {"attached": attached}
        documents.append({"id": f"s{index}", "class": "sheet",
                          "title": title if index == 0 else f"{title} ({index + 1})",
                          "rootTopic": root})
        number += 1
    content = json.dumps(documents, ensure_ascii=False).encode("utf-8")
    manifest: dict[str, object] = {"file-entries": {"content.json": {}, "metadata.json": {}}}
    return _zip({"content.json": content,
                 "metadata.json": b'{"creator":{"name":"openplate demo"}}',
                 "manifest.json": json.dumps(manifest).encode()})


def mindmanager_map(sheets: Sequence[Topic], title: str) -> bytes:
    """A MindManager map of the first sheet (the format has one central topic)."""
    parts = [f'<?xml version="1.0" encoding="UTF-8"?>\n<ap:Map xmlns:ap="{MINDMANAGER_NS}">'
             "<ap:OneTopic>"]
    stack: list[Topic | None] = [sheets[0]]
    while stack:
        topic = stack.pop()
        if topic is None:  # the end of a topic with children
            parts.append("</ap:SubTopics></ap:Topic>")
            continue
        parts.append(f'<ap:Topic><ap:Text PlainText="{topic.title.translate(_ATTRIBUTE)}"/>')
        if topic.link:
            parts.append(f'<ap:Hyperlink Url="{topic.link.translate(_ATTRIBUTE)}"/>')
        if topic.note:
            paragraphs = "".join(f"<p>{line.translate(_TEXT)}</p>"
                                 for line in topic.note.split("\n"))
            parts.append(f'<ap:NotesGroup><ap:NotesXhtmlData><html xmlns='
                         f'"http://www.w3.org/1999/xhtml"><body>{paragraphs}</body></html>'
                         "</ap:NotesXhtmlData></ap:NotesGroup>")
        if topic.children:
            parts.append("<ap:SubTopics>")
            stack.append(None)
            stack.extend(reversed(topic.children))
        else:
            parts.append("</ap:Topic>")
    parts.append("</ap:OneTopic></ap:Map>")
    return _zip({"Document.xml": "".join(parts).encode("utf-8")})


def _exported(fmt: str) -> Callable[[Sequence[Topic], str], bytes]:
    def write(sheets: Sequence[Topic], title: str) -> bytes:
        return export_map(sheets, fmt, title=title).content

    return write


#: A writer per input format (``FORMATS`` key): ``(sheets, title) -> file bytes``.
WRITERS: dict[str, Callable[[Sequence[Topic], str], bytes]] = {
    "xmind": xmind_workbook,
    "freemind": _exported("mm"),
    "opml": _exported("opml"),
    "markdown": _exported("md"),
    "mindmanager": mindmanager_map,
}
