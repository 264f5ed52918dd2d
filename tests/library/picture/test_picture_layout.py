"""Layout invariants (openplate/library/picture/layout.py), over random and generated outlines."""

from __future__ import annotations

import time

from hypothesis import HealthCheck, given, settings

from openplate.library.model import Topic
from openplate.library.picture import MapLayout, layout
from openplate.library.picture.layout import LEFT, RIGHT, STYLES
from tests.library.picture.maps import chain, generated, outlines, scripts_map

PROPERTY_SETTINGS = settings(max_examples=120, deadline=None,
                             suppress_health_check=[HealthCheck.too_slow])
EPSILON = 1e-6


def overlapping_pairs(laid: MapLayout) -> list[tuple[int, int]]:
    """Pairs of boxes that overlap (sweep over y, so big layouts stay cheap to check)."""
    boxes = sorted(laid.nodes, key=lambda n: n.y)
    found = []
    for index, one in enumerate(boxes):
        for other in boxes[index + 1:]:
            if other.y >= one.y + one.h - EPSILON:
                break
            if other.x < one.x + one.w - EPSILON and one.x < other.x + other.w - EPSILON:
                found.append((one.id, other.id))
    return found


def check_invariants(root: Topic, laid: MapLayout) -> None:
    nodes = laid.nodes
    assert nodes[0].parent == -1 and nodes[0].depth == 0
    assert overlapping_pairs(laid) == []
    for node in nodes:
        assert node.w > 0 and node.h > 0
        assert laid.left - EPSILON <= node.x and node.x + node.w <= laid.left + laid.width + EPSILON
        assert laid.top - EPSILON <= node.y and node.y + node.h <= laid.top + laid.height + EPSILON
        if node.parent < 0:
            continue
        parent = nodes[node.parent]
        assert node.depth == parent.depth + 1
        assert node.side in (RIGHT, LEFT)
        if parent.parent >= 0:
            assert node.side == parent.side and node.branch == parent.branch
        # Farther from the root than its parent, on its branch's side.
        if node.side == RIGHT:
            assert node.x > parent.x + parent.w
        else:
            assert node.x + node.w < parent.x
    assert len(laid.edges) == len(nodes) - 1
    for edge in laid.edges:
        child, parent = nodes[edge.child], nodes[edge.parent]
        assert child.parent == parent.id
        assert abs(edge.y1 - parent.cy) < EPSILON and abs(edge.y2 - child.cy) < EPSILON
        inner = child.x if child.side == RIGHT else child.x + child.w
        assert abs(edge.x2 - inner) < EPSILON
    # The outline's order: siblings top to bottom (first-level ones on the left bottom to top).
    for node in nodes:
        kids = [n for n in nodes if n.parent == node.id]
        if node.parent >= 0:
            assert [k.cy for k in kids] == sorted(k.cy for k in kids)
            assert node.children == len(kids)
    assert sum(1 for _ in nodes) == count_topics(root)


def count_topics(root: Topic) -> int:
    count, stack = 0, [root]
    while stack:
        topic = stack.pop()
        count += 1
        stack.extend(topic.children)
    return count


@PROPERTY_SETTINGS
@given(outlines())
def test_random_outlines_lay_out_without_overlaps(root: Topic) -> None:
    laid = layout(root)
    check_invariants(root, laid)
    assert layout(root) == laid  # deterministic


def test_the_scripts_map_and_a_generated_map_keep_the_rules() -> None:
    for root in (scripts_map(), generated(2000, seed=7)):
        check_invariants(root, layout(root))


def test_branches_go_right_then_left_clockwise_and_balanced() -> None:
    root = Topic("root", tuple(Topic(f"branch {i}") for i in range(6)))
    laid = layout(root)
    first = [n for n in laid.nodes if n.depth == 1]
    assert [n.side for n in first] == [RIGHT] * 3 + [LEFT] * 3
    right = [n.cy for n in first if n.side == RIGHT]
    left = [n.cy for n in first if n.side == LEFT]
    assert right == sorted(right)  # top to bottom on the right
    assert left == sorted(left, reverse=True)  # bottom to top on the left
    # One big branch against several small ones: the sides balance by height, not by count.
    big = Topic("big", tuple(Topic(f"leaf {i}") for i in range(12)))
    laid = layout(Topic("root", (big, *(Topic(f"small {i}") for i in range(5)))))
    sides = [n.side for n in laid.nodes if n.depth == 1]
    assert sides == [RIGHT] + [LEFT] * 5
    assert layout(Topic("root", (Topic("only"),))).nodes[1].side == RIGHT


def test_a_parent_is_centred_on_its_children() -> None:
    laid = layout(Topic("root", (Topic("parent", (Topic("a"), Topic("b"), Topic("c"))),)))
    parent, a, _b, c = laid.nodes[1:]
    assert abs(parent.cy - (a.cy + c.cy) / 2) < EPSILON


def test_boxes_grow_with_their_text_and_wrap_at_the_style_width() -> None:
    short, long = layout(Topic("root", (Topic("ab"), Topic("word " * 60)))).nodes[1:]
    assert short.w < long.w
    assert len(short.lines) == 1 and len(long.lines) == STYLES[1].max_lines
    assert long.truncated and long.lines[-1].text.endswith("\u2026")
    assert long.w <= STYLES[1].max_text + 2 * STYLES[1].pad_x + EPSILON


def test_max_depth_cuts_the_outline() -> None:
    laid = layout(chain(10), max_depth=3)
    assert max(n.depth for n in laid.nodes) == 3


def test_big_and_deep_outlines_lay_out_in_linear_time() -> None:
    timings = []
    for name, root in (("5,000 topics", generated(5000)), ("50,000 topics", generated(50_000)),
                       ("depth 200", chain(200))):
        start = time.perf_counter()
        laid = layout(root)
        timings.append(f"{name}: {(time.perf_counter() - start) * 1000:.0f} ms")
        assert len(laid.nodes) == count_topics(root)
    assert overlapping_pairs(layout(generated(5000))) == []
    print("layout timings:", "; ".join(timings))
