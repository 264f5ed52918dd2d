"""The rules for a map's tags, visibility and category, and for categories themselves.

Checked wherever a value comes in (the API, the site's forms, the command line) and again by the
repositories, so no way in can store a value the rules refuse. A refusal is ``InvalidField``,
naming the field, with words fit to show the person who sent it.

Tags (``normalise_tag``): NFKC, lower case, trimmed; each run of white space becomes ``-``,
runs of ``-`` become one, and ``-`` is trimmed from both ends; what is left must be 1 to 40
characters, each a letter, a mark, a digit or ``-`` (Unicode categories L*, M*, N*). A map has
at most ``MAX_TAGS`` tags; the same tag given twice counts once.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

VISIBILITIES = ("public", "unlisted", "private")
MAX_TAGS = 10
MAX_TAG_CHARS = 40
MAX_CATEGORY_SLUG_CHARS = 40
MAX_CATEGORY_NAME_CHARS = 80

_SPACES = re.compile(r"\s+")
_DASHES = re.compile(r"-{2,}")
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_FORMAT = re.compile(r"[a-z0-9]{1,16}")


class InvalidField(ValueError):
    """A value the rules refuse: ``field`` names it, ``message`` says why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def normalise_tag(raw: str) -> str:
    """One tag in its stored form; ``InvalidField("tags")`` if none can be made of it."""
    text = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", raw).lower())
    text = _DASHES.sub("-", _SPACES.sub("-", text.strip())).strip("-")
    shown = raw if len(raw) <= 50 else raw[:50] + "…"
    if not text:
        raise InvalidField("tags", f"the tag {shown!r} has no letters or digits")
    if len(text) > MAX_TAG_CHARS:
        raise InvalidField("tags", f"the tag {shown!r} is longer than {MAX_TAG_CHARS} characters")
    category = unicodedata.category
    if any(c != "-" and category(c)[0] not in "LMN" for c in text):
        raise InvalidField("tags", f"the tag {shown!r} may hold only letters, digits and '-'")
    return text


def normalise_tags(raw: Iterable[str]) -> tuple[str, ...]:
    """Tags in stored form, each once, in the order given; at most ``MAX_TAGS``."""
    tags: dict[str, None] = {}
    for item in raw:
        tags[normalise_tag(item)] = None
        if len(tags) > MAX_TAGS:
            raise InvalidField("tags", f"a map has at most {MAX_TAGS} tags")
    return tuple(tags)


def split_tags(field: str) -> list[str]:
    """The tags of a comma-separated form field; empty items (``a,,b``, a final comma) skipped."""
    if len(field) > 2000:
        raise InvalidField("tags", "the list of tags is too long")
    return [item for item in field.split(",") if item.strip()]


def check_visibility(value: str) -> str:
    if value not in VISIBILITIES:
        raise InvalidField("visibility", "must be one of " + ", ".join(VISIBILITIES))
    return value


def check_category_slug(value: str, *, field: str = "category") -> str:
    """A category's slug: ``a``-``z``, digits and single ``-`` between them, 1 to 40 characters."""
    if len(value) > MAX_CATEGORY_SLUG_CHARS or not _SLUG.fullmatch(value):
        raise InvalidField(field, "a category slug is 1 to 40 lower-case letters, digits and "
                                  "single '-' between them")
    return value


def check_category_name(value: str) -> str:
    """A category's name: 1 to 80 characters of text, no control characters; trimmed."""
    name = value.strip()
    if not name or len(name) > MAX_CATEGORY_NAME_CHARS:
        raise InvalidField("name", f"a category name is 1 to {MAX_CATEGORY_NAME_CHARS} characters")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn") for c in name):
        raise InvalidField("name", "a category name may not hold control characters")
    return name


def check_format(value: str) -> str:
    """A format filter: a format's name, 1 to 16 lower-case letters or digits."""
    if not _FORMAT.fullmatch(value):
        raise InvalidField("format", "a format is 1 to 16 lower-case letters or digits")
    return value


MAX_TITLE_CHARS = 200
MAX_DESCRIPTION_CHARS = 10_000


def clean_text(value: str, limit: int, *, multiline: bool) -> str:
    """Text with control and format characters removed (line breaks and tabs kept when
    ``multiline``), trimmed, and cut to ``limit`` characters."""
    keep = "\n\t" if multiline else ""
    category = unicodedata.category
    text = "".join(c for c in value if c in keep or category(c) not in ("Cc", "Cf", "Cs"))
    return text.strip()[:limit]


def check_title(value: str) -> str:
    """A title as given for a change: cleaned; empty or too long is refused, not cut."""
    title = clean_text(value, MAX_TITLE_CHARS + 1, multiline=False)
    if not title:
        raise InvalidField("title", "a title cannot be empty")
    if len(title) > MAX_TITLE_CHARS:
        raise InvalidField("title", f"a title is at most {MAX_TITLE_CHARS} characters")
    return title


def check_description(value: str) -> str:
    """A description as given for a change: cleaned; too long is refused, not cut."""
    description = clean_text(value, MAX_DESCRIPTION_CHARS + 1, multiline=True)
    if len(description) > MAX_DESCRIPTION_CHARS:
        raise InvalidField("description",
                           f"a description is at most {MAX_DESCRIPTION_CHARS} characters")
    return description
