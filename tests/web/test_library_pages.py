"""The library's pages over HTTP, on SQLite and on PostgreSQL with Redis: the home page's lists,
search with every filter, paging through every page by ``next`` links, the tag, category and
person pages, refused filters answered on the search page, the map page (facts, picture,
outline with notes and links, downloads), private maps shown to nobody but their owner, and
views counted once per viewer and day, a parallel burst of one viewer included."""

from __future__ import annotations

import asyncio
import html
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote

import httpx
import pytest

from openplate.library.model import Topic
from openplate.web.map_views import MEMO_SIZE, ViewMemo
from tests.support.mindmaps import make_freemind, make_opml
from tests.support.operator_cli import operator_json
from tests.support.seed import Account, Seeder
from tests.support.server import LiveServer
from tests.web.library_pages_support import (
    cards,
    described_by,
    field_error,
    follow,
    next_link,
    signed_in,
)
from tests.web.maps_api_support import Uploader, count, token_for

REDIRECT = "https://app.example.com/cb"
#: More than one page of a list (24 a page), so paging is walked.
PAGED = 27


@dataclass(frozen=True)
class Library:
    author: Account
    other: Account
    word: str
    tag: str
    category: str
    #: Public maps tagged ``tag``, oldest first.
    paged: list[str]
    #: About ``word``: title, description and topic (a FreeMind map) ones; all public.
    in_title: str
    in_description: str
    in_topic: str
    categorised: str
    unlisted: str
    private: str
    token: str


@pytest.fixture(scope="module")
def library(server: LiveServer, seeder: Seeder) -> Library:
    author, other = seeder.user("pages"), seeder.user("reader")
    app = seeder.app(seeder.user("pagesdev"), redirect_uris=(REDIRECT,))
    token = token_for(server, app, author)
    word = "qx" + secrets.token_hex(4)
    tag = "paged-" + secrets.token_hex(3)
    category = "maps-" + secrets.token_hex(3)
    operator_json(server, "category", "add", category, "--name", "Garden & Field")
    made: dict[str, str] = {}
    with httpx.Client(base_url=server.url, timeout=60) as http:
        up = Uploader(http, token)

        def one(name: str, title: str, **fields: object) -> str:
            response = up.upload(title, **fields)  # type: ignore[arg-type]
            assert response.status_code == 201, response.text
            made[name] = response.json()["id"]
            return made[name]

        paged = [one(f"p{n}", f"Paged map {n}", tags=tag) for n in range(PAGED)]
        one("in_topic", "Topics only", content=make_freemind("Topics only", [f"about {word}"]),
            filename="t.mm", tags=tag)
        one("in_description", "Described", description=f"All about {word} here.")
        one("in_title", f"The {word} plan", category=category)
        one("categorised", "Filed away", category=category)
        one("unlisted", f"Unlisted {word}", visibility="unlisted", tags=tag, category=category)
        one("private", f"Private {word}", visibility="private", tags=tag, category=category)
    return Library(author, other, word, tag, category, paged, made["in_title"],
                   made["in_description"], made["in_topic"], made["categorised"],
                   made["unlisted"], made["private"], token)


@pytest.fixture()
def http(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=60) as client:
        yield client


# --- lists ------------------------------------------------------------------------------------

def test_home_says_what_it_is_and_lists_newest_most_viewed_and_categories(
        http: httpx.Client, library: Library) -> None:
    page = http.get("/")
    assert page.status_code == 200
    text = page.text
    assert "<h1>The mind-map library</h1>" in text
    assert 'role="search" action="/search"' in text and 'name="q"' in text
    newest = cards(text.split('id="newest-heading"')[1].split("</section>")[0])
    assert len(newest) == 8 and library.private not in newest and library.unlisted not in newest
    assert 'id="viewed-heading"' in text
    # The category, with its count of public maps (the unlisted and private ones not counted).
    assert f'href="/categories/{library.category}"' in text
    assert re.search(rf'/categories/{library.category}" dir="auto">Garden &amp; Field</a> '
                     r'<span class="small">\(2 maps\)</span>', text)
    # "More" continues where the home page stopped: no map twice, newest first.
    more = re.search(r'<a href="([^"]+)">More of the newest maps</a>', text)
    assert more is not None
    following = http.get(html.unescape(more.group(1)))
    assert following.status_code == 200
    assert cards(following.text) and not set(cards(following.text)) & set(newest)


