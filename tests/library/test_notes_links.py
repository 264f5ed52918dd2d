"""Notes and links: how they are cleaned, and how each format's parser reads them."""

from __future__ import annotations

import json

import pytest

from openplate.library import Topic, UploadLimits, parse_upload
from openplate.library.cleaning import clean_link, clean_note, clean_title
from tests.library.helpers import outline
from tests.support.mindmaps import (
    XMIND_NS,
    make_freemind_outline,
    make_xmind_archive,
    xmind_json_content,
    xmind_json_topic,
)

LIMITS = UploadLimits()


# --- cleaning ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("", ""),
        ("  one line  ", "one line"),
        ("a\r\nb\rc\nd", "a\nb\nc\nd"),
        ("\n\n  first\n\n\n\n second  para \n\n", "first\n\nsecond para"),
        ("tabs\tand\x0bform\x0cfeeds", "tabs and form feeds"),
        ("nel\x85line\u2028sep\u2029para", "nel\nline\nsep\npara"),
        ("ctl\x00\x07\x1b\x7f\x9f chars", "ctl chars"),
        ("lone \ud800 surrogate \uffff", "lone surrogate"),
        ("   \n \t \n  ", ""),
        ("keeps  العربية 中文 😀", "keeps العربية 中文 😀"),
    ],
)
def test_clean_note(raw: str, cleaned: str) -> None:
    assert clean_note(raw, LIMITS) == cleaned
    assert clean_note(cleaned, LIMITS) == cleaned  # idempotent


def test_clean_note_is_bounded() -> None:
    limits = UploadLimits(max_note_chars=10)
    assert clean_note("0123456789abc", limits) == "0123456789"
    assert clean_note("01234\n\n\n\n\n6789", limits) == "01234\n\n678"
    assert clean_note("01234567 \n\n  xyz", limits) == "01234567"  # no trailing blank line
    assert len(clean_note("x" * 50_000, LIMITS)) == 20_000


def test_titles_drop_characters_xml_cannot_carry() -> None:
    assert clean_title("a\ufffeb\uffffc", LIMITS) == "abc"


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("https://example.com/a?b=c#d", "https://example.com/a?b=c#d"),
        ("  http://example.com  ", "http://example.com"),
        ("HTTPS://EXAMPLE.COM/", "HTTPS://EXAMPLE.COM/"),
        ("mailto:someone@example.com", "mailto:someone@example.com"),
        ("https://example.com/a b<c>\"d\\e", "https://example.com/a%20b%3Cc%3E%22d%5Ce"),
        ("https://例え.jp/パス", "https://例え.jp/パス"),
        ("javascript:alert(1)", ""),
        ("JavaScript:alert(1)", ""),
        ("data:text/html,<script>x</script>", ""),
        ("vbscript:msgbox", ""),
        ("file:///etc/passwd", ""),
        ("ftp://example.com/", ""),
        ("//example.com/relative", ""),
        ("/relative/path", ""),
        ("relative.html", ""),
        ("xap:attachments/a.png", ""),
        ("http://", ""),
        ("https:example.com", ""),
        ("mailto:", ""),
        ("http://[::1", ""),
        ("https://example.com/\x00evil", ""),
        ("https://example.com/\nheader", ""),
        ("java\tscript:alert(1)", ""),
        ("", ""),
    ],
)
def test_clean_link(raw: str, cleaned: str) -> None:
    assert clean_link(raw, LIMITS) == cleaned
    assert clean_link(cleaned, LIMITS) == cleaned


def test_clean_link_drops_rather_than_cuts_long_links() -> None:
    url = "https://example.com/" + "a" * 1980
    assert clean_link(url, LIMITS) == url
    assert clean_link(url + "b", LIMITS) == ""
    assert clean_link("https://example.com/ " * 3, UploadLimits(max_link_chars=45)) == ""


# --- FreeMind / Freeplane ----------------------------------------------------------------------


def test_freemind_notes_and_links() -> None:
    root = Topic(
        "Plan",
        (
            Topic("Docs", link="https://docs.example/guide"),
            Topic("Steps", note="First do this.\nThen that.\n\nFinally, rest."),
            Topic("Mail", link="mailto:team@example.com"),
        ),
        note="The plan & its <limits>",
    )
    assert parse_upload("plan.mm", make_freemind_outline(root)).sheets == (root,)
    plain = parse_upload("plan.mm", make_freemind_outline(root, notes_as="plain"))
    assert plain.sheets == (root,)


