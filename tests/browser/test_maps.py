"""A mind map shared through the API, seen in a real browser: its page (picture and outline),
its download, and its card and thumbnail on the home page."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, Response, expect

from tests.browser.conftest import BrowserSeeder
from tests.browser.helpers import access_token
from tests.support.mindmaps import make_png, make_xmind_json
from tests.support.seed import Account
from tests.support.server import LiveServer

pytestmark = pytest.mark.browser

MAP_SCREENSHOT = "/tmp/openplate-map.png"  # noqa: S108 - a fixed path for a human


@dataclass(frozen=True)
class Shared:
    author: Account
    token: str
    title: str
    description: str
    xmind: bytes
    created: dict[str, Any]


def _upload(server: LiveServer, token: str, title: str, description: str, xmind: bytes,
            filename: str = "garden.xmind") -> dict[str, Any]:
    upload = httpx.post(
        server.url + "/maps", timeout=20, headers={"Authorization": f"Bearer {token}"},
        data={"title": title, "description": description},
        files={"map": (filename, xmind, "application/octet-stream")},
    )
    assert upload.status_code == 201, upload.text
    created: dict[str, Any] = upload.json()
    assert created["url"].startswith(server.url + "/mindmaps/")
    return created


@pytest.fixture(scope="module")
def shared(server: LiveServer, seed: BrowserSeeder) -> Shared:
    """One map shared through the API (a bearer token from the code flow) by a fresh author."""
    author = seed.user("mapper")
    token = access_token(server.url, author, seed.app())
    title = f"Garden plan {time.time_ns() % 10**9}"
    description = "What we grow this year.\nAnd where."
    xmind = make_xmind_json(title, ["Vegetables", "Herbs", "Flowers"], thumbnail=make_png(64, 48))
    return Shared(author, token, title, description, xmind,
                  _upload(server, token, title, description, xmind))


def test_uploaded_map_page_thumbnail_download_and_home(
    page: Page, shared: Shared, tmp_path: Path
) -> None:
    author, title, description, xmind, created = (
        shared.author, shared.title, shared.description, shared.xmind, shared.created
    )
    response = page.goto(created["url"])
    assert response is not None and response.status == 200
    expect(page).to_have_title(f"{title} · Openplate")
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page.locator(".map .author")).to_have_text(author.username)
    expect(page.locator(".map .topic-count")).to_have_text("4")
    expect(page.locator(".map .description")).to_have_text(description)

    outline = page.locator("ul.outline")
    expect(outline.locator(":scope > li")).to_have_count(1)
    expect(outline.locator(":scope > li > ul > li")).to_have_text(["Vegetables", "Herbs", "Flowers"])
    root_text = outline.locator(":scope > li").evaluate("li => li.firstChild.textContent")
    assert root_text == title

    # The picture is drawn from the outline, inline; the thumbnail shows on the lists.
    picture = page.locator("figure.mapview svg.mindmap")
    expect(picture).to_be_visible()
    expect(picture.locator("g.mm-node")).to_have_count(4)
    page.screenshot(path=MAP_SCREENSHOT, full_page=True)

    link = page.locator("a.download")
    expect(link).to_have_text(f"Download {_filename(title)}")
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.failure() is None
    assert download.suggested_filename == _filename(title)
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    assert saved.read_bytes() == xmind

    # The short address leads to the canonical one; the home page lists the map.
    page.goto(f"/mindmaps/{created['id']}")
    expect(page).to_have_url(created["url"])
    images: list[Response] = []
    page.on("response", lambda r: images.append(r) if "thumbnail.png" in r.url else None)
    page.goto("/")  # waits for "load": the thumbnails have arrived
    card = page.locator("#newest-heading + ul li.map-card", has_text=title)
    expect(card).to_have_count(1)
    expect(card.locator(".by")).to_have_text(f"by {author.username}")
    thumbnail = card.locator("img")
    expect(thumbnail).to_have_attribute("alt", "")
    assert thumbnail.evaluate("img => img.complete && img.naturalWidth") == 64
    assert thumbnail.evaluate("img => img.naturalHeight") == 48
    mine = [r for r in images if created["id"] in r.url]
    assert mine and all(r.status == 200 and r.headers["content-type"] == "image/png"
                        for r in mine)
    card.locator(".map-link").click()
    expect(page).to_have_url(created["url"])


def _filename(title: str) -> str:
    """The slug the site makes of our titles (lower case, dashes), plus the extension."""
    return "-".join(title.lower().split()) + ".xmind"


def test_multi_line_description_keeps_its_line_breaks(page: Page, shared: Shared) -> None:
    page.goto(shared.created["url"])
    assert "\n" in shared.description
    assert page.locator(".map .description").inner_text() == shared.description


def test_html_in_a_map_is_shown_as_text(
    page: Page, shared: Shared, server: LiveServer
) -> None:
    title = '<img src=x onerror="alert(1)">Tricky & <b>bold</b>'
    topic = "<script>alert(2)</script>"
    created = _upload(server, shared.token, title, "<i>not italic</i>",
                      make_xmind_json(title, [topic]), filename="tricky.xmind")
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    page.goto(created["url"])
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page.locator(".map .description")).to_have_text("<i>not italic</i>")
    expect(page.locator("ul.outline ul li")).to_have_text([topic])
    expect(page.locator("main script, main b, main i, main img:not(.thumbnail)")).to_have_count(0)
    page.goto("/")
    expect(page.locator("#newest-heading + ul li.map-card .title", has_text="Tricky")
           ).to_have_text([title])
    expect(page.locator("main script, main b, main img[src=x]")).to_have_count(0)
    assert dialogs == []
