"""Mind-map layout of one outline: root in the middle, branches right and left, tidy subtrees.

The rules (docs/mindmap-pictures.md tells them at more length):

- The root sits at (0, 0). Its children, the first-level branches, are split into a run that
  goes on the right (the first ones) and a run on the left (the rest), at the point that makes
  the two sides' heights closest; reading them clockwise from the top right gives the outline's
  order, so the left side lists its branches bottom to top.
- Each subtree grows away from the root: a child's box starts a fixed gap beyond its parent's
  box (to the right on the right side, to the left on the left side).
- Each subtree owns a horizontal band as tall as its box or as its children's bands stacked
  with a gap, whichever is taller; sibling bands never share a height, so no two boxes overlap.
  A parent is centred between its first and last child, kept inside its own band.
- A box is as big as its wrapped title plus padding; titles wrap at a width and a line count
  that shrink with depth (text.py).
- An edge is a cubic Bézier curve from the middle of the parent's outer side to the middle of
  the child's inner side, leaving and arriving horizontally.

Every pass is a loop over arrays in pre-order (never recursion), so depth only costs memory,
and the whole layout is linear in the number of topics.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from openplate.library.model import Topic
from openplate.library.picture.metrics import BOLD_RATIO
from openplate.library.picture.text import Line, wrap

RIGHT = 1
LEFT = -1
CENTRE = 0


@dataclass(frozen=True, slots=True)
class Style:
    """Sizes (in px) for the topics at one depth."""

    font_size: float
    max_text: float
    max_lines: int
    pad_x: float
    pad_y: float
    gap_out: float  # from a box of this depth to its children's boxes
    gap_between: float  # between the bands of siblings at this depth
    bold: bool = False


#: Depth 0 (the root), 1 (the branches) and 2 and deeper.
STYLES = (
    Style(20, 220, 4, 18, 11, 56, 0, bold=True),
    Style(15, 200, 3, 13, 8, 36, 18),
    Style(13, 180, 3, 9, 5, 26, 7),
)
LINE_HEIGHT = 1.3  # in ems


def style_for(depth: int) -> Style:
    return STYLES[min(depth, len(STYLES) - 1)]


@dataclass(frozen=True, slots=True)
class Node:
    """One topic's box: ``x``/``y`` its top-left corner, ``w``/``h`` its size (px)."""

    id: int  # pre-order index in the outline, 0 for the root
    parent: int  # -1 for the root
    depth: int
    side: int  # RIGHT, LEFT, or CENTRE for the root
    branch: int  # which first-level branch it belongs to (0 for the first), -1 for the root
    x: float
    y: float
    w: float
    h: float
    lines: tuple[Line, ...]
    font_size: float
    bold: bool
    children: int  # how many children it has
    title: str  # the whole title (the lines may end in an ellipsis)
    truncated: bool  # the lines do not show the whole title

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2


@dataclass(frozen=True, slots=True)
class Edge:
    """A cubic Bézier curve from a parent's box to a child's: start, two controls, end."""

    parent: int
    child: int
    branch: int
    depth: int  # the child's depth
    x1: float
    y1: float
    c1x: float
    c1y: float
    c2x: float
    c2y: float
    x2: float
    y2: float


@dataclass(frozen=True, slots=True)
class MapLayout:
    """A laid-out outline and the rectangle (left, top, width, height) that holds every box."""

    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    left: float
    top: float
    width: float
    height: float
    branches: int  # how many first-level branches


def _flatten(root: Topic, max_depth: int | None) -> tuple[list[Topic], list[int], list[int]]:
    """Pre-order topics with each one's parent index and depth, without recursion."""
    topics: list[Topic] = []
    parents: list[int] = []
    depths: list[int] = []
    stack: list[tuple[Topic, int, int]] = [(root, -1, 0)]
    while stack:
        topic, parent, depth = stack.pop()
        index = len(topics)
        topics.append(topic)
        parents.append(parent)
        depths.append(depth)
        if max_depth is None or depth < max_depth:
            stack.extend((child, index, depth + 1) for child in reversed(topic.children))
    return topics, parents, depths


def _split(heights: Sequence[float], gap: float) -> int:
    """How many of the first-level bands go on the right: the split with the closest sides."""
    total = sum(heights) + gap * max(len(heights) - 1, 0)
    best, best_diff, right = len(heights), float("inf"), 0.0
    for count in range(1, len(heights) + 1):
        right += heights[count - 1] + (gap if count > 1 else 0.0)
        left = total - right - (gap if count < len(heights) else 0.0)
        diff = abs(right - left)
        if diff <= best_diff + 1e-9:  # a tie puts more on the right
            best, best_diff = count, diff
    return best


