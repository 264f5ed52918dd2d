"""Hostile input to the OPML, Markdown, MindManager and JSON readers only ever gives a map or
a MapRejected, and the byte, depth and topic limits hold for every format."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openplate.library import (
    FORMATS,
    MapRejected,
    ParsedMap,
    Topic,
    UploadLimits,
    export_map,
    import_json,
    parse_upload,
)
from openplate.library.outline import normalise
from tests.library.helpers import check_rejection, mutated
from tests.library.outlines import LIMITS, TOPICS, count_and_depth
from tests.support.mindmaps import (
    make_mindmanager,
    make_opml,
    make_xmind_archive,
    mindmanager_document,
)

SMALL = UploadLimits(
    max_topics=40, max_depth=6, max_title_chars=30, max_note_chars=60, max_link_chars=80
)
PROPERTY_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
SAMPLE = Topic("Root", (
    Topic("A", (Topic("A1", note="note\nlines"),), link="https://example.com/a"),
    Topic("B [b] <b>", note="# not a heading"),
), note="root note")
SEEDS = {
    "opml": make_opml(SAMPLE),
    "opml-several": make_opml([SAMPLE, Topic("Second")]),
    "markdown": export_map([SAMPLE], "md", title="t").content,
    "mindmanager": make_mindmanager(SAMPLE),
    "mm-export": export_map([SAMPLE], "mm", title="t").content,
    "opml-export": export_map([SAMPLE], "opml", title="t").content,
}


def check_outcome(data: bytes, limits: UploadLimits = SMALL) -> ParsedMap | None:
    """A ParsedMap within every limit, or a well-formed MapRejected; nothing else."""
    try:
        parsed = parse_upload("fuzz", data, limits)
    except MapRejected as exc:
        check_rejection(exc)
        return None
    assert parsed.format in FORMATS
    assert parsed.sheets
    total = 0
    for sheet in parsed.sheets:
        count, depth = count_and_depth(sheet)
        total += count
        assert depth <= limits.max_depth
        stack = [sheet]
        while stack:
            topic = stack.pop()
            assert topic.title and len(topic.title) <= limits.max_title_chars
            assert len(topic.note) <= limits.max_note_chars
            assert len(topic.link) <= limits.max_link_chars
            assert not topic.link or topic.link.lower().startswith(("http", "mailto:"))
            stack.extend(topic.children)
    assert total == parsed.topic_count <= limits.max_topics
    return parsed


def test_seeds_are_valid() -> None:
    for name, seed in SEEDS.items():
        assert check_outcome(seed) is not None, name


@PROPERTY_SETTINGS
@given(st.sampled_from(sorted(SEEDS)).flatmap(lambda name: mutated(SEEDS[name])))
def test_random_mutations_of_new_formats(data: bytes) -> None:
    check_outcome(data)


@PROPERTY_SETTINGS
@given(mutated(mindmanager_document(SAMPLE)))
def test_mutated_document_xml_inside_a_valid_zip(document: bytes) -> None:
    check_outcome(make_xmind_archive({"Document.xml": document}))


@PROPERTY_SETTINGS
@given(st.sampled_from([b"<opml>", b"<opml><body>", b"<opml><body><outline text='x'>",
                        b"# ", b"- ", b"\xef\xbb\xbf# "]),
       st.binary(max_size=2048))
def test_arbitrary_bytes_behind_new_format_starts(start: bytes, tail: bytes) -> None:
    check_outcome(start + tail)


MARKDOWNISH = st.lists(
    st.tuples(
        st.sampled_from(["", " ", "  ", "    ", "\t", "\t\t", "   "]),
        st.sampled_from(["", "# ", "## ", "###### ", "- ", "* ", "+ ", "1. ", "2) ", "```",
                         "~~~", "---", "> ", "\\", "[a](", "#", "-"]),
        st.text(max_size=12),
    ).map("".join),
    max_size=40,
).map("\n".join)


@PROPERTY_SETTINGS
@given(st.one_of(st.text(max_size=400), MARKDOWNISH))
def test_arbitrary_text_as_markdown(text: str) -> None:
    check_outcome(text.encode("utf-8", "surrogatepass"))


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(
        st.sampled_from(["version", "title", "sheets", "note", "link", "children", "x"]),
        inner,
        max_size=4,
    ),
    max_leaves=30,
)


def check_json(data: bytes, limits: UploadLimits = SMALL) -> None:
    try:
        imported = import_json(data, limits)
    except MapRejected as exc:
        check_rejection(exc)
        return
    assert imported.sheets and imported.topic_count <= limits.max_topics
    assert imported.topic_count == sum(count_and_depth(s)[0] for s in imported.sheets)


@PROPERTY_SETTINGS
@given(st.one_of(JSON_VALUES.map(lambda v: json.dumps(v).encode()), st.binary(max_size=512)))
def test_arbitrary_json_import(data: bytes) -> None:
    check_json(data)


@PROPERTY_SETTINGS
@given(mutated(export_map([SAMPLE, Topic("two")], "json", title="t").content))
def test_mutated_json_export(data: bytes) -> None:
    check_json(data)


def test_bad_json_imports() -> None:
    cases = {
        b"": "invalid_map",
        b"[]": "invalid_map",
        b'{"title": "t"}': "invalid_map",
        b'{"sheets": []}': "invalid_map",
        b'{"version": 2, "sheets": [{"title": "a"}]}': "invalid_map",
        b'{"version": true, "sheets": [{"title": "a"}]}': "invalid_map",
        b'{"version": 1.0, "sheets": [{"title": "a"}]}': "invalid_map",
        b'{"sheets": [{"title": "a"}], "extra": 1}': "invalid_map",
        b'{"sheets": [{"title": 1}]}': "invalid_map",
        b'{"sheets": [{"title": "a", "children": {}}]}': "invalid_map",
        b'{"sheets": [{"title": "a", "note": 5}]}': "invalid_map",
        b'{"sheets": [{"title": "a", "children": [{"title": "b", "x": 1}]}]}': "invalid_map",
        b'{"title": 5, "sheets": [{"title": "a"}]}': "invalid_map",
        b'{"sheets": [{"title": "a"}]}' + b" " * 1000: "map_too_large",
        b"[" * 100_000 + b"]" * 100_000: "map_too_large",
    }
    for data, error in cases.items():
        with pytest.raises(MapRejected) as info:
            import_json(data, UploadLimits(max_xml_bytes=1000))
        check_rejection(info.value)
        assert info.value.error == error, data[:60]
    with pytest.raises(MapRejected) as info:
        import_json(b'{"sheets":' + b"[" * 100_000 + b"]" * 100_000 + b"}")
    assert info.value.error == "unsafe_map"
    imported = import_json(b'{"title": " T ", "sheets": [{"title": "a", "link": "javascript:x"}]}')
    assert (imported.title, imported.sheets, imported.topic_count) == ("T", (Topic("a"),), 1)


# --- limits hold for every format -----------------------------------------------------------


def upload_of(root: Topic, form: str) -> bytes:
    # The builders write what they are given, as ElementTree does; real tools do not write
    # control characters into XML, so they get the normalised outline.
    if form == "opml-builder":
        return make_opml(normalise(root, LIMITS))
    if form == "mindmanager":
        return make_mindmanager(normalise(root, LIMITS))
    return export_map([root], form, title="t").content


@PROPERTY_SETTINGS
@given(TOPICS, st.sampled_from(["opml", "md", "mm", "opml-builder", "mindmanager", "json"]),
       st.integers(1, 30), st.integers(1, 8))
def test_depth_and_topic_limits_hold_for_every_format(
    root: Topic, form: str, max_topics: int, max_depth: int
) -> None:
    count, depth = count_and_depth(root)
    limits = UploadLimits(max_topics=max_topics, max_depth=max_depth)
    data = upload_of(root, form)
    fits = count <= max_topics and depth <= max_depth
    try:
        if form == "json":
            result_count = import_json(data, limits).topic_count
        else:
            result_count = parse_upload(None, data, limits).topic_count
    except MapRejected as exc:
        check_rejection(exc)
        assert exc.error == "unsafe_map" and not fits, (exc.description, count, depth)
    else:
        assert fits and result_count == count


@pytest.mark.parametrize("form", ["opml", "md", "mm", "opml-builder", "mindmanager", "json"])
def test_byte_limits_hold_for_every_format(form: str) -> None:
    data = upload_of(SAMPLE, form)

    def read(limits: UploadLimits) -> int:
        if form == "json":
            return import_json(data, limits).topic_count
        return parse_upload(None, data, limits).topic_count

    assert read(UploadLimits(max_bytes=len(data), max_xml_bytes=len(data) * 2)) == 4
    for limits in (UploadLimits(max_bytes=len(data) - 1),
                   UploadLimits(max_xml_bytes=len(data) // 2)):
        with pytest.raises(MapRejected) as info:
            read(limits)
        assert info.value.error == "map_too_large"
