"""MindManager .mmap uploads, and how a ZIP is told apart from an XMind workbook."""

from __future__ import annotations

import pytest

from openplate.library import Topic, UploadLimits, parse_upload
from tests.library.helpers import reject
from tests.support.mindmaps import (
    MINDMANAGER_NS,
    make_mindmanager,
    make_png,
    make_xmind_archive,
    mindmanager_document,
    xmind_json_content,
    xmind_json_topic,
)

MAP = Topic(
    "Central",
    (
        Topic("Goals", (Topic("Grow"), Topic("Keep <costs> & risks low")),
              note="Agreed in March.\nReview in June."),
        Topic("Site", link="https://example.com/site"),
        Topic("مرحبا 世界 🌍"),
    ),
    note="The whole plan",
)


def test_mindmanager_outline_notes_and_links() -> None:
    parsed = parse_upload("plan.mmap", make_mindmanager(MAP))
    assert (parsed.format, parsed.extension, parsed.media_type) == (
        "mindmanager", ".mmap", "application/vnd.mindjet.mindmanager"
    )
    assert parsed.sheets == (MAP,)
    assert parsed.topic_count == 6
    assert parsed.thumbnail_png is None


def test_preview_is_the_thumbnail_when_usable() -> None:
    preview = make_png(20, 10)
    assert parse_upload(None, make_mindmanager(MAP, preview=preview)).thumbnail_png == preview
    assert parse_upload(None, make_mindmanager(MAP, preview=b"not a png")).thumbnail_png is None


def ap(body: str) -> bytes:
    return make_xmind_archive({"Document.xml": (
        f'<ap:Map xmlns:ap="{MINDMANAGER_NS}" xmlns:o="urn:other">{body}</ap:Map>'
    ).encode()})


def test_only_subtopics_of_the_one_topic_are_read() -> None:
    data = ap(
        '<ap:OneTopic><ap:Topic><ap:Text PlainText="Root"/>'
        '<ap:SubTopics><ap:Topic><ap:Text PlainText="Kept"/></ap:Topic>'
        '<o:Topic><ap:Text PlainText="other namespace"/></o:Topic></ap:SubTopics>'
        '<ap:Callouts><ap:Topic><ap:Text PlainText="callout"/></ap:Topic></ap:Callouts>'
        "</ap:Topic><ap:Topic><ap:Text PlainText=\"second central topic\"/></ap:Topic>"
        '</ap:OneTopic><ap:FloatingTopics><ap:Topic><ap:Text PlainText="floating"/>'
        "</ap:Topic></ap:FloatingTopics>"
    )
    parsed = parse_upload(None, data)
    assert parsed.sheets == (Topic("Root", (Topic("Kept"),)),)
    assert parsed.topic_count == 2


def test_missing_text_preview_notes_and_odd_links() -> None:
    data = ap(
        "<ap:OneTopic><ap:Topic><ap:SubTopics>"
        '<ap:Topic><ap:NotesGroup><ap:NotesXhtmlData PreviewPlainText="from the preview"/>'
        "</ap:NotesGroup></ap:Topic>"
        '<ap:Topic><ap:Text PlainText="file link"/><ap:Hyperlink Url="file:///C:/a.doc"/>'
        "</ap:Topic>"
        '<ap:Topic><ap:Text PlainText="two links"/><ap:Hyperlink Url="https://first.example/"/>'
        '<ap:Hyperlink Url="https://second.example/"/></ap:Topic>'
        '</ap:SubTopics><ap:Text PlainText=""/></ap:Topic></ap:OneTopic>'
    )
    assert parse_upload(None, data).sheets == (
        Topic(
            "(untitled)",
            (
                Topic("(untitled)", note="from the preview"),
                Topic("file link"),
                Topic("two links", link="https://first.example/"),
            ),
        ),
    )


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (ap("<ap:OneTopic/>"), "invalid_map"),
        (ap(""), "invalid_map"),
        (make_xmind_archive({"Document.xml": b"<Map><OneTopic/></Map>"}), "invalid_map"),
        (make_xmind_archive({"Document.xml": b"<ap:Map xmlns:ap='x'>"}), "invalid_map"),
        (make_xmind_archive({"Document.xml": (
            f'<!DOCTYPE m [<!ENTITY e SYSTEM "file:///etc/passwd">]><ap:Map xmlns:ap='
            f'"{MINDMANAGER_NS}"><ap:OneTopic><ap:Topic><ap:Text PlainText="&e;"/>'
            "</ap:Topic></ap:OneTopic></ap:Map>").encode()}), "unsafe_map"),
        (make_xmind_archive({"document.xml": mindmanager_document(MAP)}),
         "unsupported_map_format"),
        (make_xmind_archive({"word/document.xml": b"<w:document/>"}), "unsupported_map_format"),
    ],
)
def test_bad_mindmanager_maps_are_refused(data: bytes, error: str) -> None:
    reject(data, error, filename="x.mmap")


def test_a_zip_with_both_is_read_as_xmind() -> None:
    data = make_xmind_archive({
        "content.json": xmind_json_content([xmind_json_topic("XMind wins")]),
        "Document.xml": mindmanager_document(MAP),
    })
    parsed = parse_upload(None, data)
    assert parsed.format == "xmind" and parsed.sheets == (Topic("XMind wins"),)


def test_mindmanager_limits() -> None:
    assert parse_upload(None, make_mindmanager(MAP), UploadLimits(max_topics=6)).topic_count == 6
    reject(make_mindmanager(MAP), "unsafe_map", limits=UploadLimits(max_topics=5))
    assert parse_upload(None, make_mindmanager(MAP), UploadLimits(max_depth=3)).topic_count == 6
    exc = reject(make_mindmanager(MAP), "unsafe_map", limits=UploadLimits(max_depth=2))
    assert "2 levels" in exc.description
    document = mindmanager_document(MAP)
    too_small = UploadLimits(max_xml_bytes=len(document) - 1)
    reject(make_mindmanager(MAP), "map_too_large", limits=too_small)
    reject(make_mindmanager(MAP), "unsafe_map", limits=UploadLimits(max_zip_entries=2))
    level = "<ap:SubTopics><ap:Topic>"
    deep = ap("<ap:OneTopic><ap:Topic>" + level * 200 + "</ap:Topic></ap:SubTopics>" * 200
              + "</ap:Topic></ap:OneTopic>")
    reject(deep, "unsafe_map")
    assert parse_upload(None, deep, UploadLimits(max_depth=201)).topic_count == 201
    junk = ap("<ap:OneTopic><ap:Topic>" + "<o:x>" * 100_000 + "</o:x>" * 100_000
              + "</ap:Topic></ap:OneTopic>")
    reject(junk, "unsafe_map")
