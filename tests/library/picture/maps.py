"""Outlines for the picture tests: every script and kind of title, and big generated maps."""

from __future__ import annotations

import random

from hypothesis import strategies as st

from openplate.library.model import Topic

T = Topic
LONG = "Lorem ipsum dolor sit amet " * 80  # over 2,000 characters
WIDE = "W" * 60
HOSTILE = "<script>alert('x')</script> & \"quotes\" 'apostrophes' \x01\x02\x1b]0;\u202e control"


def scripts_map() -> Topic:
    """A map with Latin, CJK, Arabic, Hebrew, emoji, long, wide and hostile titles."""
    return T("Openplate mind-map library", (
        T("Find maps", (T("Search by title, description and every topic"), T("Tags"),
                        T("Categories"), T("Authors"))),
        T("中文 日本語 한국어", (T("中文标题：思维导图的布局与渲染"),
                                 T("日本語のタイトルはスペースなしで折り返す必要があります"),
                                 T("한국어 제목은 띄어쓰기가 있습니다 마인드맵"))),
        T("عربي", (T("مرحبا بالعالم"), T("خريطة ذهنية للمكتبة 2024 (نسخة)"), T("שלום עולם"),
                   T("Mixed عربي and English"))),
        T("Emoji 🎉🚀", (T("👩‍👩‍👧 family"), T("🇫🇷 🇩🇪 flags"), T("❤️ love ✅ done"),
                         T("🙂" * 30))),
        T("Manage", (T("Edit"), T("Delete"), T("Visibility", (T("public"), T("unlisted"),
                                                              T("private"))))),
        T(LONG, (T(WIDE), T("MMMMMMMMMM WWWWWWWWWW mmmmmmmmmm @@@@@@@@@@ %%%%%%%%%%"),
                 T("長" * 400))),
        T("Export", (T("OPML"), T("Markdown"), T("FreeMind"), T("JSON"), T("SVG"), T("PNG"))),
        T(HOSTILE, (T("line one\nline two\nline three\nline four\nline five"),)),
    ))


WORDS = ("map idea plan note task goal review design research test 計画 アイデア 设计 "
         "مشروع فكرة שלום 🎯 ✅ a-very-long-hyphenated-compound-word").split()


def generated(count: int, *, seed: int = 1, spread: int = 40) -> Topic:
    """A map of ``count`` topics with mixed titles; each topic's parent is one of the
    ``spread`` topics before it, so the depth grows with the count."""
    rng = random.Random(seed)
    parents = [-1] + [rng.randrange(max(0, i - spread), i) for i in range(1, count)]
    titles = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 7))) for _ in range(count)]
    kids: list[list[int]] = [[] for _ in range(count)]
    for index in range(1, count):
        kids[parents[index]].append(index)
    built: list[Topic] = [T("")] * count
    for index in range(count - 1, -1, -1):
        built[index] = T(titles[index], tuple(built[c] for c in kids[index]))
    return built[0]


def chain(depth: int) -> Topic:
    """A path ``depth`` topics deep, with one leaf beside each step."""
    topic = T("the deepest topic")
    for level in range(depth, 0, -1):
        topic = T(f"level {level}", (topic, T(f"beside {level}")))
    return topic


_titles = st.one_of(
    st.text(max_size=60),
    st.sampled_from(["", " ", "長" * 50, "مرحبا بالعالم", "🙂🙂", "W" * 120, LONG, HOSTILE]),
)


@st.composite
def outlines(draw: st.DrawFn, max_topics: int = 60) -> Topic:
    """Random outlines: any shape up to ``max_topics`` topics, any titles."""
    count = draw(st.integers(1, max_topics))
    parents = [-1] + [draw(st.integers(0, i - 1)) for i in range(1, count)]
    titles = [draw(_titles) for _ in range(count)]
    kids: list[list[int]] = [[] for _ in range(count)]
    for index in range(1, count):
        kids[parents[index]].append(index)
    built: list[Topic] = [T("")] * count
    for index in range(count - 1, -1, -1):
        built[index] = T(titles[index], tuple(built[c] for c in kids[index]))
    return built[0]
