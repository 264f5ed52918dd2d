"""What the library site's HTTP tests share: a signed-in 'browser', the site's upload form, and
reading the pages' lists, links and notices."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from tests.support.browser_flow import hidden_fields, sign_in
from tests.support.mindmaps import make_xmind_json
from tests.support.seed import Account
from tests.support.server import LiveServer

NOTICE = re.compile(r'<div class="flash" role="status">\s*<p>([^<]*)</p>')
_CARD = re.compile(r'class="map-link" href="/mindmaps/([0-9a-z]+)/')
_NEXT = re.compile(r'<a class="button secondary" href="([^"]+)" rel="next">')


@contextmanager
def signed_in(server: LiveServer, account: Account, *,
              agent: str = "library-pages-test") -> Iterator[httpx.Client]:
    """A signed-in 'browser': cookies kept, redirects not followed."""
    with httpx.Client(base_url=server.url, timeout=60, headers={"User-Agent": agent}) as client:
        assert sign_in(client, account).status_code == 303
        yield client


def csrf(client: httpx.Client, page: str = "/account/maps/new") -> str:
    return hidden_fields(client.get(page).text)["csrf_token"]


def share(client: httpx.Client, title: str, *, content: bytes | None = None,
          filename: str = "m.xmind", token: str | None = None, **fields: str) -> httpx.Response:
    """Post the site's upload form (the CSRF token from the form page unless ``token``)."""
    data = {"csrf_token": token if token is not None else csrf(client), "title": title, **fields}
    return client.post("/account/maps/new", data=data, files={"map": (
        filename, content if content is not None else make_xmind_json(title or "Root"),
        "application/octet-stream")})


def notice_after(client: httpx.Client, response: httpx.Response) -> str:
    """The notice the page a post redirected to shows."""
    assert response.status_code == 303, response.text[:2000]
    found = NOTICE.search(client.get(response.headers["location"]).text)
    assert found is not None
    return html.unescape(found.group(1))


def public_id_of(response: httpx.Response) -> str:
    """The map a post redirected to: /mindmaps/{id}/{slug}."""
    assert response.status_code == 303, response.text[:2000]
    location = response.headers["location"]
    assert location.startswith("/mindmaps/"), location
    return location.split("/")[2]


def cards(page: str) -> list[str]:
    """The public ids of the maps a list page shows, in order."""
    return _CARD.findall(page)


def next_link(page: str) -> str | None:
    found = _NEXT.search(page)
    return html.unescape(found.group(1)) if found else None


def follow(client: httpx.Client, path: str, **params: Any) -> tuple[list[str], int]:
    """Every page of a list from ``path``: the map ids in order, and how many pages."""
    response = client.get(path, params=params)
    ids: list[str] = []
    pages = 0
    while True:
        assert response.status_code == 200, response.text[:2000]
        pages += 1
        ids += cards(response.text)
        following = next_link(response.text)
        if following is None:
            return ids, pages
        assert "cursor=" in following and "offset" not in following and "page=" not in following
        response = client.get(following)


def field_error(page: str, field: str) -> str | None:
    """The message beside ``field`` (``id="error-<field>"``), unescaped; None if there is none."""
    found = re.search(rf'id="error-{field}">([^<]*)</p>', page)
    return html.unescape(found.group(1)) if found else None


def described_by(page: str, element_id: str) -> list[str]:
    """The ids in the ``aria-describedby`` of the element with ``element_id``."""
    found = re.search(rf'<(?:input|select|textarea|fieldset)[^>]*\bid="{element_id}"[^>]*>', page)
    assert found is not None, element_id
    described = re.search(r'aria-describedby="([^"]*)"', found.group(0))
    return described.group(1).split() if described else []
