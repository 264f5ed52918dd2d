"""Measure and wrap topic titles for the picture: widths in ems, lines, ellipsis, direction.

Widths are estimates made without a font: a table of the widest advance common sans-serif fonts
give each Latin, Greek, Cyrillic, Hebrew and Arabic character (metrics.py), one em for East
Asian wide and fullwidth characters, 1.3 em for emoji, nothing for combining marks and format
characters, and 0.9 em for anything else. They err on the wide side, so a box sized with them
holds its text in whichever font a browser picks.

Lines break at spaces, after hyphens and slashes, and between any two characters of a script
written without spaces (CJK); a word wider than the line is broken between characters. A
character cluster (a base and its combining marks, an emoji sequence joined by ZWJ, a flag) is
never split. Only as much of a title as fits the line cap is read, so a 2,000-character title
costs no more than a short one; what does not fit ends in an ellipsis.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from openplate.library.picture.metrics import WIDTHS

ELLIPSIS = "\u2026"
WIDE_EM = 1.0
EMOJI_EM = 1.3
OTHER_EM = 0.9
#: No title is read past this many characters (the upload limit is 2,000).
SCAN_CHARS = 4000
#: Characters that may not appear in XML 1.0 (or are noise in a title) become spaces; a
#: newline stays, as a forced line break.
_UNWANTED = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_ZWJ = 0x200D
NEWLINE = "\n"
_HYPHENS = re.compile("[-/\u2010\u2013\u2014]")
_AFTER_HYPHEN = re.compile("(?<=[-/\u2010\u2013\u2014])")
_STRONG_RTL = {"R", "AL"}


@dataclass(frozen=True, slots=True)
class Line:
    """One line of a wrapped title: its text (logical order), width in ems, direction."""

    text: str
    width: float
    rtl: bool


def _is_emoji(code: int) -> bool:
    return (0x1F000 <= code <= 0x1FAFF or 0x2600 <= code <= 0x27BF or 0x2B00 <= code <= 0x2BFF
            or 0x1FC00 <= code <= 0x1FFFF)


@lru_cache(maxsize=65536)
def char_em(char: str) -> float:
    """Estimated advance of one character, in ems."""
    code = ord(char)
    known = WIDTHS.get(code)
    if known is not None:
        return known / 1000
    if unicodedata.category(char) in {"Mn", "Me", "Cf"} or 0xFE00 <= code <= 0xFE0F:
        return 0.0
    if 0xD800 <= code <= 0xDFFF:
        return 0.0
    if _is_emoji(code):
        return EMOJI_EM
    if unicodedata.east_asian_width(char) in {"W", "F"}:
        return WIDE_EM
    base = unicodedata.normalize("NFD", char)[:1]
    if base != char and ord(base) in WIDTHS:
        return WIDTHS[ord(base)] / 1000
    return OTHER_EM


@lru_cache(maxsize=65536)
def _breaks_around(char: str) -> bool:
    """Whether a line may break before and after ``char`` (scripts written without spaces)."""
    code = ord(char)
    if unicodedata.east_asian_width(char) in {"W", "F"}:
        return not (0xFF01 <= code <= 0xFF5E and char.isalnum())
    return 0x0E00 <= code <= 0x0EFF or 0x1000 <= code <= 0x109F or 0x1780 <= code <= 0x17FF


def clean(title: str) -> str:
    """A title with control characters, surrogates and non-characters turned into spaces."""
    return _UNWANTED.sub(" ", title)


@lru_cache(maxsize=65536)
def _attaches(char: str) -> bool:
    """Whether ``char`` may belong to the cluster before it (marks, joiners, selectors)."""
    code = ord(char)
    return (code == _ZWJ or 0xFE00 <= code <= 0xFE0F or 0x1F3FB <= code <= 0x1F3FF
            or 0xE0020 <= code <= 0xE007F or 0x1F1E6 <= code <= 0x1F1FF
            or unicodedata.category(char) in {"Mn", "Me", "Mc"})


def _joins(prev: str, char: str) -> bool:
    """Whether ``char`` belongs to the cluster ending in ``prev``."""
    code = ord(char)
    if code == _ZWJ or ord(prev) == _ZWJ:
        return True
    if 0x1F1E6 <= code <= 0x1F1FF:
        return 0x1F1E6 <= ord(prev) <= 0x1F1FF
    return _attaches(char)


def clusters(text: str) -> list[str]:
    """Split text into clusters that a line break must never cut."""
    if not any(map(_attaches, text)):
        return list(text)
    found: list[str] = []
    start = 0
    pairs = 0  # regional indicators already paired in this cluster
    for index in range(1, len(text)):
        char, prev = text[index], text[index - 1]
        if _joins(prev, char) and not (0x1F1E6 <= ord(char) <= 0x1F1FF and pairs):
            if 0x1F1E6 <= ord(char) <= 0x1F1FF:
                pairs += 1
            continue
        found.append(text[start:index])
        start, pairs = index, 0
    if start < len(text):
        found.append(text[start:])
    return found


def cluster_em(cluster: str) -> float:
    """Width of a cluster: the widest of its characters (a ZWJ sequence draws as one glyph)."""
    if len(cluster) == 1:
        return char_em(cluster)
    if any(_is_emoji(ord(c)) for c in cluster):
        return EMOJI_EM
    return sum(char_em(c) for c in cluster)


def text_em(text: str) -> float:
    """Estimated width of a run of text, in ems."""
    if not any(map(_attaches, text)):
        return sum(map(char_em, text))
    return sum(map(cluster_em, clusters(text)))


def is_rtl(text: str) -> bool:
    """Whether the first strong character is right-to-left (the paragraph rule of the UBA)."""
    for char in text:
        kind = _bidi(char)
        if kind in _STRONG_RTL:
            return True
        if kind == "L":
            return False
    return False


@lru_cache(maxsize=65536)
def _bidi(char: str) -> str:
    return unicodedata.bidirectional(char)


@lru_cache(maxsize=65536)
def _complex(char: str) -> bool:
    return _attaches(char) or _breaks_around(char)


def _simple_tokens(text: str) -> Iterator[tuple[str, float, bool]]:
    """:func:`_tokens` for text where every character is a cluster and breaks only at spaces
    and hyphens (most titles): split by words rather than character by character."""
    for number, paragraph in enumerate(text.split(NEWLINE)):
        if number:
            yield NEWLINE, 0.0, False
        words = paragraph.split(" ")
        for index, word in enumerate(words):
            pieces = _AFTER_HYPHEN.split(word) if _HYPHENS.search(word) else [word]
            for place, piece in enumerate(pieces):
                spaced = place == len(pieces) - 1 and index < len(words) - 1
                if spaced:
                    piece += " "
                if piece:
                    yield piece, sum(map(char_em, piece)), spaced


@lru_cache(maxsize=65536)
def _cluster_info(cluster: str) -> tuple[float, bool, bool]:
    """(width in ems, breaks before and after it, a line may break after it)."""
    around = _breaks_around(cluster[0])
    return cluster_em(cluster), around, around or _HYPHENS.fullmatch(cluster) is not None


def _tokens(text: str) -> Iterator[tuple[str, float, bool]]:
    """Pieces between break opportunities: (text, width in ems, ends with a space)."""
    if not any(map(_complex, text)):
        yield from _simple_tokens(text)
        return
    piece: list[str] = []
    width = 0.0
    for cluster in clusters(text):
        if cluster == NEWLINE:
            if piece:
                yield "".join(piece), width, False
                piece, width = [], 0.0
            yield NEWLINE, 0.0, False
            continue
        if cluster == " ":
            piece.append(" ")
            yield "".join(piece), width + _SPACE_EM, True
            piece, width = [], 0.0
            continue
        em, around, after = _cluster_info(cluster)
        if around and piece:
            yield "".join(piece), width, False
            piece, width = [], 0.0
        if after:
            yield "".join(piece) + cluster, width + em, False
            piece, width = [], 0.0
        else:
            piece.append(cluster)
            width += em
    if piece:
        yield "".join(piece), width, False


_SPACE_EM = char_em(" ")


def _finish(text: str) -> Line:
    text = text.rstrip(" ")
    return Line(text, text_em(text), is_rtl(text))


def _with_ellipsis(text: str, limit: float) -> Line:
    """The line cut so that it and an ellipsis fit ``limit`` ems."""
    room = limit - char_em(ELLIPSIS)
    kept: list[str] = []
    width = 0.0
    for cluster in clusters(text.rstrip(" ")):
        step = cluster_em(cluster)
        if width + step > room:
            break
        kept.append(cluster)
        width += step
    return _finish("".join(kept).rstrip(" ") + ELLIPSIS)


def _normalise(title: str) -> str:
    """Control characters out, runs of spaces as one, at most :data:`SCAN_CHARS` read."""
    parts = clean(title[:SCAN_CHARS]).split("\n")
    return "\n".join(filter(None, (" ".join(part.split()) for part in parts)))


def wrap(title: str, max_em: float, max_lines: int) -> tuple[tuple[Line, ...], bool]:
    """Wrap ``title`` to lines at most ``max_em`` wide; at most ``max_lines`` of them.

    Returns the lines and whether the title was cut short (the last line then ends in "…").
    An empty title gives one empty line.
    """
    text = _normalise(title)
    if NEWLINE not in text and len(title) <= SCAN_CHARS:
        # Most titles fit on one line: measure them whole.
        whole = text_em(text)
        if whole <= max_em:
            return (Line(text, whole, is_rtl(text)),), False
    space = char_em(" ")
    lines: list[str] = []
    current: list[str] = []
    width = 0.0

    def push() -> None:
        nonlocal current, width
        lines.append("".join(current))
        current, width = [], 0.0

    for token, token_em, spaced in _tokens(text):
        if len(lines) > max_lines:
            break
        visible = token_em - (space if spaced else 0.0)
        if token == NEWLINE:
            push()
        elif width + visible <= max_em:
            current.append(token)
            width += token_em
        elif visible <= max_em:
            if current:
                push()
            current.append(token)
            width = token_em
        else:
            # A word wider than a whole line: break it between clusters.
            for cluster in clusters(token):
                step = cluster_em(cluster)
                if current and width + step > max_em and cluster != " ":
                    push()
                    if len(lines) > max_lines:
                        break
                current.append(cluster)
                width += step
    if current and len(lines) <= max_lines:
        push()
    cut = len(lines) > max_lines or len(title) > SCAN_CHARS
    if not cut:
        return tuple(_finish(line) for line in lines) or (Line("", 0.0, False),), False
    kept = [_finish(line) for line in lines[:max_lines - 1]]
    kept.append(_with_ellipsis(lines[min(max_lines, len(lines)) - 1], max_em))
    return tuple(kept), True
