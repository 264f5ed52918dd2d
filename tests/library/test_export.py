"""export_map: the exact files it writes, escaping, the several-sheets rule, depth and speed."""

from __future__ import annotations

import json
import time

import pytest

from openplate.library import EXPORT_FORMATS, Exported, Topic, export_map, import_json
from openplate.library.map_json import write_json

SAMPLE = Topic(
    'Plan "Q3" <draft> & co',
    (
        Topic("# not a heading", (Topic("1. first"), Topic("[x] y")),
              note='Line 1\nLine "2" <b>\n\nPara 2'),
        Topic("Docs", link="https://example.com/a?b=1&c=2"),
        Topic("Deep", (Topic("d3", (Topic("d4", (Topic("d5", note="n5"),)),)),)),
    ),
    note="Root note",
)

OPML = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0">
  <head>
    <title>Map &amp; more</title>
  </head>
  <body>
    <outline text="Plan &quot;Q3&quot; &lt;draft&gt; &amp; co" _note="Root note">
      <outline text="# not a heading" _note="Line 1&#10;Line &quot;2&quot; &lt;b&gt;&#10;&#10;Para 2">
        <outline text="1. first"/>
        <outline text="[x] y"/>
      </outline>
      <outline text="Docs" type="link" url="https://example.com/a?b=1&amp;c=2"/>
      <outline text="Deep">
        <outline text="d3">
          <outline text="d4">
            <outline text="d5" _note="n5"/>
          </outline>
        </outline>
      </outline>
    </outline>
  </body>
</opml>
"""

MARKDOWN = """# Plan "Q3" \\<draft\\> & co

Root note

## \\# not a heading

Line 1
Line "2" \\<b\\>

Para 2

### 1\\. first

### \\[x\\] y

## [Docs](https://example.com/a?b=1&c=2)

## Deep

### d3

- d4
  - d5

    n5
"""

FREEMIND = """<map version="1.0.1">
<node TEXT="Plan &quot;Q3&quot; &lt;draft&gt; &amp; co">
  <richcontent TYPE="NOTE"><html><head></head><body><p>Root note</p></body></html></richcontent>
  <node TEXT="# not a heading">
    <richcontent TYPE="NOTE"><html><head></head><body><p>Line 1</p><p>Line "2" &lt;b&gt;</p><p></p><p>Para 2</p></body></html></richcontent>
    <node TEXT="1. first"/>
    <node TEXT="[x] y"/>
  </node>
  <node TEXT="Docs" LINK="https://example.com/a?b=1&amp;c=2"/>
  <node TEXT="Deep">
    <node TEXT="d3">
      <node TEXT="d4">
        <node TEXT="d5">
          <richcontent TYPE="NOTE"><html><head></head><body><p>n5</p></body></html></richcontent>
        </node>
      </node>
    </node>
  </node>
