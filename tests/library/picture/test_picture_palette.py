"""Every text colour of the picture on its box reaches WCAG AA (4.5:1)."""

from __future__ import annotations

from openplate.library.picture import palette


def test_text_on_every_box_has_aa_contrast() -> None:
    assert palette.contrast(palette.ROOT_TEXT, palette.ROOT_FILL) >= 4.5
    for index in range(-1, len(palette.BRANCHES) + 2):
        colours = palette.branch(index)
        assert palette.contrast(colours.text_on_strong, colours.strong) >= 4.5, colours
        assert palette.contrast(colours.text_on_tint, colours.tint) >= 4.5, colours
        # Borders and curves stand out from the page (WCAG 1.4.11: 3:1 for graphics).
        assert palette.contrast(colours.strong, palette.BACKGROUND) >= 3


def test_contrast_matches_known_values() -> None:
    assert round(palette.contrast("#000000", "#ffffff"), 1) == 21.0
    assert palette.contrast("#777777", "#777777") == 1.0
    assert palette.mix("#000000", "#ffffff", 0.5) == "#808080"
