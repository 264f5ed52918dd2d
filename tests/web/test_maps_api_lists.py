"""``GET /maps`` and ``GET /users/{username}/maps`` over HTTP, on SQLite and on PostgreSQL with
Redis: pages followed through their ``next`` URL and ``Link`` header, filters and search,
refused parameters named, hostile queries answered calmly."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.support.mindmaps import make_freemind
from tests.support.operator_cli import operator_json
from tests.support.seed import Account, App, Seeder
from tests.support.server import LiveServer
from tests.web.maps_api_support import Uploader, token_for

REDIRECT = "https://app.example.com/cb"


@pytest.fixture(scope="module")
def author(seeder: Seeder) -> Account:
    return seeder.user("lister")


@pytest.fixture(scope="module")
def word() -> str:
    """A word no other test's map has."""
    return "qz" + secrets.token_hex(4)


@pytest.fixture(scope="module")
def library(server: LiveServer, seeder: Seeder, author: Account, word: str) -> list[str]:
    """Seven maps of ``author``, oldest first; the fourth is about ``word``, the second is
    private; two are FreeMind maps, three tagged ``stripes``, two in a category."""
    app: App = seeder.app(seeder.user("listdev"), redirect_uris=(REDIRECT,))
    token = token_for(server, app, author)
    slug = "zebra-" + secrets.token_hex(3)
    operator_json(server, "category", "add", slug, "--name", "Zebras")
    made = []
    with httpx.Client(base_url=server.url, timeout=30) as http:
        uploader = Uploader(http, token)
        for n in range(7):
            extra: dict[str, object] = {}
            if n % 3 == 0:
                extra["tags"] = "Stripes"
            if n in (2, 5):
                extra["category"] = slug
            if n == 1:
                extra["visibility"] = "private"
            title = f"Zebra {word}" if n == 3 else f"Zebra number {n}"
            content = make_freemind(title) if n in (4, 5) else None
            response = uploader.upload(title, content=content,
                                       filename="m.mm" if content else "m.xmind", **extra)
            assert response.status_code == 201, response.text
            made.append(response.json()["id"])
    return made


