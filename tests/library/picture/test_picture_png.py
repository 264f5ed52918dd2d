"""The PNG thumbnail (openplate/library/picture/png.py) and its fonts (fonts.py)."""

from __future__ import annotations

import io
import time
import unicodedata
from pathlib import Path

import pytest
from PIL import Image

from openplate.library.model import Topic
from openplate.library.picture import fonts, render_png
from openplate.library.picture.png import MAX_BRANCHES, _shown_depth, _trimmed, _visual
from tests.library.picture.maps import chain, generated, scripts_map


def image_of(data: bytes) -> Image.Image:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(data))
    image.load()
    assert image.format == "PNG"
    return image


def ink(image: Image.Image, box: tuple[int, int, int, int] | None = None) -> int:
    """How many pixels differ from the white background."""
    part = image.convert("L").crop(box) if box else image.convert("L")
    return sum(count for value, count in enumerate(part.histogram()) if value < 245)


def test_a_thumbnail_is_a_png_of_the_requested_size_and_not_blank() -> None:
    for width, height in ((640, 400), (200, 200), (1200, 630), (16, 16)):
        image = image_of(render_png([scripts_map()], width=width, height=height))
        assert image.size == (width, height)
        assert ink(image) > width * height // 50
    image = image_of(render_png([scripts_map()]))
    # Branches on both sides of the root.
    assert ink(image, (0, 0, 200, 400)) > 500 and ink(image, (440, 0, 640, 400)) > 500


def test_titles_in_every_script_are_drawn() -> None:
    for title in ("中文标题 日本語", "مرحبا بالعالم", "שלום עולם", "🎉🚀❤️ 👩\u200d👩\u200d👧", "x" * 2000):
        image = image_of(render_png([Topic(title)], width=400, height=200))
        assert ink(image) > 2000, title


def test_each_script_has_a_font_that_covers_it() -> None:
    faces = fonts.chain()
    names = [face.path.rsplit("/", 1)[-1] for face in faces]
    assert names[0].startswith("NotoSans"), names
    for char, font in (("A", "NotoSans["), ("長", "NotoSansCJK"), ("한", "NotoSansCJK"),
                       ("ش", "NotoSansArabic"), ("\ufefb", "NotoSansArabic"),
                       ("ש", "NotoSansHebrew"), ("🙂", "NotoEmoji"), ("क", "NotoSansDevanagari")):
        index = fonts.face_index(char)
        assert index >= 0 and names[index].startswith(font), (char, names[index])
    assert fonts.face_index("\U000F0000") == -1  # private use: no font, yet it draws


def test_arabic_is_joined_and_put_in_visual_order() -> None:
    visual = _visual("سلام", True)
    # Joining forms (and the lam-alef ligature), none of the plain letters.
    assert all(unicodedata.name(c).startswith("ARABIC ") for c in visual)
    assert all(0xFE70 <= ord(c) <= 0xFEFF for c in visual)
    # Drawn left to right, so the last letter (meem) comes first.
    assert unicodedata.name(visual[0]).startswith("ARABIC LETTER MEEM")
    assert _visual("plain text", False) == "plain text"
    assert _visual("abc שלום", False) == "abc םולש"
    # Brackets on a right-to-left run are mirrored, so they still open towards their text.
    assert _visual("(שלום)", True) == "(םולש)"


def test_huge_maps_draw_only_the_first_levels() -> None:
    wide = Topic("root", tuple(Topic(f"branch {i}") for i in range(5000)))
    trimmed = _trimmed(wide)
    assert len(trimmed.children) == MAX_BRANCHES
    assert trimmed.children[-1].title == f"+{5000 - MAX_BRANCHES + 1:,} more"
    assert _shown_depth(chain(200)) >= 10
    assert _shown_depth(generated(5000)) < 20
    timings = []
    for name, root in (("5,000 topics", generated(5000)), ("50,000 topics", generated(50_000)),
                       ("5,000 branches", wide), ("depth 200", chain(200))):
        start = time.perf_counter()
        image = image_of(render_png([root]))
        timings.append(f"{name}: {(time.perf_counter() - start) * 1000:.0f} ms")
        assert image.size == (640, 400) and ink(image) > 1000
    print("png timings:", "; ".join(timings))


def test_no_sheet_gives_a_blank_thumbnail_and_bad_sizes_are_refused() -> None:
    image = image_of(render_png([], width=100, height=50))
    assert image.size == (100, 50) and ink(image) == 0
    for width, height in ((0, 100), (100, 5000), (-1, -1)):
        with pytest.raises(ValueError, match="16 to 4096"):
            render_png([Topic("x")], width=width, height=height)


def test_an_unreadable_font_falls_back_instead_of_failing(tmp_path: Path) -> None:
    junk = tmp_path / "junk.ttf"
    junk.write_bytes(b"not a font at all" * 10)
    assert fonts.read_coverage(str(junk)) == frozenset()
    assert fonts.read_coverage(str(tmp_path / "missing.ttf")) == frozenset()
    face = fonts.FontFace(str(junk), 0)
    font = face.font(14)
    assert font.getlength("Hello") > 0  # Pillow's own font stands in
