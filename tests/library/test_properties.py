"""Property tests: whatever the bytes, parse_upload returns a ParsedMap or raises MapRejected."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openplate.library import MapRejected, ParsedMap, Topic, UploadLimits, parse_upload
from openplate.library.formats import FORMATS
from tests.library.helpers import check_rejection, mutated
from tests.support.mindmaps import (
    make_freemind,
    make_xmind_archive,
    make_xmind_json,
    make_xmind_xml,
    xmind_json_content,
    xmind_json_topic,
)

SMALL = UploadLimits(max_topics=200, max_depth=20, max_title_chars=50)
SEEDS = {
    "xmind-json": make_xmind_json("Root", ["alpha", "beta", "gamma"], sheets=2),
    "xmind-xml": make_xmind_xml("Root", ["alpha", "beta"]),
    "freemind": make_freemind("Root", ["alpha", "beta"]),
}
PROPERTY_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def check_outcome(data: bytes, limits: UploadLimits = SMALL) -> ParsedMap | None:
    """Parse ``data``: anything but a ParsedMap or a well-formed MapRejected fails the test."""
    try:
        parsed = parse_upload("fuzz.xmind", data, limits)
    except MapRejected as exc:
        check_rejection(exc)
        return None
    assert isinstance(parsed, ParsedMap)
    assert parsed.format in FORMATS
    assert parsed.sheets and parsed.topic_count <= limits.max_topics
    assert parsed.topic_count == sum(count_topics(sheet) for sheet in parsed.sheets)
    for sheet in parsed.sheets:
        assert Topic.from_json(json.loads(json.dumps(sheet.to_json()))) == sheet
    return parsed


def count_topics(root: Topic) -> int:
    count, stack = 0, [root]
    while stack:
        topic = stack.pop()
        count += 1
        assert topic.title and len(topic.title) <= SMALL.max_title_chars
        assert topic.title == topic.title.strip()
        stack.extend(topic.children)
    return count


@PROPERTY_SETTINGS
@given(st.binary(max_size=4096))
def test_arbitrary_bytes(data: bytes) -> None:
    check_outcome(data)


@PROPERTY_SETTINGS
@given(st.sampled_from([b"PK\x03\x04", b"PK\x05\x06", b"<map>", b"<?xml version='1.0'?>"]),
       st.binary(max_size=2048))
def test_arbitrary_bytes_behind_a_recognised_magic(magic: bytes, tail: bytes) -> None:
    check_outcome(magic + tail)


@PROPERTY_SETTINGS
@given(st.sampled_from(sorted(SEEDS)).flatmap(lambda name: mutated(SEEDS[name])))
def test_random_mutations_of_valid_maps(data: bytes) -> None:
    check_outcome(data)


@PROPERTY_SETTINGS
@given(mutated(xmind_json_content([xmind_json_topic("R", [xmind_json_topic("C")])])))
def test_mutated_content_json_inside_a_valid_zip(content: bytes) -> None:
    check_outcome(make_xmind_archive({"content.json": content}))


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(
        st.sampled_from(["title", "rootTopic", "children", "attached", "detached", "x"]),
        inner,
        max_size=4,
    ),
    max_leaves=30,
)


@PROPERTY_SETTINGS
@given(JSON_VALUES)
def test_arbitrary_json_shapes_inside_a_valid_zip(document: object) -> None:
    check_outcome(make_xmind_archive({"content.json": json.dumps(document).encode()}))


@PROPERTY_SETTINGS
@given(st.recursive(
    st.builds(Topic, st.text(max_size=10)),
    lambda kids: st.builds(Topic, st.text(max_size=10), st.lists(kids, max_size=4).map(tuple)),
    max_leaves=40,
))
def test_topic_json_round_trip(topic: Topic) -> None:
    assert Topic.from_json(json.loads(json.dumps(topic.to_json()))) == topic


def test_mutation_seeds_are_valid() -> None:
    for seed in SEEDS.values():
        assert check_outcome(seed) is not None
