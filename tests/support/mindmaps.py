"""Builders for mind-map uploads (valid and hostile) shared by library and web tests."""

from __future__ import annotations

import io
import json
import struct
import uuid
import zipfile
import zlib
from dataclasses import dataclass
from xml.etree import ElementTree as ET  # only used to *build* trusted test XML

from PIL import Image

from openplate.library import Topic

MIB = 1024 * 1024
XMIND_NS = "urn:xmind:xmap:xmlns:content:2.0"


def make_png(width: int = 8, height: int = 8) -> bytes:
    """A small, valid RGB PNG with a gradient (so it is not trivially empty)."""
    image = Image.new("RGB", (width, height))
    image.putdata(
        [((x * 31) % 256, (y * 17) % 256, 128) for y in range(height) for x in range(width)]
    )
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def make_jpeg(width: int = 8, height: int = 8) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 60)).save(out, format="JPEG")
    return out.getvalue()


DEFAULT_THUMBNAIL = make_png()


def make_xmind_archive(
    files: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED
) -> bytes:
    """Zip ``files`` (name -> content) in order, the way XMind does."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return out.getvalue()


def _new_id() -> str:
    return uuid.uuid4().hex[:26]


def xmind_json_topic(
    title: str,
    children: list[dict[str, object]] | None = None,
    *,
    note: str | None = None,
    href: str | None = None,
) -> dict[str, object]:
    """One XMind Zen topic object, with the noise real files carry."""
    topic: dict[str, object] = {
        "id": _new_id(),
        "class": "topic",
        "title": title,
        "style": {"id": _new_id(), "properties": {"fo:font-weight": "400"}},
    }
    if note is not None:
        topic["notes"] = {
            "plain": {"content": note},
            "realHTML": {"content": f"<div>{_escape(note)}</div>"},
        }
    if href is not None:
        topic["href"] = href
    if children:
        topic["children"] = {"attached": children}
    return topic


def xmind_json_content(roots: list[dict[str, object]]) -> bytes:
    """A content.json document with one sheet per root topic."""
    sheets = [
        {
            "id": _new_id(),
            "class": "sheet",
            "title": f"Sheet {index + 1}",
            "rootTopic": {**root, "structureClass": "org.xmind.ui.map.unbalanced"},
            "theme": {"id": _new_id(), "centralTopic": {"properties": {"fo:font-size": "30pt"}}},
            "topicPositioning": "fixed",
        }
        for index, root in enumerate(roots)
    ]
    return json.dumps(sheets, ensure_ascii=False).encode("utf-8", "surrogatepass")


ZEN_CONTENT_XML_STUB = (
    '<?xml version="1.0" encoding="UTF-8" standalone="no"?>'
    f'<xmap-content xmlns="{XMIND_NS}" version="2.0"><sheet id="s1"><topic id="t1">'
    "<title>Warning: this file was created by a newer version of XMind</title>"
    "</topic></sheet></xmap-content>"
).encode()


def make_xmind_json(
    title: str = "Root",
    children: list[str] | None = None,
    *,
    thumbnail: bytes | None = DEFAULT_THUMBNAIL,
    sheets: int = 1,
) -> bytes:
    """An XMind Zen/2020+ workbook; sheet n>1 has root title "<title> (sheet n)"."""
    roots = [
        xmind_json_topic(
            title if index == 0 else f"{title} (sheet {index + 1})",
            [xmind_json_topic(child) for child in children or []],
        )
        for index in range(sheets)
    ]
    files = {
        "content.json": xmind_json_content(roots),
        "metadata.json": json.dumps({"creator": {"name": "Vana", "version": "23.09"}}).encode(),
        "content.xml": ZEN_CONTENT_XML_STUB,
    }
    entries: dict[str, dict[str, object]] = {"content.json": {}, "metadata.json": {}}
    if thumbnail is not None:
        files["Thumbnails/thumbnail.png"] = thumbnail
        entries["Thumbnails/thumbnail.png"] = {}
    files["manifest.json"] = json.dumps({"file-entries": entries}).encode()
    return make_xmind_archive(files)


def xmind_xml_content(title: str, children: list[str] | None = None) -> bytes:
    """An XMind 8 content.xml with one sheet (prefixed namespaces, as XMind writes them)."""
    items = "".join(
        f'<topic id="c{index}" timestamp="1"><title>{_escape(child)}</title></topic>'
        for index, child in enumerate(children or [])
    )
    children_xml = f'<children><topics type="attached">{items}</topics></children>' if items else ""
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="no"?>'
        f'<xmap-content xmlns="{XMIND_NS}" xmlns:fo="http://www.w3.org/1999/XSL/Format"'
        ' xmlns:svg="http://www.w3.org/2000/svg" xmlns:xhtml="http://www.w3.org/1999/xhtml"'
        ' xmlns:xlink="http://www.w3.org/1999/xlink" timestamp="1" version="2.0">'
        '<sheet id="s1" timestamp="1"><topic id="root" structure-class="org.xmind.ui.logic.right"'
        f' timestamp="1"><title>{_escape(title)}</title>{children_xml}</topic>'
        "<title>Sheet 1</title></sheet></xmap-content>"
    ).encode()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def make_xmind_xml(
    title: str = "Root",
    children: list[str] | None = None,
    *,
    thumbnail: bytes | None = DEFAULT_THUMBNAIL,
) -> bytes:
    """An XMind 8 workbook (content.xml)."""
    files = {
        "content.xml": xmind_xml_content(title, children),
        "META-INF/manifest.xml": (
            b'<?xml version="1.0" encoding="UTF-8" standalone="no"?>'
            b'<manifest xmlns="urn:xmind:xmap:xmlns:manifest:1.0">'
            b'<file-entry full-path="content.xml" media-type="text/xml"/></manifest>'
        ),
        "meta.xml": b'<?xml version="1.0"?><meta xmlns="urn:xmind:xmap:xmlns:meta:2.0"/>',
    }
    if thumbnail is not None:
        files["Thumbnails/thumbnail.png"] = thumbnail
    return make_xmind_archive(files)


def make_freemind(title: str = "Root", children: list[str] | None = None) -> bytes:
    """A FreeMind 1.0 map with a root node and one level of children."""
    document = ET.Element("map", version="1.0.1")
    root = ET.SubElement(document, "node", ID="ID_1", CREATED="1", MODIFIED="1", TEXT=title)
    for index, child in enumerate(children or []):
        node = ET.SubElement(root, "node", ID=f"ID_{index + 2}", POSITION="right", TEXT=child)
        ET.SubElement(node, "icon", BUILTIN="idea")
    body: bytes = ET.tostring(document, encoding="utf-8", xml_declaration=False)
    return b"<!-- To view this file, download free mind mapping software FreeMind -->\n" + body


@dataclass(frozen=True)
class RawZipEntry:
    """A hand-made ZIP entry: ``payload`` is written as-is, headers say whatever you like."""

    name: str
    payload: bytes
    uncompressed_size: int
    crc: int
    method: int = zipfile.ZIP_DEFLATED
    flags: int = 0x800  # UTF-8 names


def build_raw_zip(entries: list[RawZipEntry]) -> bytes:
    """Assemble a ZIP from pre-compressed entries (for headers zipfile would not write)."""
    body = io.BytesIO()
    central = io.BytesIO()
    for entry in entries:
        name = entry.name.encode("utf-8")
        offset = body.tell()
        sizes = (entry.crc, len(entry.payload), entry.uncompressed_size)
        body.write(
            struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, entry.flags, entry.method, 0, 0x21,
                        *sizes, len(name), 0)
        )
        body.write(name + entry.payload)
        central.write(
            struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, entry.flags, entry.method, 0, 0x21,
                        *sizes, len(name), 0, 0, 0, 0, 0, offset)
        )
        central.write(name)
    directory = central.getvalue()
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(entries), len(entries),
                      len(directory), body.tell(), 0)
    return body.getvalue() + directory + end


def deflate(data: bytes) -> bytes:
    """Raw deflate (as stored in ZIP entries)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


