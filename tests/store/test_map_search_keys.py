"""Search keys (store/map_search.py): the words found in any text, and proof that SQLite's FTS5
and PostgreSQL's tsvectors hold exactly those keys, whatever the text.

The property tests give arbitrary Unicode text to both databases' own machinery: SQLite's
``unicode61 remove_diacritics 2`` tokenizer (read back through ``fts5vocab``) and PostgreSQL's
``tsvector`` input (read back through ``tsvector_to_array``).
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import Iterator

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openplate.store.map_search import (
    MAX_QUERY_WORDS,
    MAX_WORD_CHARS,
    SearchKeys,
    SearchTerms,
    key_of,
    keys,
    outline_text,
    words,
)
from tests.support.postgres import ADMIN_URL

KEY = re.compile(r"[a-z0-9]+")


@pytest.mark.parametrize("text, expected", [
    ("Project Plan", ["project", "plan"]),
    ("Café CRÈME brûlée", ["cafe", "creme", "brulee"]),
    ("ＦＵＬＬ width ﬁne", ["full", "width", "fine"]),
    ("e-mail 3.14 C++ foo_bar", ["e", "mail", "3", "14", "c", "foo", "bar"]),
    ("Straße İstanbul", ["strasse", "istanbul"]),
    ("思维导图 入门", ["思", "维", "导", "图", "入", "门"]),
    ("ひらがな カタカナ", ["ひ", "ら", "か", "な", "カ", "タ", "カ", "ナ"]),
    ("Ωmega Москва", ["ωmega", "москва"]),
    ("مرحبا بالعالم", ["مرحبا", "بالعالم"]),
    ("🎉 party 🎈", ["party"]),
    ("a\x00b\tc\nd", ["a", "b", "c", "d"]),
    ("", []),
    ("x" * 100, ["x" * MAX_WORD_CHARS]),
])
def test_words(text: str, expected: list[str]) -> None:
    assert words(text) == expected


def test_keys_are_ascii_distinct_and_prefix_preserving() -> None:
    assert key_of("plan") == "plan"
    assert key_of("pizza") == "pizzzza"
    assert key_of("ж") == "z00ty"  # U+0436: z and four base-36 digits
    assert len(key_of("ж")) == 5 and KEY.fullmatch(key_of("жар"))
    assert key_of("жар").startswith(key_of("жа")) and key_of("pizz") == "pizzzz"
    assert keys("Plan plan PLAN other") == "plan other"
    assert keys("alpha beta gamma", limit=11) == "alpha beta"
    assert key_of("z") != key_of("zz") and key_of("az") != key_of("a\u00e9")


def test_outline_text_walks_titles_and_notes_without_recursion() -> None:
    deep: dict[str, object] = {"title": "bottom", "note": "deepest note"}
    for level in range(5000):  # deeper than Python's recursion limit
        deep = {"title": f"t{level}", "children": [deep]}
    text = outline_text([deep, {"title": "second sheet", "link": "https://x", "extra": 1},
                         "not a topic", {"children": "not a list"}])
    lines = text.splitlines()
    assert lines[0] == "t4999" and lines[5000:] == ["bottom", "deepest note", "second sheet"]
    assert outline_text("nonsense") == "" and outline_text(None) == ""


def test_the_tsvectors_hold_each_scope_s_keys() -> None:
    found = SearchKeys.of(title="Plan", description="plan and budget", topic_text="budget x")
    assert found.tsvectors() == {"title_words": "'plan'",
                                 "text_words": "'plan' 'and' 'budget'",
                                 "all_words": "'plan' 'and' 'budget' 'x'"}


def test_tier_queries() -> None:
    terms = SearchTerms.parse("garden plan") or SearchTerms((), False)
    assert terms.fts5_tier(0) == '{title_keys} : "garden" AND {title_keys} : "plan"*'
    assert terms.fts5_tier(1) == (
        '({title_keys description_keys} : "garden" AND {title_keys description_keys} : "plan"*)'
        ' NOT ({title_keys} : "garden" AND {title_keys} : "plan"*)')
    assert terms.fts5_tier(2).startswith('("garden" AND "plan"*) NOT ({title_keys descr')
    assert terms.tsquery() == "'garden' & 'plan':*"


@pytest.mark.parametrize("query, keys_, prefix", [
    ("garden", ("garden",), True),
    ("garden ", ("garden",), False),
    ("ga", ("ga",), False),
    ('"garden" AND kitchen*', ("garden", "and", "kitchen"), True),
    ("plan plan", ("plan",), True),
    ("NEAR(a b, 2)", ("near", "a", "b", "2"), False),
    ("\x00", None, False),
    ("***", None, False),
])
def test_query_terms(query: str, keys_: tuple[str, ...] | None, prefix: bool) -> None:
    terms = SearchTerms.parse(query)
    if keys_ is None:
        assert terms is None
        return
    assert terms is not None and terms.keys == keys_ and terms.prefix_last is prefix


def test_query_syntax_is_only_ever_quoted_keys() -> None:
    terms = SearchTerms.parse('x" OR title_keys:* NEAR(\'y\') & !z | -w') or SearchTerms((), False)
    assert terms.fts5() == '"x" AND "or" AND "title" AND "keys" AND "near" AND "y" AND "zz" AND "w"'
    assert terms.fts5(("title_keys",)).startswith('{title_keys} : "x" AND {title_keys} : "or"')
    assert terms.tsquery() == "'x' & 'or' & 'title' & 'keys' & 'near' & 'y' & 'zz' & 'w'"
    long = SearchTerms.parse(" ".join(f"w{n}" for n in range(100)))
    assert long is not None and len(long.keys) == MAX_QUERY_WORDS and not long.prefix_last


# --- both databases see exactly the keys -----------------------------------------------------

TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60)


def _fts5_tokens(conn: sqlite3.Connection, text: str) -> list[str]:
    conn.execute("DELETE FROM probe")
    conn.execute("INSERT INTO probe(body) VALUES (?)", (text,))
    rows = conn.execute("SELECT term FROM probe_words ORDER BY offset").fetchall()
    return [row[0] for row in rows]


@pytest.fixture(scope="module")
def fts5() -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE probe USING fts5(body, "
                 "tokenize='unicode61 remove_diacritics 2')")
    conn.execute("CREATE VIRTUAL TABLE probe_words USING fts5vocab(probe, 'instance')")
    yield conn
    conn.close()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(TEXT)
def test_sqlite_fts5_indexes_exactly_the_keys(fts5: sqlite3.Connection, text: str) -> None:
    made = keys(text)
    assert all(KEY.fullmatch(key) for key in made.split())
    assert _fts5_tokens(fts5, made) == made.split()


@pytest.fixture(scope="module")
def postgres() -> Iterator[tuple[asyncio.AbstractEventLoop, asyncpg.Connection]]:
    loop = asyncio.new_event_loop()
    conn = loop.run_until_complete(asyncpg.connect(ADMIN_URL))
    yield loop, conn
    loop.run_until_complete(conn.close())
    loop.close()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(TEXT, TEXT, TEXT)
def test_postgresql_tsvectors_hold_exactly_the_keys(
    postgres: tuple[asyncio.AbstractEventLoop, asyncpg.Connection], title: str,
    description: str, topics: str,
) -> None:
    loop, conn = postgres
    found = SearchKeys.of(title=title, description=description, topic_text=topics)
    scopes = {"title_words": found.title, "text_words": f"{found.title} {found.description}",
              "all_words": f"{found.title} {found.description} {found.topics}"}
    for name, vector in found.tsvectors().items():
        lexemes = loop.run_until_complete(conn.fetchval(
            "SELECT tsvector_to_array(CAST($1 AS tsvector))", vector))
        assert set(lexemes) == set(scopes[name].split()), name
