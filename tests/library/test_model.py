"""Topic JSON conversion and the small value types of the library."""

from __future__ import annotations

import pytest

import openplate.library as library
from openplate.library import ParsedMap, Topic, UploadLimits


def test_public_api() -> None:
    assert library.__all__ == [
        "parse_upload", "UploadLimits", "ParsedMap", "Topic", "MapRejected", "FORMATS",
        "MapFormat", "export_map", "Exported", "EXPORT_FORMATS", "import_json",
    ]
    for name in library.__all__:
        assert getattr(library, name) is not None
    with pytest.raises(AttributeError):
        library.no_such_name  # noqa: B018


def test_formats_table() -> None:
    assert {name: (f.extension, f.media_type) for name, f in library.FORMATS.items()} == {
        "xmind": (".xmind", "application/vnd.xmind.workbook"),
        "freemind": (".mm", "application/x-freemind"),
        "opml": (".opml", "text/x-opml"),
        "markdown": (".md", "text/markdown; charset=utf-8"),
        "mindmanager": (".mmap", "application/vnd.mindjet.mindmanager"),
    }
    assert all(name == f.name and f.label for name, f in library.FORMATS.items())
    assert {
        key: (f.extension, f.media_type) for key, f in library.EXPORT_FORMATS.items()
    } == {
        "opml": (".opml", "text/x-opml; charset=utf-8"),
        "md": (".md", "text/markdown; charset=utf-8"),
        "mm": (".mm", "application/x-freemind"),
        "json": (".json", "application/json"),
    }


def test_default_limits() -> None:
    limits = UploadLimits()
    assert limits.max_bytes == 20 * 1024 * 1024
    assert limits.max_zip_entries == 500
    assert limits.max_uncompressed_bytes == 100 * 1024 * 1024
    assert limits.max_compression_ratio == 100
    assert limits.max_xml_bytes == 20 * 1024 * 1024
    assert (limits.max_topics, limits.max_depth, limits.max_title_chars) == (50_000, 200, 2000)
    assert (limits.max_note_chars, limits.max_link_chars) == (20_000, 2000)
    assert limits.max_thumbnail_pixels == 16_000_000


def test_to_json_omits_empty_children() -> None:
    topic = Topic("Root", (Topic("A", (Topic("A1"),)), Topic("B")))
    assert topic.to_json() == {
        "title": "Root",
        "children": [{"title": "A", "children": [{"title": "A1"}]}, {"title": "B"}],
    }
    assert Topic("Leaf").to_json() == {"title": "Leaf"}


def test_notes_and_links_are_kept_only_when_present() -> None:
    topic = Topic("Root", (Topic("A", note="line 1\nline 2"), Topic("B", link="https://b.example/")))
    assert topic.to_json() == {
        "title": "Root",
        "children": [
            {"title": "A", "note": "line 1\nline 2"},
            {"title": "B", "link": "https://b.example/"},
        ],
    }
    assert list(Topic("T", (), "n", "https://x.example/").to_json()) == ["title", "note", "link"]
    assert Topic.from_json(topic.to_json()) == topic
    # Positional calls written before notes and links existed still work.
    assert Topic("R", (Topic("c"),)) == Topic(title="R", children=(Topic("c"),), note="", link="")


def test_outlines_stored_before_notes_existed_still_load() -> None:
    stored = {"title": "R", "children": [{"title": "a", "children": [{"title": "b"}]}]}
    assert Topic.from_json(stored) == Topic("R", (Topic("a", (Topic("b"),)),))


def test_from_json_round_trip_and_empty_children() -> None:
    data = {"title": "R", "children": [{"title": "a", "children": []}, {"title": "b"}]}
    assert Topic.from_json(data) == Topic("R", (Topic("a"), Topic("b")))


@pytest.mark.parametrize(
    "data",
    [
        None,
        "title",
        [],
        {},
        {"title": 3},
        {"title": "x", "children": {}},
        {"title": "x", "children": ["y"]},
        {"title": "x", "children": [{"title": None}]},
        {"title": "x", "extra": 1},
        {"title": "x", "note": None},
        {"title": "x", "note": ["line"]},
        {"title": "x", "link": 7},
        {"title": "x", "children": [{"title": "y", "link": {"url": "https://x.example/"}}]},
        {"title": "x", "notes": "misspelt key"},
    ],
)
def test_from_json_rejects_bad_shapes(data: object) -> None:
    with pytest.raises(ValueError):
        Topic.from_json(data)


def test_from_json_rejects_cycles() -> None:
    node: dict[str, object] = {"title": "loop"}
    node["children"] = [node]
    with pytest.raises(ValueError):
        Topic.from_json(node)


def test_json_conversion_does_not_recurse() -> None:
    data: dict[str, object] = {"title": "leaf"}
    for level in range(5000):
        data = {"title": str(level), "children": [data]}
    topic = Topic.from_json(data)
    depth, node = 1, topic
    while node.children:
        node = node.children[0]
        depth += 1
    assert depth == 5001 and node.title == "leaf"
    exported = topic.to_json()
    for _ in range(5000):
        exported = exported["children"][0]  # type: ignore[index]
    assert exported == {"title": "leaf"}


def test_parsed_map_is_frozen() -> None:
    parsed = ParsedMap("xmind", ".xmind", "application/vnd.xmind.workbook", (Topic("R"),), 1, None)
    with pytest.raises(AttributeError):
        parsed.topic_count = 2  # type: ignore[misc]
