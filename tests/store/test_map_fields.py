"""The rules for tags, visibility and categories (store/map_fields.py), as docs/library-search.md
states them."""

from __future__ import annotations

import pytest

from openplate.store.map_fields import (
    InvalidField,
    check_category_name,
    check_category_slug,
    check_description,
    check_title,
    check_visibility,
    normalise_tag,
    normalise_tags,
    split_tags,
)


@pytest.mark.parametrize("raw, tag", [
    ("python", "python"),
    ("  Machine   Learning ", "machine-learning"),
    ("MACHINE\tlearning", "machine-learning"),
    ("a - b", "a-b"),
    ("--edge--", "edge"),
    ("Ｆｕｌｌ", "full"),
    ("Café", "café"),
    ("思维导图", "思维导图"),
    ("हिन्दी", "हिन्दी"),
    ("İstanbul", "i̇stanbul"),
    ("x" * 40, "x" * 40),
    ("2024", "2024"),
])
def test_tags_are_normalised(raw: str, tag: str) -> None:
    assert normalise_tag(raw) == tag
    assert normalise_tag(tag) == tag  # normalising twice changes nothing


@pytest.mark.parametrize("raw", ["", "   ", "-", "---", "c++", "#python", "a/b", "a_b", "🎉",
                                 "x" * 41, "a\x00b", "a.b", "tag,comma"])
def test_bad_tags_are_refused_naming_the_field(raw: str) -> None:
    with pytest.raises(InvalidField) as refused:
        normalise_tag(raw)
    assert refused.value.field == "tags"


def test_tag_lists() -> None:
    assert normalise_tags(["B", "a", "b", " A "]) == ("b", "a")
    assert normalise_tags([f"t{n}" for n in range(10)]) == tuple(f"t{n}" for n in range(10))
    with pytest.raises(InvalidField, match="at most 10"):
        normalise_tags([f"t{n}" for n in range(11)])
    assert normalise_tags(["same"] * 30) == ("same",)
    assert split_tags("a, b,,c ,") == ["a", " b", "c "]
    with pytest.raises(InvalidField):
        split_tags("a," * 2000)


def test_visibility_category_title_description() -> None:
    assert [check_visibility(v) for v in ("public", "unlisted", "private")]
    for bad in ("Public", "", "hidden"):
        with pytest.raises(InvalidField, match="visibility"):
            check_visibility(bad)
    assert check_category_slug("health-and-care") == "health-and-care"
    for bad in ("", "-a", "a-", "a--b", "A", "a b", "é", "a" * 41):
        with pytest.raises(InvalidField):
            check_category_slug(bad)
    assert check_category_name("  Health \u00e9 care ") == "Health é care"
    for bad in ("", " ", "x" * 81, "a\nb", "a\u200eb"):
        with pytest.raises(InvalidField):
            check_category_name(bad)
    assert check_title(" \x07Title\u200b ") == "Title"
    for bad in ("", "\x00", "t" * 201):
        with pytest.raises(InvalidField, match="title"):
            check_title(bad)
    assert check_description("line 1\nline 2\x01") == "line 1\nline 2"
    with pytest.raises(InvalidField, match="description"):
        check_description("d" * 10_001)
