"""The SVG picture (openplate/library/picture/svg.py): valid, escaped, self-contained, one
``<g data-id>`` per topic, whatever the titles."""

from __future__ import annotations

import time
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET
from hypothesis import HealthCheck, given, settings

from openplate.library.model import Topic
from openplate.library.picture import render_svg
from openplate.library.picture.layout import STYLES
from tests.library.picture.maps import HOSTILE, LONG, generated, outlines, scripts_map

NS = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> Element:
    root: Element = SafeET.fromstring(svg, forbid_dtd=True)
    return root


def topics_in(root: Topic) -> list[tuple[Topic, int, int]]:
    """(topic, parent index, depth) in pre-order."""
    out: list[tuple[Topic, int, int]] = []
    stack: list[tuple[Topic, int, int]] = [(root, -1, 0)]
    while stack:
        topic, parent, depth = stack.pop()
        index = len(out)
        out.append((topic, parent, depth))
        stack.extend((child, index, depth + 1) for child in reversed(topic.children))
    return out


def nodes_of(doc: Element) -> list[Element]:
    return [g for g in doc.iter(f"{NS}g") if "data-id" in g.attrib]


def check_self_contained(doc: Element) -> None:
    for element in doc.iter():
        tag = element.tag.removeprefix(NS)
        assert tag in {"svg", "title", "rect", "g", "path", "text"}, tag
        for name in element.attrib:
            assert not name.lower().startswith("on"), name
            assert name not in {"style", "href", "{http://www.w3.org/1999/xlink}href"}, name


def test_the_picture_is_valid_self_contained_svg() -> None:
    root = scripts_map()
    svg = render_svg([root], title="Scripts & <friends>")
    doc = parse(svg)
    assert doc.tag == f"{NS}svg"
    assert doc.get("role") == "img" and doc.get("class") == "mindmap"
    assert len(doc.get("viewBox", "").split()) == 4
    title = doc.find(f"{NS}title")
    assert title is not None and title.text == "Mind map: Scripts & <friends>"
    check_self_contained(doc)
    assert "<script" not in svg and "\x00" not in svg and "\x1b" not in svg


def test_one_node_per_topic_with_ids_parents_and_depths() -> None:
    root = scripts_map()
    doc = parse(render_svg([root], title="t"))
    nodes = nodes_of(doc)
    expected = topics_in(root)
    assert len(nodes) == len(expected) == int(doc.get("data-topics", "0"))
    for index, (g, (topic, parent, depth)) in enumerate(zip(nodes, expected, strict=True)):
        assert g.get("data-id") == str(index)
        assert g.get("data-parent") == (None if parent < 0 else str(parent))
        assert g.get("data-depth") == str(depth)
        assert g.get("data-children") == str(len(topic.children))
        assert "mm-node" in (g.get("class") or "").split()
    edges = [p for p in doc.iter(f"{NS}path") if p.get("class") == "mm-edge"]
    assert [(e.get("data-id"), e.get("data-parent")) for e in edges] == [
        (str(i), str(p)) for i, (_t, p, _d) in enumerate(expected) if p >= 0]


def node_text(g: Element) -> list[str]:
    return [t.text or "" for t in g.findall(f"{NS}text")]


def test_hostile_titles_are_escaped_and_cleaned() -> None:
    doc = parse(render_svg([Topic(HOSTILE, (Topic('"><svg onload=alert(1)>'),))], title=HOSTILE))
    root_g, child_g = nodes_of(doc)
    shown = " ".join(node_text(root_g)).replace("\u2026", "")
    assert "<script>alert('x')</script>" in shown.replace(" ", "") or "<script>" in shown
    assert all(ord(c) >= 0x20 or c == "\n" for c in shown)
    assert node_text(child_g) == ['"><svg onload=alert(1)>']
    check_self_contained(doc)


def test_cjk_arabic_and_emoji_titles_are_drawn_and_rtl_lines_say_so() -> None:
    root = Topic("中文标题", (Topic("مرحبا بالعالم"), Topic("שלום"), Topic("🎉 party 👩\u200d👩\u200d👧")))
    doc = parse(render_svg([root], title="t"))
    texts = {t.text: t for t in doc.iter(f"{NS}text")}
    assert set(texts) == {"中文标题", "مرحبا بالعالم", "שלום", "🎉 party 👩\u200d👩\u200d👧"}
    assert texts["مرحبا بالعالم"].get("direction") == "rtl"
    assert texts["שלום"].get("direction") == "rtl"
    assert texts["中文标题"].get("direction") is None


def test_a_2000_character_title_wraps_and_is_capped_with_its_whole_title_kept() -> None:
    title = LONG[:2000]
    doc = parse(render_svg([Topic("root", (Topic(title),))], title="t"))
    g = nodes_of(doc)[1]
    lines = node_text(g)
    assert 1 < len(lines) <= STYLES[1].max_lines and lines[-1].endswith("\u2026")
    whole = g.find(f"{NS}title")
    assert whole is not None and whole.text == title
    rect = g.find(f"{NS}rect")
    assert rect is not None and float(rect.get("width", "0")) <= STYLES[1].max_text + 40


def test_sheets_are_stacked_and_numbered_on() -> None:
    sheets = [scripts_map(), Topic("second", (Topic("a"), Topic("b")))]
    doc = parse(render_svg(sheets, title="t"))
    groups = [g for g in doc.iter(f"{NS}g") if g.get("class") == "mm-sheet"]
    assert [g.get("data-sheet") for g in groups] == ["0", "1"]
    nodes = nodes_of(doc)
    first = len(topics_in(sheets[0]))
    assert len(nodes) == first + 3
    assert nodes[first].get("data-id") == str(first) and nodes[first].get("data-parent") is None
    assert nodes[first + 1].get("data-parent") == str(first)
    shift = [float(g.get("transform", "").split()[1].rstrip(")")) for g in groups]
    assert shift[1] > shift[0]
    assert parse(render_svg([], title="empty")).get("viewBox")


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(outlines())
def test_any_outline_gives_valid_svg_with_a_node_per_topic(root: Topic) -> None:
    doc = parse(render_svg([root], title=root.title))
    assert len(nodes_of(doc)) == len(topics_in(root))
    check_self_contained(doc)


def test_big_maps_render() -> None:
    timings = []
    for count in (5000, 50_000):
        root = generated(count)
        start = time.perf_counter()
        svg = render_svg([root], title="big")
        timings.append(f"{count:,} topics: {(time.perf_counter() - start) * 1000:.0f} ms, "
                       f"{len(svg) / 1e6:.1f} MB")
        assert svg.count('class="mm-node ') == count
    print("svg timings:", "; ".join(timings))
