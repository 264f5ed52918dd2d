"""Topic JSON conversion and the small value types of the library."""

from __future__ import annotations

import pytest

import openplate.library as library
from openplate.library import ParsedMap, Topic, UploadLimits


def test_public_api() -> None:
    assert library.__all__ == ["parse_upload", "UploadLimits", "ParsedMap", "Topic", "MapRejected"]


def test_default_limits() -> None:
    limits = UploadLimits()
    assert limits.max_bytes == 20 * 1024 * 1024
    assert limits.max_zip_entries == 500
    assert limits.max_uncompressed_bytes == 100 * 1024 * 1024
    assert limits.max_compression_ratio == 100
    assert limits.max_xml_bytes == 20 * 1024 * 1024
    assert (limits.max_topics, limits.max_depth, limits.max_title_chars) == (50_000, 200, 2000)
    assert limits.max_thumbnail_pixels == 16_000_000


def test_to_json_omits_empty_children() -> None:
    topic = Topic("Root", (Topic("A", (Topic("A1"),)), Topic("B")))
    assert topic.to_json() == {
        "title": "Root",
        "children": [{"title": "A", "children": [{"title": "A1"}]}, {"title": "B"}],
    }
    assert Topic("Leaf").to_json() == {"title": "Leaf"}


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
