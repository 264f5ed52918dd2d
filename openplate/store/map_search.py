"""Search keys for the library: one tokenizer in Python, so SQLite FTS5 and PostgreSQL index and
match the very same tokens.

Neither database tokenizes what users wrote. Both get *keys*: words found here, folded, and
spelt in the letters ``a``-``z`` and digits only, one space between them. SQLite's
``unicode61`` tokenizer and a ``tsvector`` built from the keys (never PostgreSQL's own parser,
which splits ``e-mail`` and keeps ``3.14`` whole) then see identical tokens, whatever the
scripts, whatever either database's Unicode tables say.

A word (``words``):
- the text is put in compatibility form (NFKD), case-folded, and stripped of its nonspacing
  and enclosing marks (accents: ``Café`` finds ``cafe``, ``ＡＢＣ`` finds ``abc``);
- a word is a run of letters, digits and spacing marks (Unicode categories L*, N*, Mc); every
  other character separates words;
- each Han ideograph, Hiragana and Katakana character is a word of its own, as these scripts
  put no spaces between words (``思维导图`` is found by ``导图``);
- a word longer than ``MAX_WORD_CHARS`` characters keeps its first ``MAX_WORD_CHARS``.

A key (``key_of``) spells a word in ``[a-z0-9]``: ``a``-``y`` and the digits stand for
themselves, ``z`` is ``zz``, any other character is ``z`` and its code point in four base-36
digits. So keys are distinct when words are, and a prefix of a word gives a prefix of its key
(the last word of a query matches as a prefix).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

#: Longer words are cut to this many characters (both when indexing and when searching).
MAX_WORD_CHARS = 64
#: A query's words past this many are ignored.
MAX_QUERY_WORDS = 32
#: The last word of a query matches as a prefix when it has at least this many characters.
PREFIX_MIN_CHARS = 3
#: ``maps.search_text`` keeps at most this much of a map's topic text.
MAX_SEARCH_TEXT_CHARS = 500_000
#: The topic keys of one map stop at this length (a PostgreSQL ``tsvector`` holds at most 1 MB).
MAX_TOPIC_KEY_CHARS = 300_000

_ASCII_WORD = re.compile(r"[a-z0-9]+")
_DIGITS36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def _own_word(char: str) -> bool:
    """Han ideographs, Hiragana and Katakana: one character, one word."""
    code = ord(char)
    return (0x3040 <= code <= 0x30FF or 0x3400 <= code <= 0x4DBF or 0x4E00 <= code <= 0x9FFF
            or 0xF900 <= code <= 0xFAFF or 0x20000 <= code <= 0x3134F)


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).casefold())
    category = unicodedata.category
    return unicodedata.normalize(
        "NFC", "".join(c for c in decomposed if category(c) not in ("Mn", "Me")))


def words(text: str) -> list[str]:
    """The words of ``text``, folded, in order (repeats kept)."""
    if text.isascii():
        return [w[:MAX_WORD_CHARS] for w in _ASCII_WORD.findall(text.lower())]
    found: list[str] = []
    current: list[str] = []
    category = unicodedata.category
    for char in _fold(text):
        if _own_word(char):
            if current:
                found.append("".join(current)[:MAX_WORD_CHARS])
                current = []
            found.append(char)
            continue
        kind = category(char)
        if kind[0] in "LN" or kind == "Mc":
            current.append(char)
        elif current:
            found.append("".join(current)[:MAX_WORD_CHARS])
            current = []
    if current:
        found.append("".join(current)[:MAX_WORD_CHARS])
    return found


def _base36(code: int) -> str:
    digits = []
    for _ in range(4):
        code, rest = divmod(code, 36)
        digits.append(_DIGITS36[rest])
    return "".join(reversed(digits))


def key_of(word: str) -> str:
    """A word spelt in ``[a-z0-9]`` (see the module's docstring)."""
    if word.isascii():
        return word.replace("z", "zz")
    return "".join(
        "zz" if c == "z" else c if c.isascii() else "z" + _base36(ord(c)) for c in word)


def keys(text: str, *, limit: int | None = None) -> str:
    """The distinct keys of ``text``'s words, first seen first, one space apart; with ``limit``,
    only as many whole keys as fit in that many characters."""
    seen: dict[str, None] = {}
    length = 0
    for word in words(text):
        key = key_of(word)
        if key in seen:
            continue
        if limit is not None and length + len(key) + 1 > limit + 1:
            break
        seen[key] = None
        length += len(key) + 1
    return " ".join(seen)


def outline_text(outline: Any) -> str:
    """Every topic title and note of a stored outline (a list of sheets, each a topic
    ``{"title", "children", "note"?, "link"?}``), one a line, depth first; at most
    ``MAX_SEARCH_TEXT_CHARS``. Walked with an explicit stack; anything not shaped like a topic
    is skipped."""
    parts: list[str] = []
    size = 0
    stack: list[Any] = list(reversed(outline)) if isinstance(outline, list) else [outline]
    while stack and size < MAX_SEARCH_TEXT_CHARS:
        topic = stack.pop()
        if not isinstance(topic, dict):
            continue
        for field in ("title", "note"):
            value = topic.get(field)
            if isinstance(value, str) and value:
                parts.append(value)
                size += len(value) + 1
        children = topic.get("children")
        if isinstance(children, list):
            stack.extend(reversed(children))
    return "\n".join(parts)[:MAX_SEARCH_TEXT_CHARS]


@dataclass(frozen=True, slots=True)
class SearchKeys:
    """What one map's search row holds: the keys of its title, description and topics."""

    title: str
    description: str
    topics: str

    @classmethod
    def of(cls, *, title: str, description: str, topic_text: str) -> SearchKeys:
        return cls(keys(title), keys(description), keys(topic_text, limit=MAX_TOPIC_KEY_CHARS))

    def tsvectors(self) -> dict[str, str]:
        """PostgreSQL's ``map_search`` words, as ``tsvector`` input text: the title's keys, the
        title's and description's, and all of them."""
        def vector(*parts: str) -> str:
            return " ".join(f"'{key}'" for key in dict.fromkeys(" ".join(parts).split()))

        return {"title_words": vector(self.title),
                "text_words": vector(self.title, self.description),
                "all_words": vector(self.title, self.description, self.topics)}


@dataclass(frozen=True, slots=True)
class SearchTerms:
    """A query's keys (all must match) and whether the last one matches as a prefix."""

    keys: tuple[str, ...]
    prefix_last: bool

    @classmethod
    def parse(cls, query: str) -> SearchTerms | None:
        """The terms of a query; None when it has no words. Whatever the query holds (quotes,
        ``*``, ``:``, ``&``, ``NEAR``, ``-``, NUL), only keys in ``[a-z0-9]`` come out."""
        found = words(query)
        if not found:
            return None
        whole = len(found) <= MAX_QUERY_WORDS
        found = found[:MAX_QUERY_WORDS]
        last = key_of(found[-1])
        # The last word is a prefix only if the query ends with it (not cut, no space after).
        prefix = whole and len(found[-1]) >= PREFIX_MIN_CHARS and not query[-1:].isspace()
        ordered = [k for k in dict.fromkeys(key_of(w) for w in found) if k != last] + [last]
        return cls(tuple(ordered), prefix)

    def fts5(self, columns: tuple[str, ...] = ()) -> str:
        """An FTS5 query: every key, in ``columns`` (all columns when empty)."""
        scope = "{" + " ".join(columns) + "} : " if columns else ""
        last = len(self.keys) - 1
        return " AND ".join(
            f'{scope}"{key}"' + ("*" if self.prefix_last and i == last else "")
            for i, key in enumerate(self.keys))

    def fts5_tier(self, tier: int) -> str:
        """The FTS5 query of the maps in ``tier`` (see store/map_queries.py): 0, every key in
        the title; 1, every key in the title or description, but not 0; 2, the rest."""
        title, either = self.fts5(("title_keys",)), self.fts5(("title_keys", "description_keys"))
        if tier == 0:
            return title
        if tier == 1:
            return f"({either}) NOT ({title})"
        return f"({self.fts5()}) NOT ({either})"

    def tsquery(self) -> str:
        """A PostgreSQL ``tsquery`` (its input text): every key, the last as a prefix if so."""
        last = len(self.keys) - 1
        return " & ".join(f"'{key}'" + (":*" if self.prefix_last and i == last else "")
                          for i, key in enumerate(self.keys))
