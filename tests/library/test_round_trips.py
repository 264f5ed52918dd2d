"""Every map exports to OPML, Markdown, FreeMind and JSON, and each export imports back to
the same outline: titles, nesting, notes and links, after normalisation (see outlines.py)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from openplate.library import EXPORT_FORMATS, Topic, export_map, parse_upload
from openplate.library.outline import normalise
from tests.library.outlines import (
    LIMITS,
    SHEETS,
    TREE_EXPORTS,
    assert_round_trips,
    reimport,
)
from tests.support.mindmaps import (
    make_freemind_outline,
    make_mindmanager,
    make_opml,
    make_xmind_archive,
    xmind_json_content,
    xmind_json_topic,
)

WORLD = Topic(
    "世界地図 🌍",
    (
        Topic("中文 标题", (Topic("日本語のタイトル"), Topic("한국어 제목")), note="第一行\n第二行"),
        Topic("العربية: خريطة ذهنية", note="سطر أول\n\nفقرة ثانية",
              link="https://ar.wikipedia.org/wiki/خريطة_ذهنية"),
        Topic("Emoji 👩‍👩‍👧‍👦 🇫🇷 ✨", link="mailto:emoji@example.com"),
        Topic("עברית ו-English mixed"),
    ),
    note="Unicode everywhere: ä ö ü ß ñ ç",
)

METACHARACTERS = Topic(
    "# <root> & \"quotes\" 'apostrophes'",
    tuple(
        Topic(title, note=note)
        for title, note in [
            ("- dash", "- a note line that looks like an item\n* and another"),
            ("1. numbered", "1. one\n2) two\n3.14 is not a list"),
            ("[bracketed](https://example.com) text", "[a](b) ![c](d)"),
            ("*emphasis* _under_ `code`", "```\nnot a fence\n```\n~~~"),
            ("<b>not html</b> &amp; entity", "<p>still text</p> &lt;"),
            ("back\\slash \\# escaped", "\\\\ two \\* three"),
            ("ends with #", "# heading-like note\n## another\n---\n***\n==="),
            ("C# and F#", "> quoted\n+ plus"),
            ("tab\tand\nnewline in title", "trailing spaces   \n   leading spaces"),
            ("(untitled)", ""),
            ("", "a topic with no title"),
        ]
    ),
    link="https://example.com/path_(with)_parens?a=1&b=<2>",
)


def test_unicode_round_trips() -> None:
    assert_round_trips([WORLD])


def test_metacharacters_round_trip() -> None:
    assert_round_trips([METACHARACTERS])


def test_several_sheets_round_trip() -> None:
    assert_round_trips([WORLD, METACHARACTERS, Topic("Third")], title="Three sheets & more")


def test_deep_map_round_trips() -> None:
    deep = Topic("level 200", note="bottom\nnote", link="https://example.com/deep")
    for level in range(199, 0, -1):
        deep = Topic(f"level {level}", (deep,), note=f"note {level}" if level % 7 == 0 else "")
    assert_round_trips([deep])
    # With several sheets the made-up root adds a level: 199 levels still fit.
    assert_round_trips([deep.children[0], Topic("other")])


def test_wide_map_round_trips() -> None:
    wide = Topic("wide", tuple(
        Topic(f"child {index}", (Topic(f"grandchild {index}"),) if index % 10 == 0 else (),
              note=f"note {index}" if index % 3 == 0 else "")
        for index in range(5000)
    ))
    assert_round_trips([wide])


def test_uploads_of_every_format_round_trip() -> None:
    plan = Topic("Plan", (
        Topic("Scope", (Topic("In"), Topic("Out")), note="What we do\nand what we do not"),
        Topic("Links", link="https://example.com/plan"),
    ), note="Top note")
    xmind = xmind_json_topic("Plan", [
        xmind_json_topic("Scope", [xmind_json_topic("In"), xmind_json_topic("Out")],
                         note="What we do\nand what we do not"),
        xmind_json_topic("Links", href="https://example.com/plan"),
    ], note="Top note")
    uploads = {
        "xmind": make_xmind_archive({"content.json": xmind_json_content([xmind])}),
        "freemind": make_freemind_outline(plan),
        "opml": make_opml(plan),
        "markdown": export_map([plan], "md", title="Plan").content,
        "mindmanager": make_mindmanager(plan),
    }
    for name, data in uploads.items():
        parsed = parse_upload(None, data)
        assert parsed.format == name
        assert parsed.sheets == (plan,), name
        assert_round_trips(parsed.sheets, title=name)


def test_normalised_outlines_come_back_exactly() -> None:
    for sheet in (WORLD, METACHARACTERS):
        normal = normalise(sheet, LIMITS)
        for fmt in EXPORT_FORMATS:
            (back,) = reimport([normal], fmt, "t")
            assert back == normal, fmt


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SHEETS)
def test_generated_outlines_round_trip(sheets: list[Topic]) -> None:
    # Generated text is arbitrary (controls, line breaks, Markdown and XML metacharacters, bad
    # links); the comparison is with the normalised outline, which is what the parsers produce.
    assert_round_trips(sheets, title="Generated")


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SHEETS)
def test_exporting_twice_gives_the_same_bytes(sheets: list[Topic]) -> None:
    normal = [normalise(sheet, LIMITS) for sheet in sheets]
    for fmt in EXPORT_FORMATS:
        first = export_map(sheets, fmt, title="t")
        assert export_map(sheets, fmt, title="t") == first
        assert export_map(normal, fmt, title="t") == first


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SHEETS)
def test_an_export_of_an_import_is_the_same_file(sheets: list[Topic]) -> None:
    for fmt in TREE_EXPORTS:
        first = export_map(sheets, fmt, title="t")
        assert export_map(reimport(sheets, fmt, "t"), fmt, title="t") == first
