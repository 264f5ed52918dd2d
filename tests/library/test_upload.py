"""parse_upload accepts real XMind and FreeMind maps with the right outline and thumbnail."""

from __future__ import annotations

import io
import json
import zlib

import pytest
from PIL import Image

from openplate.library import ParsedMap, Topic, UploadLimits, parse_upload
from tests.library.helpers import outline, reject
from tests.support.mindmaps import (
    DEFAULT_THUMBNAIL,
    XMIND_NS,
    RawZipEntry,
    build_raw_zip,
    deflate,
    make_freemind,
    make_jpeg,
    make_png,
    make_xmind_archive,
    make_xmind_json,
    make_xmind_xml,
    xmind_json_content,
    xmind_json_topic,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# --- XMind Zen / 2020+ (content.json) ---------------------------------------------------


def test_xmind_json_outline_metadata_and_thumbnail() -> None:
    parsed = parse_upload("plan.xmind", make_xmind_json("Project plan", ["Scope", "Budget"]))
    assert isinstance(parsed, ParsedMap)
    assert parsed.format == "xmind"
    assert parsed.extension == ".xmind"
    assert parsed.media_type == "application/vnd.xmind.workbook"
    assert outline(parsed) == [
        {"title": "Project plan", "children": [{"title": "Scope"}, {"title": "Budget"}]}
    ]
    assert parsed.sheets == (Topic("Project plan", (Topic("Scope"), Topic("Budget"))),)
    assert parsed.topic_count == 3
    assert parsed.thumbnail_png == DEFAULT_THUMBNAIL


def test_xmind_json_every_sheet_is_returned_and_counted() -> None:
    parsed = parse_upload(None, make_xmind_json("Root", ["a"], sheets=3))
    assert [sheet.title for sheet in parsed.sheets] == [
        "Root",
        "Root (sheet 2)",
        "Root (sheet 3)",
    ]
    assert all(sheet.children == (Topic("a"),) for sheet in parsed.sheets)
    assert parsed.topic_count == 6


def test_xmind_json_is_preferred_over_the_zen_content_xml_stub() -> None:
    parsed = parse_upload("zen.xmind", make_xmind_json("Real title"))
    assert parsed.sheets[0].title == "Real title"
    assert "Warning" not in json.dumps(outline(parsed))


def test_xmind_json_nested_attached_and_detached_children() -> None:
    root = xmind_json_topic(
        "Root",
        [
            xmind_json_topic("A", [xmind_json_topic("A1", [xmind_json_topic("A1x")])]),
            xmind_json_topic("B"),
        ],
    )
    root["children"] = {
        **root["children"],  # type: ignore[dict-item]
        "detached": [xmind_json_topic("Floating")],
        "summary": [xmind_json_topic("Ignored summary")],
    }
    data = make_xmind_archive({"content.json": xmind_json_content([root])})
    parsed = parse_upload("nested.xmind", data)
    assert outline(parsed) == [
        {
            "title": "Root",
            "children": [
                {"title": "A", "children": [{"title": "A1", "children": [{"title": "A1x"}]}]},
                {"title": "B"},
                {"title": "Floating"},
            ],
        }
    ]
    assert parsed.topic_count == 6
    assert parsed.thumbnail_png is None


def test_xmind_json_missing_title_becomes_untitled() -> None:
    content = json.dumps([{"id": "s", "rootTopic": {"id": "r", "children": {"attached": [
        {"id": "c", "title": "   "}
    ]}}}]).encode()
    parsed = parse_upload(None, make_xmind_archive({"content.json": content}))
    assert outline(parsed) == [{"title": "(untitled)", "children": [{"title": "(untitled)"}]}]


# --- XMind 8 (content.xml) ------------------------------------------------------------------


def test_xmind_xml_outline_and_thumbnail() -> None:
    parsed = parse_upload("old.xmind", make_xmind_xml("Legacy <root> & co", ["One", "Two"]))
    assert parsed.format == "xmind"
    assert parsed.extension == ".xmind"
    assert outline(parsed) == [
        {"title": "Legacy <root> & co", "children": [{"title": "One"}, {"title": "Two"}]}
    ]
    assert parsed.topic_count == 3
    assert parsed.thumbnail_png == DEFAULT_THUMBNAIL


def test_xmind_xml_namespaces_are_matched_by_uri_not_prefix() -> None:
    content = (
        f'<x:xmap-content xmlns:x="{XMIND_NS}" xmlns:o="urn:other"><x:sheet><x:topic>'
        "<x:title>Root</x:title><x:children>"
        '<x:topics type="attached"><x:topic><x:title>Kept</x:title></x:topic>'
        "<o:topic><x:title>Foreign namespace</x:title></o:topic></x:topics>"
        '<x:topics type="detached"><x:topic><x:title>Floating</x:title></x:topic></x:topics>'
        '<x:topics type="summary"><x:topic><x:title>Summary</x:title></x:topic></x:topics>'
        "</x:children><x:notes><x:plain>A note, not a topic</x:plain></x:notes></x:topic>"
        "<x:title>Sheet</x:title></x:sheet></x:xmap-content>"
    ).encode()
    parsed = parse_upload(None, make_xmind_archive({"content.xml": content}))
    assert outline(parsed) == [
        {"title": "Root", "note": "A note, not a topic",
         "children": [{"title": "Kept"}, {"title": "Floating"}]}
    ]
    assert parsed.topic_count == 3


def test_xmind_xml_without_the_xmind_namespace_is_invalid() -> None:
    content = b"<xmap-content><sheet><topic><title>Root</title></topic></sheet></xmap-content>"
    reject(make_xmind_archive({"content.xml": content}), "invalid_map")


def test_xmind_xml_multiple_sheets_and_deep_children() -> None:
    def topic(title: str, inner: str = "") -> str:
        kids = f'<children><topics type="attached">{inner}</topics></children>' if inner else ""
        return f"<topic><title>{title}</title>{kids}</topic>"

    content = (
        f'<xmap-content xmlns="{XMIND_NS}" version="2.0">'
        f"<sheet>{topic('S1', topic('a', topic('b', topic('c'))))}</sheet>"
        f"<sheet>{topic('S2')}</sheet></xmap-content>"
    ).encode()
    parsed = parse_upload(None, make_xmind_archive({"content.xml": content}))
    assert outline(parsed) == [
        {"title": "S1", "children": [{"title": "a", "children": [
            {"title": "b", "children": [{"title": "c"}]}
        ]}]},
        {"title": "S2"},
    ]
    assert parsed.topic_count == 5


# --- FreeMind / Freeplane ------------------------------------------------------------------


def test_freemind_outline() -> None:
    parsed = parse_upload("ideas.mm", make_freemind("Ideas", ["Cheap & cheerful", "Bold"]))
    assert parsed.format == "freemind"
    assert parsed.extension == ".mm"
    assert parsed.media_type == "application/x-freemind"
    assert outline(parsed) == [
        {"title": "Ideas", "children": [{"title": "Cheap & cheerful"}, {"title": "Bold"}]}
    ]
    assert parsed.topic_count == 3
    assert parsed.thumbnail_png is None


def test_freeplane_richcontent_and_localized_text() -> None:
    data = (
        b'<map version="freeplane 1.9.13"><node LOCALIZED_TEXT="new_mindmap">'
        b'<node><richcontent TYPE="NODE"><html><head><style>p { color: red }</style></head>'
        b"<body><p>First <b>bold</b> line</p><p>Second</p></body></html></richcontent>"
        b'<richcontent TYPE="NOTE"><html><body><p>A note</p></body></html></richcontent>'
        b'<node TEXT="Grandchild"><icon BUILTIN="yes"/></node></node>'
        b'<node TEXT=""/></node></map>'
    )
    parsed = parse_upload("free.mm", data)
    assert outline(parsed) == [
        {
            "title": "new_mindmap",
            "children": [
                {"title": "First bold line Second", "note": "A note",
                 "children": [{"title": "Grandchild"}]},
                {"title": "(untitled)"},
            ],
        }
    ]


def test_freemind_nodes_outside_the_node_tree_are_ignored() -> None:
    data = (
        b'<map><node TEXT="Root"><hook NAME="x"><node TEXT="inside hook">'
        b'<node TEXT="deeper"/></node></hook><node TEXT="Real"/></node></map>'
    )
    assert outline(parse_upload(None, data)) == [
        {"title": "Root", "children": [{"title": "Real"}]}
    ]


@pytest.mark.parametrize(
    "encoded",
    [
        "\ufeff<map><node TEXT='Ünïcode'/></map>".encode(),
        "<map><node TEXT='Ünïcode'/></map>".encode("utf-16"),  # with BOM
        "<?xml version='1.0' encoding='ISO-8859-1'?><map><node TEXT='Ünïcode'/></map>".encode(
            "latin-1"
        ),
        b"\n\n  <map><node TEXT='&#220;n&#239;code'/></map>",
    ],
)
def test_freemind_encodings(encoded: bytes) -> None:
    assert outline(parse_upload("u.mm", encoded)) == [{"title": "Ünïcode"}]


# --- detection by content --------------------------------------------------------------------


@pytest.mark.parametrize("filename", [None, "", "map.xmind", "notes.txt", "../../etc/passwd"])
def test_format_is_detected_by_content_not_filename(filename: str | None) -> None:
    assert parse_upload(filename, make_freemind("F")).format == "freemind"
    assert parse_upload(filename, make_xmind_json("X")).format == "xmind"
    assert parse_upload(filename, make_xmind_xml("X")).extension == ".xmind"


# --- titles ---------------------------------------------------------------------------------


def test_titles_are_cleaned_and_truncated() -> None:
    long_title = "x" * 5000
    data = make_xmind_json(
        "  Multi\nline\r\n\ttitle\x00\x07\x1b[31m  ",
        [long_title, "\u202eRTL ok\u200d", "\x85\x9f", "Lone \ud800 surrogate"],
    )
    parsed = parse_upload(None, data)
    root = parsed.sheets[0]
    assert root.title == "Multi line title[31m"
    assert [child.title for child in root.children] == [
        "x" * 2000,
        "\u202eRTL ok\u200d",
        "(untitled)",
        "Lone surrogate",
    ]
    short = UploadLimits(max_title_chars=5)
    assert parse_upload(None, make_freemind("abc def ghi"), short).sheets[0].title == "abc d"


# --- thumbnails --------------------------------------------------------------------------------


def test_jpeg_thumbnail_is_reencoded_to_png() -> None:
    files = {
        "content.json": xmind_json_content([xmind_json_topic("Root")]),
        "Thumbnails/thumbnail.jpg": make_jpeg(12, 7),
    }
    thumbnail = parse_upload(None, make_xmind_archive(files)).thumbnail_png
    assert thumbnail is not None and thumbnail.startswith(PNG_SIGNATURE)
    with Image.open(io.BytesIO(thumbnail)) as image:
        assert (image.format, image.size) == ("PNG", (12, 7))


@pytest.mark.parametrize(
    "thumbnail",
    [
        b"not an image at all",
        make_png(64, 64)[:-40],  # truncated
        make_png(64, 64)[:60] + b"\x00" * 40 + make_png(64, 64)[100:],  # corrupted chunk
        b"GIF89a" + make_png()[6:],
        b"",
    ],
    ids=["garbage", "truncated", "corrupt", "gif-header", "empty"],
)
def test_invalid_thumbnail_is_dropped_but_map_kept(thumbnail: bytes) -> None:
    parsed = parse_upload(None, make_xmind_json("Kept", ["child"], thumbnail=thumbnail))
    assert parsed.thumbnail_png is None
    assert outline(parsed) == [{"title": "Kept", "children": [{"title": "child"}]}]


def png_with_undecodable_pixels() -> bytes:
    """Chunk CRCs are all valid (so verify() passes) but the IDAT stream is not zlib."""
    png = make_png(16, 16)
    start = png.index(b"IDAT") - 4
    length = int.from_bytes(png[start : start + 4], "big")
    junk = b"\x00" * length
    chunk = length.to_bytes(4, "big") + b"IDAT" + junk
    chunk += zlib.crc32(b"IDAT" + junk).to_bytes(4, "big")
    return png[:start] + chunk + png[start + 12 + length :]


def test_thumbnail_that_verifies_but_does_not_decode_is_dropped() -> None:
    parsed = parse_upload(None, make_xmind_json("Root", thumbnail=png_with_undecodable_pixels()))
    assert parsed.thumbnail_png is None
    assert parsed.sheets == (Topic("Root"),)


def test_thumbnail_with_a_corrupt_zip_entry_is_dropped() -> None:
    content = xmind_json_content([xmind_json_topic("Root")])
    thumbnail = make_png()
    data = build_raw_zip(
        [
            RawZipEntry("content.json", deflate(content), len(content), zlib.crc32(content)),
            RawZipEntry("Thumbnails/thumbnail.png", deflate(thumbnail), len(thumbnail), 0xBAD),
        ]
    )
    parsed = parse_upload(None, data)
    assert parsed.thumbnail_png is None
    assert parsed.sheets == (Topic("Root"),)


def test_thumbnail_over_the_pixel_limit_is_dropped() -> None:
    data = make_xmind_json("Root", thumbnail=make_png(40, 30))
    assert parse_upload(None, data, UploadLimits(max_thumbnail_pixels=1200)).thumbnail_png
    assert parse_upload(None, data, UploadLimits(max_thumbnail_pixels=1199)).thumbnail_png is None


@pytest.mark.parametrize("size", [(5000, 4000), (100_000, 100_000)])
def test_thumbnail_header_claiming_huge_dimensions_is_dropped(size: tuple[int, int]) -> None:
    png = bytearray(make_png(8, 8))
    # IHDR width/height live at bytes 16..24, its CRC at 29..33.
    png[16:24] = size[0].to_bytes(4, "big") + size[1].to_bytes(4, "big")
    png[29:33] = zlib.crc32(bytes(png[12:29])).to_bytes(4, "big")
    parsed = parse_upload(None, make_xmind_json("Root", thumbnail=bytes(png)))
    assert parsed.thumbnail_png is None


def test_xmind_without_thumbnail() -> None:
    assert parse_upload(None, make_xmind_json("Root", thumbnail=None)).thumbnail_png is None
    assert parse_upload(None, make_xmind_xml("Root", thumbnail=None)).thumbnail_png is None
