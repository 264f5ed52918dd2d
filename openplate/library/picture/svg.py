"""Render a map's outline as one self-contained SVG picture (every sheet, stacked).

The SVG has no script, no style sheet, no link and no entity: colours, sizes and fonts are
presentation attributes, so it looks the same as a file, in an ``<img>``, or inline in a page
whose Content-Security-Policy forbids inline styles. Titles are user text: control characters
become spaces and ``& < > "`` are escaped (text.py, :func:`_escape`).

Structure, for viewers (openplate/web/static/mapview.js uses exactly this)::

    <svg class="mindmap" viewBox=… role="img" data-topics=N>
      <title>map title</title>
      <rect class="mm-background"/>
      <g class="mm-sheet" data-sheet="0" transform="translate(0 y)">
        <g class="mm-edges"> <path class="mm-edge" data-id=child data-parent=parent …/> … </g>
        <g class="mm-nodes">
          <g class="mm-node mm-depth-D mm-branch-B mm-side-S" data-id=I data-parent=P
             data-depth=D data-children=C transform="translate(x y)">
            <title>whole title, when the box shows it cut short</title>
            <rect width=… height=…/> <text>one line</text> …
          </g> …

``data-id`` numbers the topics in pre-order across all sheets (0 is the first sheet's root);
``data-parent`` is the parent's ``data-id`` (absent on a root). A node's descendants are the
nodes after it in document order whose ``data-depth`` is greater, up to the next one whose
depth is not. Sheets after the first are drawn below it.
"""

from __future__ import annotations

from collections.abc import Sequence

from openplate.library.model import Topic
from openplate.library.picture import palette
from openplate.library.picture.layout import LINE_HEIGHT, RIGHT, MapLayout, Node, layout
from openplate.library.picture.text import SCAN_CHARS, clean

#: The site's own stack first, then fonts that cover CJK, Arabic and emoji where they exist.
FONT_FAMILY = (
    "system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans', 'DejaVu Sans', "
    "'Noto Sans CJK JP', 'Noto Sans CJK SC', 'PingFang SC', 'Hiragino Sans', 'Microsoft YaHei', "
    "'Noto Sans Arabic', 'Apple Color Emoji', 'Segoe UI Emoji', 'Noto Color Emoji', "
    "'Noto Emoji', sans-serif"
)
MARGIN = 24.0
SHEET_GAP = 72.0
TITLE_CHARS = 300
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})


def _escape(text: str) -> str:
    """Text safe in XML character data and in a double-quoted attribute."""
    return clean(text).translate(_ESCAPES)


def _num(value: float) -> str:
    text = f"{value:.1f}"
    if text.endswith(".0"):
        text = text[:-2]
    return "0" if text == "-0" else text


def _side(node: Node) -> str:
    if node.parent < 0:
        return "root"
    return "right" if node.side == RIGHT else "left"


def _node(node: Node, base: int, out: list[str]) -> None:
    colours = palette.branch(node.branch)
    if node.depth == 0:
        fill, stroke, ink = palette.ROOT_FILL, palette.ROOT_FILL, palette.ROOT_TEXT
    elif node.depth == 1:
        fill, stroke, ink = colours.strong, colours.strong, colours.text_on_strong
    else:
        fill, stroke, ink = colours.tint, colours.strong, colours.text_on_tint
    parent = f' data-parent="{base + node.parent}"' if node.parent >= 0 else ""
    weight = ' font-weight="bold"' if node.bold else ""
    out.append(
        f'<g class="mm-node mm-depth-{node.depth} mm-branch-{max(node.branch, 0)} '
        f'mm-side-{_side(node)}" data-id="{base + node.id}"{parent} data-depth="{node.depth}" '
        f'data-children="{node.children}" transform="translate({_num(node.x)} {_num(node.y)})" '
        f'font-size="{_num(node.font_size)}" fill="{ink}"{weight}>'
    )
    if node.truncated:
        out.append(f"<title>{_escape(node.title[:SCAN_CHARS])}</title>")
    radius = 10 if node.depth == 0 else 7 if node.depth == 1 else 5
    out.append(
        f'<rect width="{_num(node.w)}" height="{_num(node.h)}" rx="{radius}" fill="{fill}" '
        f'stroke="{stroke}" stroke-width="{2 if node.depth < 2 else 1.2}"/>'
    )
    line_px = node.font_size * LINE_HEIGHT
    top = (node.h - line_px * len(node.lines)) / 2
    centre = _num(node.w / 2)
    for number, line in enumerate(node.lines):
        # The baseline sits about 0.35 em below the middle of the line.
        baseline = top + line_px * (number + 0.5) + node.font_size * 0.35
        direction = ' direction="rtl"' if line.rtl else ""
        out.append(f'<text x="{centre}" y="{_num(baseline)}"{direction}>{_escape(line.text)}</text>')
    out.append("</g>")


