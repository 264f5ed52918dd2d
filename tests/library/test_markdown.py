"""Markdown outline uploads: headings, lists, notes, links, detection and limits."""

from __future__ import annotations

import pytest

from openplate.library import Topic, UploadLimits, parse_upload
from tests.library.helpers import reject


def parse(text: str, limits: UploadLimits | None = None) -> Topic:
    parsed = parse_upload("outline.md", text.encode(), limits or UploadLimits())
    assert (parsed.format, parsed.extension, parsed.media_type) == (
        "markdown", ".md", "text/markdown; charset=utf-8"
    )
    assert len(parsed.sheets) == 1 and parsed.thumbnail_png is None
    return parsed.sheets[0]


def test_headings_and_lists() -> None:
    text = """# Trip

## Before
- Book flights
- Pack
  - Clothes
  - Passport
    1. Check expiry
    2) Copy it
## During
* Museums
+ Food
### Evenings
"""
    assert parse(text) == Topic("Trip", (
        Topic("Before", (
            Topic("Book flights"),
            Topic("Pack", (
                Topic("Clothes"),
                Topic("Passport", (Topic("Check expiry"), Topic("Copy it"))),
            )),
        )),
        Topic("During", (Topic("Museums"), Topic("Food"), Topic("Evenings"))),
    ))


def test_tabs_and_four_space_indentation() -> None:
    assert parse("- a\n\t- b\n\t\t- c\n\t- d\n- e\n") == Topic(
        "a", (Topic("b", (Topic("c"),)), Topic("d"), Topic("e"))
    )
    assert parse("# r\n- a\n    - b\n        - c\n  - d\n") == Topic(
        "r", (Topic("a", (Topic("b", (Topic("c"),)), Topic("d"))),)
    )


def test_paragraphs_are_notes() -> None:
    text = """# Root
Intro line one
intro line two.

Second paragraph.

## Section
- Item
  Continues as the item's note.

  A second paragraph of it.
  - Child

    Child note, after a blank line.
- Other item
lazy line of the other item

Back at the section's level.
"""
    assert parse(text) == Topic(
        "Root",
        (
            Topic(
                "Section",
                (
                    Topic("Item", (Topic("Child", note="Child note, after a blank line."),),
                          note="Continues as the item's note.\n\nA second paragraph of it."),
                    Topic("Other item", note="lazy line of the other item"),
                ),
                note="Back at the section's level.",
            ),
        ),
        note="Intro line one\nintro line two.\n\nSecond paragraph.",
    )


def test_root_rules() -> None:
    # No heading: the first line is the root, even a plain line.
    assert parse("Shopping\n- milk\n- eggs\n") == Topic("Shopping", (Topic("milk"), Topic("eggs")))
    # A list alone: its first item is the root; later top-level items are its children.
    assert parse("- A\n  - A1\n- B\n") == Topic("A", (Topic("A1"), Topic("B")))
    # Several level-1 headings: the first is the root.
    assert parse("# A\n# B\n## B1\n# C\n") == Topic(
        "A", (Topic("B", (Topic("B1"),)), Topic("C"))
    )
    # The first heading is the root whatever its level; text and items before it are its own.
    assert parse("Preface.\n- early item\n### Deep start\n# Shallower\n#### Deeper\n") == Topic(
        "Deep start",
        (Topic("early item"), Topic("Shallower", (Topic("Deeper"),))),
        note="Preface.",
    )


def test_heading_syntax() -> None:
    text = "  # Closed heading ##   \n##Not a heading\n####### seven is text\n## C \\#\n#\n"
    assert parse(text) == Topic(
        "Closed heading",
        (Topic("C #"), Topic("(untitled)")),
        note="##Not a heading\n####### seven is text",
    )