def make_zip_bomb(expanded_bytes: int = 101 * MIB) -> bytes:
    """A ~100 KiB .xmind whose content.json inflates to ``expanded_bytes`` of spaces.

    The deflate stream repeats one fully-flushed block, so building it takes milliseconds
    and never materialises the expanded data.
    """
    chunk = b" " * MIB
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    copies = -(-expanded_bytes // MIB)
    crc = 0
    for _ in range(copies):
        crc = zlib.crc32(chunk, crc)
    payload = block * copies + b"\x03\x00"  # final empty fixed-Huffman block
    return build_raw_zip(
        [RawZipEntry("content.json", payload, copies * MIB, crc)]
    )


def make_billion_laughs_mm() -> bytes:
    """The classic exponential-entity-expansion attack, as a FreeMind map."""
    entities = ['<!ENTITY lol "lol">'] + [
        f'<!ENTITY lol{level} "{("&lol" + (str(level - 1) if level > 1 else "") + ";") * 10}">'
        for level in range(1, 10)
    ]
    return (
        '<?xml version="1.0"?>\n<!DOCTYPE map [\n' + "\n".join(entities) + "\n]>\n"
        '<map version="1.0.1"><node TEXT="&lol9;"/></map>'
    ).encode()


def make_xxe_mm() -> bytes:
    """An external-entity (XXE) attack reading /etc/passwd into a node title."""
    return (
        b'<?xml version="1.0"?>\n'
        b'<!DOCTYPE map [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
        b'<map version="1.0.1"><node TEXT="&xxe;"/></map>'
    )


# --- notes, links and the formats added for issue 16 -------------------------------------------
# The builders below take an outline as a Topic tree and write it the way each tool does, with
# xml.etree (trusted test input), independently of the library's own exporters.

MINDMANAGER_NS = "http://schemas.mindjet.com/MindManager/Application/2003"
XHTML_NS = "http://www.w3.org/1999/xhtml"


def _children_first(root: Topic) -> list[tuple[Topic, int]]:
    """(topic, parent index) in pre-order, without recursion."""
    order: list[tuple[Topic, int]] = []
    stack: list[tuple[Topic, int]] = [(root, -1)]
    while stack:
        topic, parent = stack.pop()
        order.append((topic, parent))
        index = len(order) - 1
        stack.extend((child, index) for child in reversed(topic.children))
    return order


def make_freemind_outline(root: Topic, *, notes_as: str = "html") -> bytes:
    """A FreeMind map of ``root`` with LINK attributes and ``<richcontent TYPE="NOTE">`` notes.

    ``notes_as="html"`` writes each note line as a ``<p>``, as FreeMind does;
    ``notes_as="plain"`` writes the Freeplane 1.9 plain-text form.
    """
    document = ET.Element("map", version="1.0.1")
    elements: list[ET.Element] = []
    for topic, parent in _children_first(root):
        holder = document if parent < 0 else elements[parent]
        node = ET.SubElement(holder, "node", TEXT=topic.title)
        if topic.link:
            node.set("LINK", topic.link)
        if topic.note and notes_as == "plain":
            rich = ET.SubElement(node, "richcontent", TYPE="NOTE", **{"CONTENT-TYPE": "plain/"})
            ET.SubElement(rich, "text").text = topic.note
        elif topic.note:
            rich = ET.SubElement(node, "richcontent", TYPE="NOTE")
            body = ET.SubElement(ET.SubElement(rich, "html"), "body")
            for line in topic.note.split("\n"):
                ET.SubElement(body, "p").text = line
        elements.append(node)
    return ET.tostring(document, encoding="utf-8")


def make_opml(
    tops: Topic | list[Topic], *, head_title: str | None = "Subscriptions", version: str = "2.0"
) -> bytes:
    """An OPML document whose body holds ``tops``; notes go in ``_note``, links in ``url``."""
    document = ET.Element("opml", version=version)
    head = ET.SubElement(document, "head")
    if head_title is not None:
        ET.SubElement(head, "title").text = head_title
    ET.SubElement(head, "dateCreated").text = "Mon, 01 Jan 2024 00:00:00 GMT"
    body = ET.SubElement(document, "body")
    for top in [tops] if isinstance(tops, Topic) else tops:
        elements: list[ET.Element] = []
        for topic, parent in _children_first(top):
            holder = body if parent < 0 else elements[parent]
            outline = ET.SubElement(holder, "outline", text=topic.title)
            if topic.note:
                outline.set("_note", topic.note)
            if topic.link:
                outline.set("type", "link")
                outline.set("url", topic.link)
            elements.append(outline)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(document, encoding="utf-8")


def mindmanager_document(root: Topic) -> bytes:
    """A MindManager ``Document.xml`` for ``root``, laid out as MindManager writes it
    (``ap:SubTopics`` before ``ap:Text``; notes as XHTML; styles and ids as noise)."""
    ET.register_namespace("ap", MINDMANAGER_NS)
    ET.register_namespace("xhtml", XHTML_NS)

    def ap(name: str) -> str:
        return f"{{{MINDMANAGER_NS}}}{name}"

    document = ET.Element(ap("Map"), {"Dirty": "0000000000000000", "OId": "map"})
    one = ET.SubElement(document, ap("OneTopic"))
    elements: list[ET.Element] = []
    for index, (topic, parent) in enumerate(_children_first(root)):
        if parent < 0:
            holder = one
        else:
            holder = elements[parent].find(ap("SubTopics"))  # type: ignore[assignment]
            if holder is None:
                holder = ET.Element(ap("SubTopics"))
                elements[parent].insert(0, holder)
        node = ET.SubElement(holder, ap("Topic"), {"OId": f"t{index}", "Gen": "0000"})
        text = ET.SubElement(node, ap("Text"), {"PlainText": topic.title, "ReadOnly": "false"})
        ET.SubElement(text, ap("Font"), {"Size": "10."})
        if topic.note:
            group = ET.SubElement(node, ap("NotesGroup"))
            data = ET.SubElement(
                group, ap("NotesXhtmlData"), {"PreviewPlainText": topic.note[:20], "Dirty": "0"}
            )
            html = ET.SubElement(data, f"{{{XHTML_NS}}}html")
            for line in topic.note.split("\n"):
                ET.SubElement(html, f"{{{XHTML_NS}}}p").text = line
        if topic.link:
            ET.SubElement(node, ap("Hyperlink"), {"Url": topic.link, "Absolute": "true"})
        ET.SubElement(node, ap("TopicViewGroup"), {"ViewIndex": "0"})
        elements.append(node)
    return b'<?xml version="1.0" encoding="UTF-8" standalone="no"?>' + ET.tostring(
        document, encoding="utf-8", xml_declaration=False
    )


def make_mindmanager(root: Topic, *, preview: bytes | None = None) -> bytes:
    """A ``.mmap`` archive: Document.xml plus the files MindManager puts beside it."""
    files = {
        "Document.xml": mindmanager_document(root),
        "xsd/MindManagerApplication.xsd": b"<xs:schema/>",
        "bin/00000000-0000-0000-0000-000000000000.bin": b"\x00\x01binary",
    }
    if preview is not None:
        files["Preview.png"] = preview
    return make_xmind_archive(files)
