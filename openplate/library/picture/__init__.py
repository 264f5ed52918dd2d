"""Pictures of mind maps: a mind-map layout of an outline, drawn as SVG and as a PNG thumbnail.

``render_svg(sheets, title=...)`` gives the picture for the map page and the SVG export;
``render_png(sheets, width=..., height=...)`` the thumbnail of a map that brought none;
``layout(root)`` the boxes and curves both are drawn from. See docs/mindmap-pictures.md.
"""

from __future__ import annotations

from openplate.library.picture.layout import Edge, MapLayout, Node, layout
from openplate.library.picture.png import render_png
from openplate.library.picture.svg import render_svg
from openplate.library.picture.text import Line

__all__ = ["Edge", "Line", "MapLayout", "Node", "layout", "render_png", "render_svg"]