def _sheet(laid: MapLayout, number: int, base: int, shift_y: float, out: list[str]) -> None:
    out.append(f'<g class="mm-sheet" data-sheet="{number}" transform="translate(0 {_num(shift_y)})">')
    out.append('<g class="mm-edges" fill="none" stroke-linecap="round">')
    for edge in laid.edges:
        stroke = palette.branch(edge.branch).strong
        width = 3 if edge.depth == 1 else 1.6
        path = (f"M{_num(edge.x1)} {_num(edge.y1)}C{_num(edge.c1x)} {_num(edge.c1y)} "
                f"{_num(edge.c2x)} {_num(edge.c2y)} {_num(edge.x2)} {_num(edge.y2)}")
        out.append(f'<path class="mm-edge" data-id="{base + edge.child}" '
                   f'data-parent="{base + edge.parent}" d="{path}" stroke="{stroke}" '
                   f'stroke-width="{width}"/>')
    out.append('</g><g class="mm-nodes">')
    for node in laid.nodes:
        _node(node, base, out)
    out.append("</g></g>")


def render_svg(sheets: Sequence[Topic], *, title: str) -> str:
    """The whole map as an SVG document (a string without an XML declaration).

    Every sheet is laid out (layout.py) and drawn, the first at the top and each next one below
    the one before, all centred on the same vertical axis. ``title`` names the picture (its
    ``<title>``); it is escaped like every topic title.
    """
    layouts = [layout(sheet) for sheet in sheets]
    shifts: list[float] = []
    cursor = 0.0
    for number, laid in enumerate(layouts):
        if number:
            cursor += SHEET_GAP
        shifts.append(cursor - laid.top)
        cursor += laid.height
    if layouts:
        left = min(laid.left for laid in layouts) - MARGIN
        right = max(laid.left + laid.width for laid in layouts) + MARGIN
        top, bottom = -MARGIN, cursor + MARGIN
    else:
        left, right, top, bottom = -100.0, 100.0, -50.0, 50.0
    width, height = right - left, bottom - top
    name = _escape(title[:TITLE_CHARS]) or "Mind map"
    topics = sum(len(laid.nodes) for laid in layouts)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="mindmap" '
        f'viewBox="{_num(left)} {_num(top)} {_num(width)} {_num(height)}" '
        f'width="{_num(width)}" height="{_num(height)}" role="img" data-topics="{topics}" '
        f'font-family="{FONT_FAMILY}" text-anchor="middle">',
        f"<title>Mind map: {name}</title>",
        f'<rect class="mm-background" x="{_num(left)}" y="{_num(top)}" width="{_num(width)}" '
        f'height="{_num(height)}" fill="{palette.BACKGROUND}"/>',
    ]
    base = 0
    for number, laid in enumerate(layouts):
        _sheet(laid, number, base, shifts[number], out)
        base += len(laid.nodes)
    out.append("</svg>")
    return "\n".join(out)
