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
    title: str, children: list[dict[str, object]] | None = None
) -> dict[str, object]:
    """One XMind Zen topic object, with the noise real files carry."""
    topic: dict[str, object] = {
        "id": _new_id(),
        "class": "topic",
        "title": title,
        "style": {"id": _new_id(), "properties": {"fo:font-weight": "400"}},
    }
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