def test_freemind_unsafe_and_relative_links_are_dropped() -> None:
    data = (
        b'<map><node TEXT="r" LINK="javascript:alert(1)">'
        b'<node TEXT="a" LINK="other.mm#ID_1"/><node TEXT="b" LINK="#ID_2"/>'
        b'<node TEXT="c" LINK="https://ok.example/"/></node></map>'
    )
    assert outline(parse_upload(None, data)) == [
        {"title": "r", "children": [
            {"title": "a"}, {"title": "b"}, {"title": "c", "link": "https://ok.example/"}
        ]}
    ]


def test_freemind_note_html_becomes_plain_text() -> None:
    data = (
        b'<map><node TEXT="r"><richcontent TYPE="NOTE"><html>\n  <head>\n'
        b"    <style>p { margin: 0 }</style>\n  </head>\n  <body>\n"
        b"    <p>\n      First   <b>bold</b> line\n    </p>\n    <p>\n      \n    </p>\n"
        b"    <p>After a blank line<br/>and a break</p>\n"
        b"    <ul><li>one</li><li>two</li></ul><pre>  kept\n  lines</pre>\n"
        b"    <script>alert('never')</script>\n"
        b'  </body>\n</html></richcontent><richcontent TYPE="DETAILS"><html><body>'
        b"<p>details are not notes</p></body></html></richcontent></node></map>"
    )
    assert parse_upload(None, data).sheets[0].note == (
        "First bold line\n\nAfter a blank line\nand a break\none\ntwo\nkept\nlines"
    )


def test_freemind_title_from_richcontent_ignores_the_note() -> None:
    data = (
        b'<map><node><richcontent TYPE="NOTE"><html><body><p>note</p></body></html>'
        b'</richcontent><richcontent TYPE="NODE"><html><body><p>Title</p><p>two</p></body>'
        b"</html></richcontent></node></map>"
    )
    assert parse_upload(None, data).sheets == (Topic("Title two", note="note"),)


# --- XMind ------------------------------------------------------------------------------------


def test_xmind_json_notes_and_links() -> None:
    root = xmind_json_topic(
        "Root",
        [
            xmind_json_topic("Noted", note="  line one\r\nline two  "),
            xmind_json_topic("Linked", href="https://example.com/x"),
            xmind_json_topic("Attachment", href="xap:attachments/abc.pdf"),
            xmind_json_topic("Script", href="javascript:void(0)"),
        ],
        note="Root note",
    )
    data = make_xmind_archive({"content.json": xmind_json_content([root])})
    assert parse_upload(None, data).sheets == (
        Topic(
            "Root",
            (
                Topic("Noted", note="line one\nline two"),
                Topic("Linked", link="https://example.com/x"),
                Topic("Attachment"),
                Topic("Script"),
            ),
            note="Root note",
        ),
    )


@pytest.mark.parametrize(
    "extra",
    [
        {"notes": "not an object"},
        {"notes": {"plain": ["x"]}},
        {"notes": {"plain": {"content": 5}}},
        {"notes": {"html": {"content": "<p>only html</p>"}}},
        {"href": 42},
        {"href": None},
    ],
)
def test_xmind_json_odd_notes_and_links_are_ignored(extra: dict[str, object]) -> None:
    content = json.dumps([{"rootTopic": {"title": "Root", **extra}}]).encode()
    assert parse_upload(None, make_xmind_archive({"content.json": content})).sheets == (
        Topic("Root"),
    )


def test_xmind_xml_notes_and_links() -> None:
    content = (
        f'<xmap-content xmlns="{XMIND_NS}" xmlns:xlink="http://www.w3.org/1999/xlink">'
        '<sheet><topic xlink:href="https://example.com/root"><title>Root</title>'
        "<notes><plain>Line 1\nLine 2</plain><html><xhtml:p xmlns:xhtml="
        '"http://www.w3.org/1999/xhtml">ignored html</xhtml:p></html></notes>'
        '<children><topics type="attached"><topic xlink:href="xap:attachments/a.png">'
        "<title>Attached file</title></topic>"
        '<topic href="https://no-namespace.example/"><title>Plain href</title>'
        "<notes><plain>first</plain><plain>second</plain></notes></topic>"
        "</topics></children></topic></sheet></xmap-content>"
    ).encode()
    assert parse_upload(None, make_xmind_archive({"content.xml": content})).sheets == (
        Topic(
            "Root",
            (Topic("Attached file"), Topic("Plain href", note="first")),
            note="Line 1\nLine 2",
            link="https://example.com/root",
        ),
    )


def test_notes_are_bounded_by_max_note_chars() -> None:
    root = Topic("r", (Topic("a", note="word " * 1000),))
    parsed = parse_upload(None, make_freemind_outline(root), UploadLimits(max_note_chars=99))
    assert len(parsed.sheets[0].children[0].note) <= 99
    assert parsed.sheets[0].children[0].note.startswith("word word")
