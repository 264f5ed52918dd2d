"""Fonts for the PNG thumbnail: which files, which characters each covers, loaded once.

The fonts come from two data-only PyPI packages (SIL Open Font License), so a fresh machine
has them after ``pip install`` alone: ``manimgx-fonts`` (Noto Sans for Latin, Greek and
Cyrillic, Noto Sans Arabic and Hebrew, most other scripts, Noto Sans Symbols and the monochrome
Noto Emoji) and ``noto-cjk-sans-otc`` (Noto Sans CJK). A missing package or file is skipped, and
a system DejaVu Sans or, last of all, Pillow's own default font stands in: text never fails to
draw, it only loses glyphs (drawn as the font's empty box).

Pillow draws one font at a time, so a line is split into runs, each in the first font of
:data:`CHAIN` whose ``cmap`` maps the character. The ``cmap`` is read here (formats 4 and 12,
the ones these fonts use) rather than by adding fontTools.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path

from PIL import ImageFont, features

#: (package, file, face index in a collection), in fallback order.
CHAIN: tuple[tuple[str, str, int], ...] = (
    ("manimgx_fonts", "NotoSans[wght].ttf", 0),
    ("manimgx_fonts", "NotoSansArabic[wght].ttf", 0),
    ("manimgx_fonts", "NotoSansHebrew[wght].ttf", 0),
    ("noto_cjk_sans_otc", "NotoSansCJK-Regular.ttc", 0),
    ("manimgx_fonts", "NotoSansSymbols[wght].ttf", 0),
    ("manimgx_fonts", "NotoEmoji[wght].ttf", 0),
    ("manimgx_fonts", "NotoSansDevanagari[wght].ttf", 0),
    ("manimgx_fonts", "NotoSansBengali[wght].ttf", 0),
    ("manimgx_fonts", "NotoSansThai[wght].ttf", 0),
    ("manimgx_fonts", "NotoSansTamil[wght].ttf", 0),
    ("manimgx_fonts", "NotoSansTelugu[wght].ttf", 0),
    ("manimgx_fonts", "NotoSansKannada[wght].ttf", 0),
    ("manimgx_fonts", "NotoSansMalayalam[wght].ttf", 0),
    ("manimgx_fonts", "NotoSansGujarati[wght].ttf", 0),
    ("manimgx_fonts", "NotoSansGurmukhi[wght].ttf", 0),
    ("manimgx_fonts", "NotoSansOriya[wght].ttf", 0),
    ("manimgx_fonts", "NotoSansSinhala[wght].ttf", 0),
    ("manimgx_fonts", "NotoSansKhmer[wght].ttf", 0),
    ("manimgx_fonts", "NotoSansLao[wght].ttf", 0),
    ("manimgx_fonts", "NotoSansMyanmar[wght].ttf", 0),
    ("manimgx_fonts", "NotoSansGeorgian[wght].ttf", 0),
    ("manimgx_fonts", "NotoSansArmenian[wght].ttf", 0),
    ("manimgx_fonts", "NotoSansEthiopic[wght].ttf", 0),
)
#: Whether this Pillow can shape text with libraqm (it needs the system's FriBiDi).
HAS_RAQM = bool(features.check_feature("raqm"))
#: Used only when none of the packaged fonts is there (a trimmed install).
SYSTEM_FALLBACKS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
)


@dataclass(frozen=True)
class FontFace:
    """One font file of the chain (a face of it, for a collection)."""

    path: str
    index: int

    @property
    def coverage(self) -> frozenset[int]:
        """The code points its ``cmap`` maps, read the first time a character reaches it."""
        return _coverage(self.path, self.index)

    def font(self, size: int, bold: bool = False,
             shaped: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
        """The font at ``size`` px; ``shaped`` asks for HarfBuzz shaping where Pillow has it."""
        return _load(self.path, self.index, size, bold, shaped and HAS_RAQM)


def _package_file(package: str, name: str) -> str | None:
    try:
        found = resources.files(package).joinpath(name)
    except (ModuleNotFoundError, TypeError, ValueError):
        return None
    path = Path(str(found))
    return str(path) if path.is_file() else None


def _u16(data: bytes, at: int) -> int:
    value: int = struct.unpack_from(">H", data, at)[0]
    return value


def _u32(data: bytes, at: int) -> int:
    value: int = struct.unpack_from(">I", data, at)[0]
    return value


def _cmap_bytes(path: str, index: int) -> bytes | None:
    """The ``cmap`` table of face ``index`` (of a collection or a single font), read alone."""
    with open(path, "rb") as file:
        head = file.read(12)
        base = 0
        if head[:4] == b"ttcf":
            if index >= _u32(head, 8):
                return None
            file.seek(12 + 4 * index)
            base = _u32(file.read(4), 0)
            file.seek(base)
            head = file.read(12)
        count = _u16(head, 4)
        directory = file.read(16 * count)
        for entry in range(count):
            at = 16 * entry
            if directory[at:at + 4] == b"cmap":
                file.seek(_u32(directory, at + 8))
                return file.read(_u32(directory, at + 12))
    return None


def _format4(data: bytes, at: int) -> set[int]:
    segments = _u16(data, at + 6) // 2
    ends, starts = at + 14, at + 16 + 2 * segments
    deltas, offsets = starts + 2 * segments, starts + 4 * segments
    found: set[int] = set()
    for seg in range(segments):
        start, end = _u16(data, starts + 2 * seg), _u16(data, ends + 2 * seg)
        delta, offset = _u16(data, deltas + 2 * seg), _u16(data, offsets + 2 * seg)
        if start == 0xFFFF:
            continue
        for code in range(start, end + 1):
            if offset == 0:
                glyph = (code + delta) & 0xFFFF
            else:
                where = offsets + 2 * seg + offset + 2 * (code - start)
                glyph = _u16(data, where)
                glyph = (glyph + delta) & 0xFFFF if glyph else 0
            if glyph:
                found.add(code)
    return found


def _format12(data: bytes, at: int) -> set[int]:
    found: set[int] = set()
    for group in range(_u32(data, at + 12)):
        start, end = _u32(data, at + 16 + 12 * group), _u32(data, at + 20 + 12 * group)
        found.update(range(start, min(end, 0x10FFFF) + 1))
    return found


def read_coverage(path: str, index: int = 0) -> frozenset[int]:
    """The code points the ``cmap`` of a font maps to a glyph; empty if it cannot be read."""
    try:
        data = _cmap_bytes(path, index)
        if data is None:
            return frozenset()
        cmap = 0
        best: tuple[int, int] | None = None  # (preference, subtable offset)
        for entry in range(_u16(data, cmap + 2)):
            at = cmap + 4 + 8 * entry
            platform, encoding = _u16(data, at), _u16(data, at + 2)
            sub = cmap + _u32(data, at + 4)
            kind = _u16(data, sub)
            if kind == 12 and (platform, encoding) in {(3, 10), (0, 4), (0, 6)}:
                rank = 0
            elif kind == 4 and (platform, encoding) in {(3, 1), (0, 3), (0, 4)}:
                rank = 1
            else:
                continue
            if best is None or rank < best[0]:
                best = (rank, sub)
        if best is None:
            return frozenset()
        sub = best[1]
        return frozenset(_format12(data, sub) if _u16(data, sub) == 12 else _format4(data, sub))
    except (OSError, struct.error, IndexError):
        return frozenset()


@lru_cache(maxsize=65536)
def face_index(char: str) -> int:
    """Index in :func:`chain` of the first font that has ``char``; -1 when none has it.

    A font's character map is read only when a character gets past the fonts before it, so
    a Latin-only thumbnail never reads the 19 MB CJK collection's map."""
    code = ord(char)
    for position, face in enumerate(chain()):
        if code in face.coverage:
            return position
    return -1