def layout(root: Topic, *, max_depth: int | None = None) -> MapLayout:
    """Lay out the outline under ``root``; topics deeper than ``max_depth`` are left out."""
    topics, parents, depths = _flatten(root, max_depth)
    count = len(topics)
    kids: list[list[int]] = [[] for _ in range(count)]
    for index in range(1, count):
        kids[parents[index]].append(index)

    styles = [STYLES[min(depth, len(STYLES) - 1)] for depth in depths]
    # Boxes sized to their wrapped titles.
    widths = [0.0] * count
    heights = [0.0] * count
    wrapped: list[tuple[tuple[Line, ...], bool]] = []
    for index, topic in enumerate(topics):
        style = styles[index]
        scale = style.font_size * (BOLD_RATIO if style.bold else 1.0)
        lines, cut = wrap(topic.title, style.max_text / scale, style.max_lines)
        wrapped.append((lines, cut))
        text_w = max(line.width for line in lines) * scale
        widths[index] = max(text_w, style.font_size) + 2 * style.pad_x
        heights[index] = len(lines) * style.font_size * LINE_HEIGHT + 2 * style.pad_y

    # Bottom-up (reverse pre-order): each band's height and where the box sits in it.
    band = [0.0] * count
    offset = [0.0] * count  # box centre, measured from the band's top
    for index in range(count - 1, -1, -1):
        children = kids[index]
        height = heights[index]
        if not children or index == 0:
            band[index], offset[index] = height, height / 2
            continue
        gap = styles[children[0]].gap_between
        stacked = sum(band[c] for c in children) + gap * (len(children) - 1)
        total = max(height, stacked)
        start = (total - stacked) / 2
        first = start + offset[children[0]]
        last = start + stacked - band[children[-1]] + offset[children[-1]]
        centre = min(max((first + last) / 2, height / 2), total - height / 2)
        band[index], offset[index] = total, centre

    # Sides: the first branches on the right, the rest on the left (listed bottom to top).
    first_level = kids[0]
    gap1 = style_for(1).gap_between
    on_right = _split([band[c] for c in first_level], gap1) if first_level else 0
    side = [CENTRE] * count
    branch = [-1] * count
    for position, child in enumerate(first_level):
        side[child] = RIGHT if position < on_right else LEFT
        branch[child] = position

    # Top-down (pre-order): band tops, then boxes.
    xs = [0.0] * count
    ys = [0.0] * count
    top = [0.0] * count
    xs[0], ys[0] = -widths[0] / 2, -heights[0] / 2
    right_run = first_level[:on_right]
    left_run = list(reversed(first_level[on_right:]))
    for run in (right_run, left_run):
        stacked = sum(band[c] for c in run) + gap1 * max(len(run) - 1, 0)
        cursor = -stacked / 2
        for child in run:
            top[child] = cursor
            cursor += band[child] + gap1
    for index in range(1, count):
        parent = parents[index]
        if parent != 0:
            side[index] = side[parent]
            branch[index] = branch[parent]
        gap_out = styles[parent].gap_out
        if side[index] == RIGHT:
            xs[index] = xs[parent] + widths[parent] + gap_out
        else:
            xs[index] = xs[parent] - gap_out - widths[index]
        ys[index] = top[index] + offset[index] - heights[index] / 2
        children = kids[index]
        if children:
            gap = styles[children[0]].gap_between
            stacked = sum(band[c] for c in children) + gap * (len(children) - 1)
            cursor = top[index] + (band[index] - stacked) / 2
            for child in children:
                top[child] = cursor
                cursor += band[child] + gap

    nodes = tuple(
        Node(
            id=index, parent=parents[index], depth=depths[index], side=side[index],
            branch=branch[index], x=xs[index], y=ys[index], w=widths[index], h=heights[index],
            lines=wrapped[index][0], font_size=styles[index].font_size,
            bold=styles[index].bold, children=len(kids[index]),
            title=topics[index].title, truncated=wrapped[index][1],
        )
        for index in range(count)
    )
    edges = tuple(_edge(nodes[parents[index]], nodes[index]) for index in range(1, count))
    left = min(node.x for node in nodes)
    top_edge = min(node.y for node in nodes)
    right = max(node.x + node.w for node in nodes)
    bottom = max(node.y + node.h for node in nodes)
    return MapLayout(nodes, edges, left, top_edge, right - left, bottom - top_edge,
                     len(first_level))


def _edge(parent: Node, child: Node) -> Edge:
    if child.side == RIGHT:
        x1, x2 = parent.x + parent.w, child.x
    else:
        x1, x2 = parent.x, child.x + child.w
    if parent.parent < 0:
        # From the root, start a little inside its box so the curve leaves from its rim.
        x1 += -parent.h / 4 if child.side == RIGHT else parent.h / 4
    y1, y2 = parent.y + parent.h / 2, child.y + child.h / 2
    middle = (x1 + x2) / 2
    return Edge(parent.id, child.id, child.branch, child.depth,
                x1, y1, middle, y1, middle, y2, x2, y2)
