"""Colours of the picture: one per first-level branch, every text on its box at WCAG AA.

The root is the site's ink colour with white text. A first-level topic is filled with its
branch colour, with white text; deeper topics have a pale tint of it with the ink colour for
text and the branch colour for the border and the edges. Each branch colour is dark enough for
white text at 4.5:1 or more (tests/library/picture/test_picture_palette.py checks every pair).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

INK = "#1d2430"
WHITE = "#ffffff"
BACKGROUND = "#ffffff"
ROOT_FILL = INK
ROOT_TEXT = WHITE

#: Branch colours, in order of the first-level topics (they repeat after the last).
BRANCHES = (
    "#2557d6",  # blue (the site's accent)
    "#b42318",  # red
    "#0f766e",  # teal
    "#7c3aed",  # violet
    "#a04d00",  # amber
    "#2f7d32",  # green
    "#be185d",  # pink
    "#0e7490",  # cyan
    "#6d4c41",  # brown
    "#4338ca",  # indigo
)
TINT = 0.9  # how far a deep topic's fill is mixed towards white


@dataclass(frozen=True)
class BranchColours:
    """The colours one branch is drawn in."""

    strong: str  # first-level fill, borders, edges
    text_on_strong: str
    tint: str  # fill of deeper topics
    text_on_tint: str


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def mix(colour: str, other: str, amount: float) -> str:
    """``colour`` moved ``amount`` (0..1) of the way towards ``other``."""
    a, b = _rgb(colour), _rgb(other)
    return "#" + "".join(f"{round(x + (y - x) * amount):02x}" for x, y in zip(a, b, strict=True))


def luminance(colour: str) -> float:
    """Relative luminance (WCAG 2)."""
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = _rgb(colour)
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(one: str, two: str) -> float:
    """WCAG 2 contrast ratio of two colours, 1 to 21."""
    high, low = sorted((luminance(one), luminance(two)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@lru_cache(maxsize=64)
def branch(index: int) -> BranchColours:
    """Colours of first-level branch ``index`` (any integer; -1 is the root's)."""
    if index < 0:
        return BranchColours(ROOT_FILL, ROOT_TEXT, mix(ROOT_FILL, WHITE, TINT), INK)
    strong = BRANCHES[index % len(BRANCHES)]  # cached per index modulo the palette below
    return BranchColours(strong, WHITE, mix(strong, WHITE, TINT), INK)
