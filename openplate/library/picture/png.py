"""Render a map's thumbnail: the first sheet's picture as a PNG, drawn with Pillow.

The thumbnail comes from the same layout as the SVG (layout.py), scaled to fit the image and
centred. A big outline is cut first, so a thumbnail costs about the same for any map: only the
depths whose topics, counted from the root down, stay within :data:`NODE_BUDGET` are drawn (the
root and its branches always are), and a root with more than :data:`MAX_BRANCHES` branches
shows the first ones and a "+N more" topic. It is drawn at twice the size and scaled down, for
smooth curves and text. Text too small to read at the final size is drawn as a bar of its
colour, the way a map looks from afar.

Text: each line is put in visual order first (Arabic letters shaped into their joining forms
by ``arabic-reshaper``, then the bidirectional algorithm of ``python-bidi``), then drawn run by
run, each run in the first font that has its characters (fonts.py). Characters no font has are
drawn as the first font's empty box; zero-width ones (joiners, variation selectors) are dropped.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

from PIL import Image, ImageDraw

from openplate.library.model import Topic
from openplate.library.picture import fonts, palette
from openplate.library.picture.layout import LINE_HEIGHT, MapLayout, Node, layout
from openplate.library.picture.text import Line

NODE_BUDGET = 80
MAX_BRANCHES = 40
SUPERSAMPLE = 2
MAX_SCALE = 1.5
MIN_SIDE, MAX_SIDE = 16, 4096
MIN_TEXT_PX = 6.0  # below this (in final pixels) a line is drawn as a bar
MARGIN = 12
_RTL_CLASSES = frozenset({"R", "AL", "AN"})
_CURVE_STEPS = 14


def _shown_depth(root: Topic) -> int:
    """The deepest level such that the root and every level down to it fit the budget."""
    seen, depth, level = 1, 0, [root]
    while True:
        below = [child for topic in level for child in topic.children]
        if not below or (depth >= 1 and seen + len(below) > NODE_BUDGET):
            return depth
        seen += len(below)
        depth += 1
        level = below


def _trimmed(root: Topic) -> Topic:
    """The root with at most :data:`MAX_BRANCHES` branches, the rest counted in one topic."""
    if len(root.children) <= MAX_BRANCHES:
        return root
    kept = root.children[:MAX_BRANCHES - 1]
    more = Topic(f"+{len(root.children) - len(kept):,} more")
    return Topic(root.title, (*kept, more))


def _visual(text: str, rtl: bool) -> str:
    """A line in the order its glyphs are drawn, left to right, Arabic letters joined."""
    if not any(unicodedata.bidirectional(c) in _RTL_CLASSES for c in text):
        return text
    try:
        import arabic_reshaper
    except ImportError:  # pragma: no cover - a dependency; the letters stay unjoined
        shaped = text
    else:
        shaped = arabic_reshaper.reshape(text)
    try:
        # python-bidi's pure-Python algorithm mirrors brackets on right-to-left runs, which
        # its faster default (get_display at the top of the package) does not.
        from bidi.algorithm import get_display
    except ImportError:  # pragma: no cover - older or newer python-bidi
        try:
            from bidi import get_display
        except ImportError:
            return shaped
    visual: str = get_display(shaped, base_dir="R" if rtl else "L")
    return visual


def _runs(text: str) -> list[tuple[int, str]]:
    """Split text into (font index, run) pieces.

    A joiner, a variation selector or a combining mark stays in the run before it (so an emoji
    sequence reaches one font whole); one with nothing before it is dropped.
    """
    runs: list[tuple[int, str]] = []
    for char in text:
        if unicodedata.category(char) in {"Mn", "Me", "Cf"} or 0xFE00 <= ord(char) <= 0xFE0F:
            if runs:
                runs[-1] = (runs[-1][0], runs[-1][1] + char)
            continue
        index = max(fonts.face_index(char), 0)
        if runs and runs[-1][0] == index:
            runs[-1] = (index, runs[-1][1] + char)
        else:
            runs.append((index, char))
    return runs


@lru_cache(maxsize=4096)
def _pieces(text: str, rtl: bool) -> tuple[tuple[int, str], ...]:
    return tuple(_runs(_visual(text, rtl)))


def _draw_line(draw: ImageDraw.ImageDraw, line: Line, centre: float, baseline: float,
               size: int, bold: bool, ink: str) -> None:
    faces = fonts.chain()
    pieces = _pieces(line.text, line.rtl)
    placed = []
    total = 0.0
    for index, run in pieces:
        shaped = not any(unicodedata.bidirectional(c) in _RTL_CLASSES for c in run)
        font = faces[index].font(size, bold, shaped) if faces else fonts.default_font(size)
        width = font.getlength(run)
        placed.append((font, run, width))
        total += width
    x = centre - total / 2
    for font, run, width in placed:
        draw.text((x, baseline), run, font=font, fill=ink, anchor="ls")
        x += width


def _colours(node: Node) -> tuple[str, str, str]:
    if node.depth == 0:
        return palette.ROOT_FILL, palette.ROOT_FILL, palette.ROOT_TEXT
    colours = palette.branch(node.branch)
    if node.depth == 1:
        return colours.strong, colours.strong, colours.text_on_strong
    return colours.tint, colours.strong, colours.text_on_tint


def _paint(laid: MapLayout, width: int, height: int) -> Image.Image:
    big_w, big_h = width * SUPERSAMPLE, height * SUPERSAMPLE
    image = Image.new("RGB", (big_w, big_h), palette.BACKGROUND)
    draw = ImageDraw.Draw(image)
    margin = min(MARGIN, width // 8, height // 8) * SUPERSAMPLE
    scale = max(min((big_w - 2 * margin) / max(laid.width, 1.0),
                    (big_h - 2 * margin) / max(laid.height, 1.0), MAX_SCALE * SUPERSAMPLE), 1e-3)
    off_x = (big_w - laid.width * scale) / 2 - laid.left * scale
    off_y = (big_h - laid.height * scale) / 2 - laid.top * scale

    for edge in laid.edges:
        points = []
        for step in range(_CURVE_STEPS + 1):
            t = step / _CURVE_STEPS
            u = 1 - t
            x = u**3 * edge.x1 + 3 * u * u * t * edge.c1x + 3 * u * t * t * edge.c2x + t**3 * edge.x2
            y = u**3 * edge.y1 + 3 * u * u * t * edge.c1y + 3 * u * t * t * edge.c2y + t**3 * edge.y2
            points.append((x * scale + off_x, y * scale + off_y))
        stroke = max(1, round((3 if edge.depth == 1 else 1.6) * scale))
        draw.line(points, fill=palette.branch(edge.branch).strong, width=stroke, joint="curve")

    for node in laid.nodes:
        fill, outline, ink = _colours(node)
        x0, y0 = node.x * scale + off_x, node.y * scale + off_y
        x1, y1 = x0 + node.w * scale, y0 + node.h * scale
        radius = (10 if node.depth == 0 else 7 if node.depth == 1 else 5) * scale
        border = max(1, round((2 if node.depth < 2 else 1.2) * scale))
        draw.rounded_rectangle((x0, y0, x1, y1), radius=radius, fill=fill, outline=outline,
                               width=border)
        size = node.font_size * scale
        line_px = size * LINE_HEIGHT
        top = y0 + (y1 - y0 - line_px * len(node.lines)) / 2
        centre = (x0 + x1) / 2
        for number, line in enumerate(node.lines):
            middle = top + line_px * (number + 0.5)
            if size / SUPERSAMPLE < MIN_TEXT_PX:
                bar = line.width * size * 0.8 / 2
                if bar > 0:
                    draw.rectangle((centre - bar, middle - size * 0.22, centre + bar,
                                    middle + size * 0.22), fill=palette.mix(ink, fill, 0.45))
                continue
            _draw_line(draw, line, centre, middle + size * 0.35, round(size), node.bold, ink)
    return image.resize((width, height), Image.Resampling.LANCZOS)


def render_png(sheets: Sequence[Topic], *, width: int = 640, height: int = 400) -> bytes:
    """A ``width`` × ``height`` PNG thumbnail of the first sheet (a blank one if there is none).

    Raises ValueError if a side is outside 16..4096 pixels.
    """
    if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE):
        raise ValueError(f"a thumbnail side must be {MIN_SIDE} to {MAX_SIDE} pixels")
    if sheets:
        root = _trimmed(sheets[0])
        image = _paint(layout(root, max_depth=_shown_depth(root)), width, height)
    else:
        image = Image.new("RGB", (width, height), palette.BACKGROUND)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()

