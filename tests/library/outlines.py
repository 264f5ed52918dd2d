"""Outline helpers for the round-trip and property tests: flatten, normalise, re-import."""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import strategies as st

from openplate.library import Topic, UploadLimits, export_map, import_json, parse_upload
from openplate.library.cleaning import clean_title
from openplate.library.outline import normalise

LIMITS = UploadLimits()
#: The export format and the ParsedMap.format its re-import must report.
TREE_EXPORTS = {"opml": "opml", "md": "markdown", "mm": "freemind"}

Row = tuple[int, str, str, str]


def flatten(root: Topic) -> list[Row]:
    """(depth, title, note, link) in pre-order: compares deep trees without recursion."""
    rows: list[Row] = []
    stack = [(root, 1)]
    while stack:
        topic, depth = stack.pop()
        rows.append((depth, topic.title, topic.note, topic.link))
        stack.extend((child, depth + 1) for child in reversed(topic.children))
    return rows


def flatten_all(sheets: Sequence[Topic]) -> list[list[Row]]:
    return [flatten(sheet) for sheet in sheets]


def expected_tree(sheets: Sequence[Topic], title: str) -> Topic:
    """What a one-tree format (OPML, Markdown, FreeMind) gives back for ``sheets``."""
    normal = [normalise(sheet, LIMITS) for sheet in sheets]
    if len(normal) == 1:
        return normal[0]
    return Topic(clean_title(title, LIMITS), tuple(normal))


def reimport(sheets: Sequence[Topic], fmt: str, title: str,
             limits: UploadLimits = LIMITS) -> tuple[Topic, ...]:
    """Export ``sheets`` as ``fmt`` and read the file back the way an upload would be."""
    content = export_map(sheets, fmt, title=title).content
    if fmt == "json":
        return import_json(content, limits).sheets
    parsed = parse_upload(f"export.{fmt}", content, limits)
    assert parsed.format == TREE_EXPORTS[fmt]
    return parsed.sheets


def assert_round_trips(sheets: Sequence[Topic], title: str = "Map") -> None:
    """Every export format imports back to the normalised outline."""
    tree = flatten(expected_tree(sheets, title))
    for fmt in TREE_EXPORTS:
        back = reimport(sheets, fmt, title)
        assert len(back) == 1, fmt
        assert flatten(back[0]) == tree, fmt
    assert flatten_all(reimport(sheets, "json", title)) == flatten_all(
        [normalise(sheet, LIMITS) for sheet in sheets]
    )


# --- Hypothesis strategies ---------------------------------------------------------------------

# Characters that mean something in Markdown, XML or JSON, plus whitespace and controls.
_SPECIAL = st.sampled_from(list("#-*+_=~[]()<>`\\!|.:0123456789&\"' \t\n\r\x00\x85\u2028\xa0"))
TEXT = st.text(st.one_of(st.characters(), _SPECIAL, _SPECIAL), max_size=24)
LINKS = st.one_of(
    st.just(""),
    st.sampled_from([
        "https://example.com/", "http://example.com/a_(b)?q=1&r=<2>", "mailto:a@example.com",
        "javascript:alert(1)", "ftp://x.example/", "relative/path", "https://例え.jp/パス",
        " https://example.com/a b ", "https://example.com/#frag\\x",
    ]),
    TEXT.map(lambda text: "https://example.com/" + text),
)
TOPICS = st.recursive(
    st.builds(Topic, TEXT, st.just(()), TEXT, LINKS),
    lambda children: st.builds(
        Topic, TEXT, st.lists(children, max_size=4).map(tuple), TEXT, LINKS
    ),
    max_leaves=25,
)
SHEETS = st.lists(TOPICS, min_size=1, max_size=3)


def count_and_depth(root: Topic) -> tuple[int, int]:
    count, deepest = 0, 0
    stack = [(root, 1)]
    while stack:
        topic, depth = stack.pop()
        count += 1
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in topic.children)
    return count, deepest