@cache
def chain() -> tuple[FontFace, ...]:
    """The fonts found on this machine, in fallback order (read once per process)."""
    faces: list[FontFace] = []
    for package, name, index in CHAIN:
        path = _package_file(package, name)
        if path is not None:
            faces.append(FontFace(path, index))
    if not faces:
        found = next((path for path in SYSTEM_FALLBACKS if Path(path).is_file()), None)
        if found is not None:
            faces.append(FontFace(found, 0))
    return tuple(faces)


@lru_cache(maxsize=64)
def _coverage(path: str, index: int) -> frozenset[int]:
    return read_coverage(path, index)


@lru_cache(maxsize=512)
def _load(path: str, index: int, size: int, bold: bool,
          shaped: bool) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    # Runs reach Pillow already in visual order (png.py). A run with right-to-left letters is
    # drawn with the BASIC layout (reshaped Arabic needs no more); others may be shaped by
    # libraqm (emoji sequences, flags, Indic scripts) when Pillow has it.
    engine = ImageFont.Layout.RAQM if shaped else ImageFont.Layout.BASIC
    try:
        font = ImageFont.truetype(path, size, index=index, layout_engine=engine)
    except OSError:
        return default_font(size)
    if bold:
        try:
            font.set_variation_by_axes([
                min(700, axis.get("maximum") or 700) if axis.get("name") == b"Weight"
                else axis.get("default") or 0 for axis in font.get_variation_axes()])
        except (OSError, KeyError, TypeError, ValueError):
            pass  # not a variable font: its one weight will do
    return font


@cache
def default_font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's own font (Latin only): the last resort when no font file could be read."""
    return ImageFont.load_default(size)
