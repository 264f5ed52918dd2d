"""OPML uploads: outlines, notes, links, the root rule and what is refused."""

from __future__ import annotations

import pytest

from openplate.library import Topic, UploadLimits, parse_upload
from tests.library.helpers import reject
from tests.support.mindmaps import make_opml

PLAN = Topic(
    "Plan",
    (
        Topic("Research", (Topic("Read <papers> & notes"), Topic("Interview users")),
              note="Two weeks.\nMaybe three."),
        Topic("Build", link="https://example.com/build?x=1&y=2"),
    ),
)


def test_single_top_outline_is_the_root() -> None:
    parsed = parse_upload("plan.opml", make_opml(PLAN, head_title="Ignored when one top"))
    assert (parsed.format, parsed.extension, parsed.media_type) == (
        "opml", ".opml", "text/x-opml"
    )
    assert parsed.sheets == (PLAN,)
    assert parsed.topic_count == 5
    assert parsed.thumbnail_png is None


@pytest.mark.parametrize(("head_title", "root_title"), [("Reading list", "Reading list"),
                                                        (None, "(untitled)"),
                                                        ("   ", "(untitled)")])
def test_several_top_outlines_become_children_of_a_root(
    head_title: str | None, root_title: str
) -> None:
    tops = [Topic("One"), Topic("Two", (Topic("Two a"),)), Topic("Three")]
    parsed = parse_upload(None, make_opml(tops, head_title=head_title))
    assert parsed.sheets == (Topic(root_title, tuple(tops)),)
    assert parsed.topic_count == 5


def test_opml_1_0_and_rss_subscription_lists() -> None:
    data = (
        b'<?xml version="1.0" encoding="ISO-8859-1"?>\n<opml version="1.0"><head>'
        b"<title>Feeds</title></head><body>"
        b'<outline title="Only a title attribute" type="rss" xmlUrl="https://a.example/feed"'
        b' htmlUrl="https://a.example/"/>'
        b'<outline text="Caf\xe9" type="link" url="https://b.example/"/>'
        b'<outline text="Script" url="javascript:alert(1)"/>'
        b'<outline text="">empty text attribute</outline>'
        b"</body></opml>"
    )
    assert parse_upload("feeds.xml", data).sheets == (
        Topic(
            "Feeds",
            (
                Topic("Only a title attribute", link="https://a.example/"),
                Topic("Café", link="https://b.example/"),
                Topic("Script"),
                Topic("(untitled)"),
            ),
        ),
    )


def test_notes_keep_their_line_breaks_only_when_encoded() -> None:
    data = (
        b'<opml version="2.0"><body><outline text="r" _note="line 1&#10;line 2&#13;&#10;'
        b'line 3"><outline text="c" _note="raw\nnewlines are\tattribute spaces"/>'
        b"</outline></body></opml>"
    )
    assert parse_upload(None, data).sheets == (
        Topic("r", (Topic("c", note="raw newlines are attribute spaces"),),
              note="line 1\nline 2\nline 3"),
    )


def test_only_outlines_in_the_body_count() -> None:
    data = (
        b'<opml version="2.0" xmlns:x="urn:ext"><head><title>T</title>'
        b'<outline text="in head"/></head><body><x:outline text="namespaced"/>'
        b'<outline text="Root"><x:ext><outline text="inside an extension"/></x:ext>'
        b'<outline text="kept"/></outline></body><outline text="after body"/></opml>'
    )
    parsed = parse_upload(None, data)
    assert parsed.sheets == (Topic("Root", (Topic("kept"),)),)
    assert parsed.topic_count == 2


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b'<opml version="2.0"><head><title>T</title></head><body/></opml>', "invalid_map"),
        (b'<opml version="2.0"><head/></opml>', "invalid_map"),
        (b'<opml version="2.0"><body><outline text="x"></body></opml>', "invalid_map"),
        (b"<o:opml xmlns:o='urn:x'><body><outline text='x'/></body></o:opml>",
         "unsupported_map_format"),
        (b"<OPML><body><outline text='x'/></body></OPML>", "unsupported_map_format"),
        (b'<!DOCTYPE opml [<!ENTITY x "y">]><opml><body><outline text="&x;"/></body></opml>',
         "unsafe_map"),
    ],
)
def test_bad_opml_is_refused(data: bytes, error: str) -> None:
    reject(data, error, filename="x.opml")


def test_opml_limits() -> None:
    wide = make_opml(Topic("r", tuple(Topic(str(i)) for i in range(9))))
    assert parse_upload(None, wide, UploadLimits(max_topics=10)).topic_count == 10
    reject(wide, "unsafe_map", limits=UploadLimits(max_topics=9))
    # The made-up root counts as a topic and as a level.
    tops = [Topic("a"), Topic("b", (Topic("b1"),))]
    assert parse_upload(None, make_opml(tops), UploadLimits(max_topics=4)).topic_count == 4
    reject(make_opml(tops), "unsafe_map", limits=UploadLimits(max_topics=3))
    assert parse_upload(None, make_opml(tops), UploadLimits(max_depth=3)).topic_count == 4
    reject(make_opml(tops), "unsafe_map", limits=UploadLimits(max_depth=2))
    deep = b"<opml><body>" + b"<outline text='n'>" * 6 + b"</outline>" * 6 + b"</body></opml>"
    assert parse_upload(None, deep, UploadLimits(max_depth=6)).topic_count == 6
    exc = reject(deep, "unsafe_map", limits=UploadLimits(max_depth=5))
    assert "5 levels" in exc.description
    junk = b"<opml><body>" + b"<x>" * 100_000 + b"</x>" * 100_000 + b"</body></opml>"
    reject(junk, "unsafe_map")
    reject(wide, "map_too_large", limits=UploadLimits(max_xml_bytes=len(wide) - 1))
    short = UploadLimits(max_title_chars=4)
    assert parse_upload(None, make_opml(Topic("abcdefgh")), short).sheets == (Topic("abcd"),)
