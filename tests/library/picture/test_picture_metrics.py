"""The width table (metrics.py) is never narrower than the fonts it was made from."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import ImageFont

from openplate.library.picture import fonts
from openplate.library.picture.metrics import BOLD_RATIO, WIDTHS
from openplate.library.picture.text import char_em
from tests.library.picture.make_metrics import PACKAGED, SYSTEM


def measured() -> list[tuple[str, ImageFont.FreeTypeFont, frozenset[int]]]:
    found = []
    for path in SYSTEM["regular"]:
        if Path(path).is_file():
            found.append((path, ImageFont.truetype(path, 1000), fonts.read_coverage(path)))
    for face in fonts.chain():
        if Path(face.path).name in PACKAGED:
            found.append((face.path, ImageFont.truetype(face.path, 1000), face.coverage))
    return found


def test_the_table_holds_every_advance_of_the_fonts() -> None:
    faces = measured()
    if not faces:
        pytest.skip("none of the fonts the table was made from is installed")
    for code in range(0x20, 0x7F):
        for path, font, coverage in faces:
            if code in coverage:
                assert WIDTHS[code] >= font.getlength(chr(code)) - 1, (chr(code), path)
    assert 1.0 < BOLD_RATIO < 1.5


def test_the_table_covers_latin_greek_cyrillic_hebrew_and_arabic() -> None:
    for char in "AzÅßĳΩЖשش?،":
        assert ord(char) in WIDTHS, char
        assert char_em(char) == WIDTHS[ord(char)] / 1000