def test_the_home_pages_category_count_follows_a_new_map_at_once(
        server: LiveServer, seeder: Seeder, http: httpx.Client) -> None:
    """The counts are kept in memory (store/category_counts.py), but a map this server shares
    is counted on the next home page."""
    category = "fresh-" + secrets.token_hex(3)
    operator_json(server, "category", "add", category, "--name", "Fresh category")
    app = seeder.app(seeder.user("freshdev"), redirect_uris=(REDIRECT,))
    up = Uploader(http, token_for(server, app, seeder.user("fresh")))
    pattern = rf'/categories/{category}" dir="auto">Fresh category</a> <span class="small">\((\d+) maps?\)'

    def shown() -> int:
        found = re.search(pattern, http.get("/").text)
        assert found is not None
        return int(found.group(1))

    assert up.upload("Fresh one", category=category).status_code == 201
    assert shown() == 1
    assert up.upload("Fresh two", category=category).status_code == 201
    assert shown() == 2


def test_search_finds_by_words_ranked_and_filters(http: httpx.Client, library: Library) -> None:
    ids, _ = follow(http, "/search", q=library.word)
    # Title first, then description, then topics; never the unlisted or private maps.
    assert ids == [library.in_title, library.in_description, library.in_topic]
    page = http.get("/search", params={"q": library.word})
    assert "Best matches first" in page.text
    assert f'value="{library.word}"' in page.text
    assert follow(http, "/search", q=library.word, category=library.category)[0] == [
        library.in_title]
    assert follow(http, "/search", q=library.word, format="freemind")[0] == [library.in_topic]
    assert follow(http, "/search", q=library.word, tag=library.tag)[0] == [library.in_topic]
    assert follow(http, "/search", q=library.word,
                  author=library.author.username.upper())[0] == [
        library.in_title, library.in_description, library.in_topic]
    assert follow(http, "/search", q=library.word, author=library.other.username)[0] == []
    # The last word matches as a prefix.
    assert library.in_title in follow(http, "/search", q=library.word[:-2])[0]


def test_paging_walks_every_page_once(http: httpx.Client, library: Library) -> None:
    expected = [library.in_topic, *reversed(library.paged)]  # newest first
    for params in ({"tag": library.tag}, {"tag": library.tag, "sort": "newest"}):
        ids, pages = follow(http, "/search", **params)
        assert ids == expected and pages == 2
    ids, pages = follow(http, f"/tags/{library.tag}")
    assert ids == expected and pages == 2
    ids, pages = follow(http, "/search", tag=library.tag, sort="views")
    assert sorted(ids) == sorted(expected) and len(ids) == len(set(ids)) and pages == 2
    ids, pages = follow(http, f"/people/{library.author.username}")
    public = {*library.paged, library.in_topic, library.in_description, library.in_title,
              library.categorised}
    assert set(ids) == public and len(ids) == len(public) and pages == 2
    # A later page links back to the first; the first has no such link.
    second = http.get(next_link(http.get(f"/tags/{library.tag}").text) or "")
    assert f'<a href="/tags/{library.tag}">First page</a>' in second.text
    # A cursor from another list, or a made-up one, shows the first page and says so.
    other = http.get(next_link(http.get("/search", params={"tag": library.tag}).text) or "")
    assert other.status_code == 200
    cursor = re.search(r"cursor=([^&\"]+)", other.url.query.decode())
    assert cursor is not None
    foreign = http.get(f"/people/{library.author.username}", params={"cursor": cursor.group(1)})
    assert foreign.status_code == 200 and "not one the library gave" in foreign.text
    assert http.get("/search", params={"cursor": "x" * 50}).status_code == 200


