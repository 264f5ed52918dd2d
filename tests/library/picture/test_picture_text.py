"""Title wrapping and measuring (openplate/library/picture/text.py)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from openplate.library.picture.text import ELLIPSIS, char_em, clean, clusters, is_rtl, text_em, wrap


def test_short_titles_stay_on_one_line() -> None:
    lines, cut = wrap("Hello world", 20, 3)
    assert [line.text for line in lines] == ["Hello world"] and not cut
    assert lines[0].width == text_em("Hello world")


def test_lines_break_at_spaces_and_hyphens_greedily() -> None:
    title = "alpha beta gamma delta epsilon zeta"
    lines, cut = wrap(title, 7, 6)
    assert not cut and len(lines) > 2
    assert " ".join(line.text for line in lines) == title
    for line, after in zip(lines, lines[1:], strict=False):
        assert line.width <= 7
        # The next line's first word would not have fitted on this one.
        assert text_em(line.text + " " + after.text.split(" ")[0]) > 7
    lines, _ = wrap("mind-map-library", 6, 5)
    assert lines[0].text.endswith("-") and "".join(x.text for x in lines) == "mind-map-library"
    assert all(line.width <= 6 for line in lines)


def test_scripts_without_spaces_break_between_characters() -> None:
    lines, cut = wrap("思维导图的布局与渲染测试", 5, 5)
    assert [line.text for line in lines] == ["思维导图的", "布局与渲染", "测试"]
    assert not cut and all(line.width == 5.0 for line in lines[:2])


def test_a_word_wider_than_a_line_is_broken_between_clusters() -> None:
    lines, _ = wrap("x" * 40, 5, 20)
    assert "".join(line.text for line in lines) == "x" * 40
    assert all(line.width <= 5 for line in lines)


def test_long_titles_are_capped_with_an_ellipsis() -> None:
    lines, cut = wrap("word " * 2000, 10, 3)
    assert cut and len(lines) == 3 and lines[-1].text.endswith(ELLIPSIS)
    assert all(line.width <= 10 for line in lines)
    lines, cut = wrap("長" * 2000, 10, 4)
    assert cut and len(lines) == 4 and lines[-1].text == "長" * 9 + ELLIPSIS


def test_clusters_are_never_split() -> None:
    family = "\U0001F469\u200d\U0001F469\u200d\U0001F467"
    assert clusters(f"a{family}b") == ["a", family, "b"]
    assert clusters("\U0001F1EB\U0001F1F7\U0001F1E9\U0001F1EA") == [
        "\U0001F1EB\U0001F1F7", "\U0001F1E9\U0001F1EA"]
    assert clusters("e\u0301\u0302x") == ["e\u0301\u0302", "x"]
    lines, _ = wrap(family * 10, 2.7, 10)
    assert all(line.text in {family * 2, family} for line in lines)


def test_wide_characters_and_emoji_count_wide() -> None:
    assert char_em("長") == 1.0 and char_em("한") == 1.0 and char_em("\uff21") == 1.0
    assert char_em("🙂") > 1.0 and char_em("\u0301") == 0.0 and char_em("\u200d") == 0.0
    assert char_em("i") < char_em("W")
    assert char_em("é") == char_em("e")  # a letter with a mark measures as its base


def test_direction_follows_the_first_strong_character() -> None:
    assert is_rtl("مرحبا world") and is_rtl("123 שלום") and not is_rtl("hello مرحبا")
    assert not is_rtl("123") and not is_rtl("")


def test_control_characters_become_spaces() -> None:
    assert clean("a\x00b\x1bc\x7fd\ud800e\uffff\nf") == "a b c d e \nf"
    lines, _ = wrap("one\x00two\tthree", 30, 3)
    assert lines[0].text == "one two three"
    lines, _ = wrap("first\nsecond\n\n\nthird", 30, 5)
    assert [line.text for line in lines] == ["first", "second", "third"]


def test_empty_titles_give_one_empty_line() -> None:
    for title in ("", "   ", "\n\n", "\x00"):
        lines, cut = wrap(title, 10, 3)
        assert [line.text for line in lines] == [""] and not cut


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300), st.floats(3, 30), st.integers(1, 5))
def test_wrapping_keeps_the_text_and_the_limits(title: str, width: float, count: int) -> None:
    lines, cut = wrap(title, width, count)
    assert 1 <= len(lines) <= count
    for line in lines:
        many = len(clusters(line.text)) > 1
        assert line.width <= width + 1e-9 or not many  # only a lone cluster may be wider
    texts = [line.text for line in lines]
    if cut:
        texts[-1] = texts[-1].removesuffix(ELLIPSIS)
    joined = "".join(texts)
    wanted = "".join(clean(title).split())
    squeezed = "".join(joined.split())
    if cut:
        assert lines[-1].text.endswith(ELLIPSIS)
        assert wanted.startswith(squeezed)
    else:
        assert squeezed == wanted