@pytest.fixture()
def http(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


def _follow(http: httpx.Client, path: str, **params: object) -> tuple[list[str], list[str]]:
    """Every page from ``path``: the map ids in order, and each page's ``next``."""
    ids: list[str] = []
    nexts: list[str] = []
    response = http.get(path, params=params)
    while True:
        assert response.status_code == 200, response.text
        body = response.json()
        ids.extend(m["id"] for m in body["maps"])
        if body["next"] is None:
            assert "link" not in response.headers
            return ids, nexts
        assert response.headers["link"] == f'<{body["next"]}>; rel="next"'
        nexts.append(body["next"])
        response = http.get(body["next"])


def test_pages_follow_their_next_links(server: LiveServer, http: httpx.Client, author: Account,
                                       library: list[str]) -> None:
    public = [pid for n, pid in enumerate(library) if n != 1][::-1]  # newest first
    ids, nexts = _follow(http, f"/users/{author.username}/maps", limit=2)
    assert ids == public and len(nexts) == 2
    assert all(url.startswith(server.url + f"/users/{author.username}/maps?") for url in nexts)
    assert parse_qs(urlsplit(nexts[0]).query)["limit"] == ["2"]
    ids, nexts = _follow(http, "/maps", author=author.username.upper(), limit=2, tag="STRIPES")
    assert ids == [library[6], library[3], library[0]]
    assert parse_qs(urlsplit(nexts[0]).query)["tag"] == ["STRIPES"]
    assert _follow(http, "/maps", author=author.username, limit=100)[0] == public


def test_filters_and_search(http: httpx.Client, author: Account, library: list[str],
                            word: str) -> None:
    def ids(**params: object) -> list[str]:
        response = http.get("/maps", params={"author": author.username, **params})
        assert response.status_code == 200, response.text
        return [m["id"] for m in response.json()["maps"]]

    assert ids(format="freemind") == [library[5], library[4]]
    category = http.get(f"/maps/{library[2]}").json()["category"]["slug"]
    assert ids(category=category) == [library[5], library[2]]
    assert ids(q=word) == [library[3]]
    assert ids(q=word[:5]) == [library[3]]  # the last word matches as a prefix
    assert ids(q=f'"{word}" -NOT *') == []
    assert ids(q="zebra number", sort="newest") == [library[n] for n in (6, 5, 4, 2, 0)]
    assert ids(q="zebra", limit=2) == [library[6], library[5]]  # all in the title: newest
    assert ids(q="", tag="") == [library[n] for n in (6, 5, 4, 3, 2, 0)]  # empty: not given
    for nobody in ("a\x00b", "no such user", "é" * 5):  # never a username: nothing, calmly
        assert http.get("/maps", params={"author": nobody}).json() == {"maps": [], "next": None}
    everyone = http.get("/maps", params={"q": word}).json()["maps"]
    assert [m["id"] for m in everyone] == [library[3]]
    assert everyone[0]["author"] == author.username


def test_most_viewed_order_is_offered(http: httpx.Client, author: Account,
                                      library: list[str]) -> None:
    response = http.get("/maps", params={"author": author.username, "sort": "views"})
    assert response.status_code == 200
    assert {m["view_count"] for m in response.json()["maps"]} == {0}


@pytest.mark.parametrize("params, field", [
    ({"limit": "0"}, "limit"), ({"limit": "101"}, "limit"), ({"limit": "abc"}, "limit"),
    ({"limit": "-1"}, "limit"), ({"limit": "1.5"}, "limit"), ({"limit": "１０"}, "limit"),
    ({"limit": ["1", "2"]}, "limit"), ({"q": ["a", "b"]}, "q"),
    ({"cursor": "garbage"}, "cursor"), ({"cursor": "x" * 500}, "cursor"),
    ({"cursor": "bmV3ZXN0LjEuMQ.AAAAAAAAAAAAAAAAAAAAAA"}, "cursor"),
    ({"sort": "best"}, "sort"), ({"sort": "relevance"}, "sort"), ({"q": "x" * 201}, "q"),
    ({"tag": "not/a/tag"}, "tag"), ({"format": "X M"}, "format"),
    ({"category": "Not A Slug"}, "category"), ({"author": "a" * 101}, "author"),
])
def test_bad_parameters_are_named(http: httpx.Client, params: dict[str, object],
                                  field: str) -> None:
    response = http.get("/maps", params=params)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error"] == "invalid_request" and body["field"] == field
    assert "no-store" in response.headers["cache-control"]


def test_a_cursor_belongs_to_its_list(http: httpx.Client, author: Account,
                                      library: list[str]) -> None:
    first = http.get(f"/users/{author.username}/maps", params={"limit": 1}).json()
    cursor = parse_qs(urlsplit(first["next"]).query)["cursor"][0]
    assert http.get(f"/users/{author.username}/maps", params={
        "limit": 1, "cursor": cursor}).status_code == 200
    for other in ({"cursor": cursor, "tag": "stripes"}, {"cursor": cursor, "sort": "views"},
                  {"cursor": cursor[:-2] + "AA"}):
        refused = http.get(f"/users/{author.username}/maps", params=other)
        assert refused.status_code == 400 and refused.json()["field"] == "cursor"
    elsewhere = http.get("/maps", params={"cursor": cursor})
    assert elsewhere.status_code == 400


HOSTILE = ['"', "'", "*", ":", "&", "|", "!", "-", "(", ")", "NEAR", "AND OR NOT", "a:*",
           "x & y | !z", "NEAR(a b, 3)", "{title_keys}: a", "%00", "\x00", "a\x00b",
           "' OR '1'='1", "\\", "🎉" * 50, "\u202e\u0301", "\ufeff", "ア" * 100]


@pytest.mark.parametrize("q", HOSTILE)
def test_hostile_queries_are_only_words(http: httpx.Client, q: str) -> None:
    response = http.get("/maps", params={"q": q, "limit": 5})
    assert response.status_code == 200, response.text
    assert isinstance(response.json()["maps"], list)


def test_an_unknown_user_has_no_maps_page(http: httpx.Client) -> None:
    for name in ("nobody-" + secrets.token_hex(3), "a@b", "%00"):
        response = http.get(f"/users/{name}/maps")
        assert response.status_code == 404 and response.json()["error"] == "not_found"