@pytest.mark.parametrize("params, field, words", [
    ({"tag": "c++"}, "tag", "may hold only letters"),
    ({"format": "pdf"}, "format", "Choose a format from the list."),
    ({"category": "no-such-category"}, "category", "There is no such category"),
    ({"author": "nobody-" + "x" * 20}, "author", "Nobody has this username"),
    ({"author": "not a name"}, "author", "Nobody has this username"),
    ({"q": "w" * 201}, "q", "at most 200 characters"),
    ({"sort": "oldest"}, "sort", "Choose an order from the list."),
])
def test_a_filter_the_library_cannot_use_is_answered_on_the_page(
        http: httpx.Client, library: Library, params: dict[str, str], field: str,
        words: str) -> None:
    page = http.get("/search", params=params)
    assert page.status_code == 400
    assert "<h1>Search the library</h1>" in page.text and 'role="search"' in page.text
    message = field_error(page.text, field)
    assert message is not None and words in message
    assert f"error-{field}" in described_by(page.text, field)
    assert re.search(rf'id="{field}"[^>]*aria-invalid="true"', page.text)
    assert cards(page.text) == []


def test_no_match_says_so_and_what_to_try(http: httpx.Client, library: Library) -> None:
    page = http.get("/search", params={"q": "zq" + secrets.token_hex(6), "tag": library.tag})
    assert page.status_code == 200 and cards(page.text) == []
    assert "No maps match" in page.text
    assert "Check the spelling" in page.text and "Remove a filter" in page.text
    assert 'aria-label="Remove the tag filter"' in page.text


def test_tag_category_and_person_pages(http: httpx.Client, library: Library) -> None:
    tag = http.get(f"/tags/{library.tag}")
    assert tag.status_code == 200 and f"Maps tagged “{library.tag}”" in tag.text
    # A tag as typed leads to its normal form; one that can be no tag is not found.
    typed = http.get("/tags/" + quote(library.tag.upper().replace("-", " ")))
    assert typed.status_code == 301 and typed.headers["location"] == f"/tags/{library.tag}"
    assert http.get("/tags/" + quote("c++")).status_code == 404
    category = http.get(f"/categories/{library.category}")
    assert category.status_code == 200 and "Garden &amp; Field" in category.text
    assert cards(category.text) == [library.categorised, library.in_title]
    assert http.get("/categories/no-such-" + secrets.token_hex(2)).status_code == 404
    assert http.get("/categories/" + "x" * 300).status_code == 404
    name = library.author.username
    person = http.get(f"/people/{name}")
    assert person.status_code == 200 and f"Maps by {name}" in person.text
    assert http.get(f"/people/{name.upper()}").headers["location"] == f"/people/{name}"
    assert http.get("/people/nobody-" + secrets.token_hex(4)).status_code == 404
    assert http.get("/people/" + quote(library.author.email)).status_code == 404
    for page in (tag, category, person):
        assert library.private not in page.text and library.unlisted not in page.text