</node>
</map>
"""  # noqa: E501


@pytest.mark.parametrize(
    ("fmt", "expected", "media_type", "extension"),
    [
        ("opml", OPML, "text/x-opml; charset=utf-8", ".opml"),
        ("md", MARKDOWN, "text/markdown; charset=utf-8", ".md"),
        ("mm", FREEMIND, "application/x-freemind", ".mm"),
    ],
)
def test_exact_tree_exports(fmt: str, expected: str, media_type: str, extension: str) -> None:
    exported = export_map([SAMPLE], fmt, title="Map & more")
    assert exported == Exported(expected.encode(), media_type, extension)


def test_json_export_shape() -> None:
    exported = export_map((SAMPLE,), "json", title="Map & more")
    assert (exported.media_type, exported.extension) == ("application/json", ".json")
    document = json.loads(exported.content)
    assert document == {"version": 1, "title": "Map & more", "sheets": [SAMPLE.to_json()]}
    assert exported.content.decode() == json.dumps(
        document, ensure_ascii=False, separators=(",", ":")
    ) + "\n"
    assert list(document["sheets"][0]) == ["title", "note", "children"]


def test_json_writer_matches_json_dumps_for_awkward_text() -> None:
    sheets = [
        Topic('q"uote\\back\u2028sep', (Topic("\U0001f600 中文 العربية", note="a\nb\tc"),)),
        Topic("</script>", link="https://x.example/?q=\u00e9"),
    ]
    document = {"version": 1, "title": "t", "sheets": [s.to_json() for s in sheets]}
    assert write_json(sheets, "t") == json.dumps(
        document, ensure_ascii=False, separators=(",", ":")
    ) + "\n"


def test_several_sheets_get_one_root_named_after_the_map() -> None:
    sheets = [Topic("S1", note="first"), Topic("S2", (Topic("c"),))]
    expected_root = Topic("Two sheets", tuple(sheets))
    assert export_map(sheets, "md", title="Two sheets").content.decode() == (
        "# Two sheets\n\n## S1\n\nfirst\n\n## S2\n\n### c\n"
    )
    opml = export_map(sheets, "opml", title="Two sheets").content.decode()
    assert opml.count('<outline text="Two sheets">') == 1
    mm = export_map(sheets, "mm", title="  Two\n sheets ").content.decode()
    assert mm.startswith('<map version="1.0.1">\n<node TEXT="Two sheets">\n')
    assert import_json(export_map(sheets, "json", title="T").content).sheets == tuple(sheets)
    # One sheet is exported as itself; the map title is only OPML's <head><title>.
    assert export_map([expected_root], "md", title="ignored").content.decode().startswith(
        "# Two sheets\n"
    )
    assert export_map(sheets, "mm", title="").content.decode().startswith(
        '<map version="1.0.1">\n<node TEXT="(untitled)">'
    )


def test_exports_are_normalised_first() -> None:
    messy = Topic(
        "  Title\nwith\tbreaks \x00",
        (Topic("", link="javascript:alert(1)", note="\r\n\r\n  kept  \r\n"),
         Topic("ok", link=" https://x.example/a b ")),
    )
    clean = Topic(
        "Title with breaks",
        (Topic("(untitled)", note="kept"), Topic("ok", link="https://x.example/a%20b")),
    )
    for fmt in EXPORT_FORMATS:
        assert export_map([messy], fmt, title="t") == export_map([clean], fmt, title="t")


def test_markdown_escaping() -> None:
    titles = [
        "# hash", "## two", "- dash", "+ plus", "* star", "1. one", "12) twelve", "2024.",
        "[link-like](https://x.example)", "a [b] c", "under_score", "back\\slash",
        "`code`", "<html>", "> quote", "= setext", "~~~ fence", "--- rule", "C #", "C# ok",
        "ends with ##", "#", "|table|",
    ]
    root = Topic("r", tuple(Topic(title) for title in titles))
    text = export_map([root], "md", title="t").content.decode()
    lines = text.split("\n")
    assert "## \\# hash" in lines and "## \\- dash" in lines and "## 1\\. one" in lines
    assert "## 12\\) twelve" in lines and "## \\[link-like\\](https://x.example)" in lines
    assert "## C \\#" in lines and "## C# ok" in lines and "## ends with \\##" in lines
    assert "## a \\[b\\] c" in lines and "## under\\_score" in lines and "## back\\\\slash" in lines


def test_unknown_format_and_empty_map_are_value_errors() -> None:
    for fmt in ("svg", "png", "OPML", "markdown", "freemind", ""):
        with pytest.raises(ValueError, match="unknown export format"):
            export_map([SAMPLE], fmt, title="t")
    with pytest.raises(ValueError, match="at least one sheet"):
        export_map([], "md", title="t")


def test_exports_are_deterministic() -> None:
    twin = Topic.from_json(json.loads(json.dumps(SAMPLE.to_json())))
    for fmt in EXPORT_FORMATS:
        first = export_map([SAMPLE], fmt, title="Map")
        assert export_map([twin], fmt, title="Map") == first
        assert export_map([SAMPLE], fmt, title="Map") == first


def chain(depth: int, leaves_at_bottom: int = 0) -> Topic:
    topic = Topic(f"level {depth}", tuple(Topic(f"leaf {i}") for i in range(leaves_at_bottom)))
    for level in range(depth - 1, 0, -1):
        topic = Topic(f"level {level}", (topic,))
    return topic


def test_deep_and_large_maps_export_without_recursion() -> None:
    # 50,000 topics, 200 levels deep, in every format; a deeper map than any parser accepts too.
    big = chain(200, 49_800)
    for fmt in EXPORT_FORMATS:
        exported = export_map([big], fmt, title="big")
        assert exported.content.count(b"leaf 49799") == 1
        assert len(exported.content) < 30 * 1024 * 1024
    for fmt in EXPORT_FORMATS:
        assert export_map([chain(1500)], fmt, title="deeper").content.count(b"level 1500") == 1


def five_thousand_topics() -> Topic:
    return Topic("Root", tuple(
        Topic(f"Branch {b}", tuple(
            Topic(f"Sub {b}.{s}", tuple(
                Topic(f"Leaf {b}.{s}.{leaf} with a few words",
                      note="A note\nover two lines" if leaf % 3 == 0 else "",
                      link="https://example.com/x" if leaf % 5 == 0 else "")
                for leaf in range(9)
            ))
            for s in range(10)
        ))
        for b in range(50)
    ))


def test_a_5000_topic_map_exports_fast() -> None:
    # CPU time, best of three, so a busy machine does not make this flaky.
    root = five_thousand_topics()
    for fmt in EXPORT_FORMATS:
        best = float("inf")
        for _ in range(3):
            start = time.process_time()
            export_map([root], fmt, title="Speed")
            best = min(best, time.process_time() - start)
        assert best < 0.1, (fmt, best)