def test_links_and_escapes() -> None:
    text = """# [Docs](https://example.com/docs "The docs")
- [Paren](https://en.wikipedia.org/wiki/Map_(disambiguation))
- [Angled](<https://example.com/a_(b>)
- [Unsafe](javascript:alert(1))
- see [inline](https://example.com) link
- \\[not a link\\](https://example.com)
- \\# \\- 1\\. a\\*b\\_c \\\\ C:\\path
- ![image](https://example.com/i.png)
"""
    assert parse(text) == Topic(
        "Docs",
        (
            Topic("Paren", link="https://en.wikipedia.org/wiki/Map_(disambiguation)"),
            Topic("Angled", link="https://example.com/a_(b"),
            Topic("Unsafe"),
            Topic("see [inline](https://example.com) link"),
            Topic("[not a link](https://example.com)"),
            Topic("# - 1. a*b_c \\ C:\\path"),
            Topic("![image](https://example.com/i.png)"),
        ),
        link="https://example.com/docs",
    )


def test_code_fences_breaks_and_front_matter() -> None:
    text = """---
title: front matter is skipped
---
# Root
```python
# not a heading
- not an item
```
***
- item
  ~~~
  - still code
  ~~~
- - -
- after the break
"""
    assert parse(text) == Topic(
        "Root",
        (
            Topic("item", note="~~~\n- still code\n~~~"),
            Topic("after the break"),
        ),
        note="```python\n# not a heading\n- not an item\n```",
    )


def test_line_endings_bom_and_unicode() -> None:
    text = "\ufeff# 中文地图\r\n- العربية\r\n- 😀 emoji\r\n  note\r"
    assert parse_upload(None, text.encode()).sheets == (
        Topic("中文地图", (Topic("العربية"), Topic("😀 emoji", note="note"))),
    )


@pytest.mark.parametrize(
    "data",
    [
        b"Just some notes about my plan",
        b"Line one\nLine two\n\nA paragraph, with no heading or item.",
        b"-\n*\n1.\n#",  # markers without any text
        b"---\n***\n",
        b"\x00- binary\n# junk",
        b"- item\x01\n",
        "- caf\xe9\n".encode("latin-1"),
        "# UTF-16".encode("utf-16"),
        b"\xef\xbb\xbf",
        b'{"version": 1, "title": "a json export", "sheets": []}',
    ],
)
def test_text_without_an_outline_is_415(data: bytes) -> None:
    exc = reject(data, "unsupported_map_format", filename="notes.md")
    assert "Markdown outline" in exc.description and "OPML" in exc.description


def test_xml_and_zip_never_reach_markdown() -> None:
    # Text that starts with "<" is XML, even when it also looks like a Markdown outline.
    reject(b"<!-- comment -->\n# Heading\n- item\n", "unsupported_map_format")
    reject(b"<p>\n# Heading\n- item\n</p>", "unsupported_map_format")
    reject(b"PK\x03\x04\n# Heading\n- item\n", "invalid_map")


def test_markdown_limits() -> None:
    wide = "# r\n" + "".join(f"- {i}\n" for i in range(9))
    assert parse(wide, UploadLimits(max_topics=10)).children[-1] == Topic("8")
    reject(wide.encode(), "unsafe_map", limits=UploadLimits(max_topics=9))
    deep = "# 1\n## 2\n### 3\n" + "".join(f"{'  ' * i}- {i + 4}\n" for i in range(3))
    assert parse(deep, UploadLimits(max_depth=6)).title == "1"
    exc = reject(deep.encode(), "unsafe_map", limits=UploadLimits(max_depth=5))
    assert "5 levels" in exc.description
    reject(wide.encode(), "map_too_large", limits=UploadLimits(max_xml_bytes=len(wide) - 1))
    assert parse("# abcdefgh", UploadLimits(max_title_chars=3)).title == "abc"
    noted = parse("# r\n" + "word " * 10_000, UploadLimits(max_note_chars=100))
    assert len(noted.note) <= 100 and noted.note.startswith("word word")


def test_deep_list_does_not_recurse() -> None:
    text = "".join(f"{' ' * (2 * i)}- level {i + 1}\n" for i in range(200))
    node = parse(text)
    for level in range(2, 201):
        (node,) = node.children
        assert node.title == f"level {level}"
    reject((text + " " * 400 + "- too deep\n").encode(), "unsafe_map")


def test_many_lines_of_nothing_are_cheap() -> None:
    text = "# r\n" + "\n" * 300_000 + "- last\n"
    assert parse(text) == Topic("r", (Topic("last"),))