def test_private_and_unlisted_maps(server: LiveServer, http: httpx.Client,
                                   library: Library) -> None:
    lists = [http.get(path).text for path in (
        "/", f"/tags/{library.tag}", f"/categories/{library.category}",
        f"/people/{library.author.username}", f"/search?q={library.word}",
        f"/search?tag={library.tag}&sort=views")]
    for text in lists:
        assert library.private not in text and library.unlisted not in text
    assert http.get(f"/mindmaps/{library.private}").status_code == 404
    unlisted = http.get(f"/mindmaps/{library.unlisted}", follow_redirects=True)
    assert unlisted.status_code == 200
    # Open to whoever has the link, but kept out of search engines: the page, its files, its
    # exports and the API's copy of the file; a public map's are not.
    assert '<meta name="robots" content="noindex">' in unlisted.text
    for path in ("", "/files/thumbnail.png", "/files/map", "/export/md", "/export/svg"):
        answer = http.get(f"/mindmaps/{library.unlisted}{path}", follow_redirects=True)
        assert answer.status_code == 200 and answer.headers["x-robots-tag"] == "noindex", path
        public = http.get(f"/mindmaps/{library.in_title}{path}", follow_redirects=True)
        assert public.status_code == 200 and "x-robots-tag" not in public.headers, path
    assert "noindex" not in http.get(f"/mindmaps/{library.in_title}", follow_redirects=True).text
    for path in ("/file", "/export?format=opml"):
        assert http.get(f"/maps/{library.unlisted}{path}").headers["x-robots-tag"] == "noindex"
        assert "x-robots-tag" not in http.get(f"/maps/{library.in_title}{path}").headers
    with signed_in(server, library.other) as other:
        assert other.get(f"/mindmaps/{library.private}").status_code == 404
        assert library.private not in other.get(f"/search?q={library.word}").text
    with signed_in(server, library.author) as owner:
        page = owner.get(f"/mindmaps/{library.private}", follow_redirects=True)
        assert page.status_code == 200 and "Private: only you can see it" in page.text
        assert library.private not in owner.get(f"/search?q={library.word}").text


# --- the map page -------------------------------------------------------------------------------

def test_the_map_page_shows_its_facts_picture_outline_and_downloads(
        server: LiveServer, seeder: Seeder, library: Library) -> None:
    root = Topic("Trip", (
        Topic("Pack", (Topic("Boots"),), note="Check the weather\nthe day before."),
        Topic("Route", link="https://example.org/route?a=1&b=2"),
        Topic("Bad link", link="javascript:alert(1)"),
    ))
    with httpx.Client(base_url=server.url, timeout=60) as http:
        made = Uploader(http, library.token).upload(
            "A trip", content=make_opml(root), filename="trip.opml", tags="travel, Hiking",
            category=library.category, description="Two days.\nOne night.").json()
        page = http.get(made["url"])
        assert page.status_code == 200
        text = page.text
        assert '<h1 dir="auto">A trip</h1>' in text
        assert f'<a class="author" href="/people/{library.author.username}"' in text
        assert re.search(r'<dd class="topic-count">5</dd>', text)
        assert re.search(r'<dd class="view-count">1</dd>', text)  # this view
        assert '<a href="/tags/hiking" dir="auto">hiking</a>' in text
        assert '<a href="/tags/travel" dir="auto">travel</a>' in text
        assert f'<a href="/categories/{library.category}" dir="auto">Garden &amp; Field</a>' in text
        assert '<p class="description" dir="auto">Two days.\nOne night.</p>' in text
        # The picture, with the viewer; the outline, notes under their topic, links as links.
        assert '<figure class="mapview" data-mapview' in text and "<svg" in text
        assert '/static/mapview.js' in text and '/static/mapview.css' in text
        assert ('<span class="topic" dir="auto">Pack</span><p class="note" dir="auto">Check the '
                'weather\nthe day before.</p><ul><li><span class="topic" dir="auto">Boots</span>'
                in text)
        assert ('<a class="topic" dir="auto" href="https://example.org/route?a=1&amp;b=2" '
                'rel="nofollow ugc noopener">Route</a>') in text
        assert "javascript:" not in text
        # Every download answers.
        downloads = re.findall(r'<a class="(?:download|export)" href="([^"]+)" download>', text)
        assert len(downloads) == 7
        assert {d.rsplit("/", 1)[1] for d in downloads} == {
            "map", "opml", "md", "mm", "json", "svg", "png"}
        for link in downloads:
            assert http.get(link).status_code == 200, link
        # No Edit or Delete for a visitor.
        assert "/edit" not in text and "/delete" not in text
    with signed_in(server, library.author) as owner:
        mine = owner.get(made["url"]).text
        assert f'href="/account/maps/{made["id"]}/edit">Edit</a>' in mine
        assert f'href="/account/maps/{made["id"]}/delete">Delete</a>' in mine


def test_a_map_too_big_to_draw_links_its_picture(server: LiveServer, library: Library) -> None:
    content = make_freemind("Huge", [f"topic {n}" for n in range(3001)])
    with httpx.Client(base_url=server.url, timeout=120) as http:
        made = Uploader(http, library.token).upload("Huge", content=content,
                                                    filename="huge.mm").json()
        page = http.get(made["url"])
    assert page.status_code == 200
    assert "too big to draw on this page" in page.text and "<svg" not in page.text
    assert f'href="/mindmaps/{made["id"]}/export/svg"' in page.text
    assert page.text.count("<li>") >= 3002  # the outline still lists every topic


# --- views --------------------------------------------------------------------------------------

async def _burst(url: str, count: int, source: str, agent: str) -> list[httpx.Response]:
    """``count`` GETs of ``url`` at once, each on its own connection, from ``source``."""
    clients = [httpx.AsyncClient(transport=httpx.AsyncHTTPTransport(local_address=source),
                                 timeout=120, headers={"User-Agent": agent})
               for _ in range(count)]
    try:
        origin = url.split("/mindmaps/")[0]
        await asyncio.gather(*(c.get(origin + "/healthz") for c in clients))
        return list(await asyncio.gather(*(c.get(url) for c in clients)))
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))


def _views(server: LiveServer, public_id: str) -> int:
    return int(str(Seeder(server).scalar(
        "SELECT view_count FROM maps WHERE public_id = :p", p=public_id)))


def test_views_count_once_per_viewer_and_day(server: LiveServer, library: Library) -> None:
    with httpx.Client(base_url=server.url, timeout=60) as http:
        made = Uploader(http, library.token).upload("Counted").json()
    url = made["url"]
    sessions_before = count(server, "sessions")
    with httpx.Client(timeout=60, headers={"User-Agent": "link checker"}) as checker:
        assert checker.head(url).status_code == 200  # a HEAD sees no page: not a view
    assert _views(server, made["id"]) == 0
    answers = asyncio.run(_burst(url, 30, "127.0.0.61", "viewer one"))
    assert [a.status_code for a in answers] == [200] * 30
    assert _views(server, made["id"]) == 1
    # Reloads by the same viewer do not count; no cookie or session is made for counting.
    answers = asyncio.run(_burst(url, 3, "127.0.0.61", "viewer one"))
    assert _views(server, made["id"]) == 1
    assert all("set-cookie" not in a.headers for a in answers)
    assert count(server, "sessions") == sessions_before
    # Another browser on that address, and another address, are other viewers.
    asyncio.run(_burst(url, 5, "127.0.0.61", "viewer two"))
    asyncio.run(_burst(url, 5, "127.0.0.62", "viewer one"))
    assert _views(server, made["id"]) == 3
    # A signed-in person counts once, whichever browser; the owner's own views never count.
    with signed_in(server, library.other, agent="a") as reader:
        page = reader.get(url)
        assert re.search(r'<dd class="view-count">4</dd>', page.text)
    with signed_in(server, library.other, agent="b") as reader:
        reader.get(url)
    with signed_in(server, library.author) as owner:
        owner.get(url)
        owner.get(url)
    assert _views(server, made["id"]) == 4
    map_id = int(str(Seeder(server).scalar("SELECT id FROM maps WHERE public_id = :p",
                                           p=made["id"])))
    assert count(server, "map_views", f"map_id = {map_id}") == 4


def test_the_view_memo_is_per_day_and_bounded() -> None:
    memo = ViewMemo()
    assert memo.first(1, "v", day=10) and not memo.first(1, "v", day=10)
    assert memo.first(2, "v", day=10) and memo.first(1, "w", day=10)
    assert memo.first(1, "v", day=11)  # a new day starts again
    for n in range(MEMO_SIZE):
        memo.first(n + 100, "x", day=11)
    assert len(memo.seen) <= MEMO_SIZE
    memo.forget(5, "nobody")
