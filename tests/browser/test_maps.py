"""A mind map shared through the API, seen in a real browser: its page, thumbnail and download."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, Response, expect

from tests.browser.conftest import BrowserSeeder
from tests.browser.helpers import access_token
from tests.support.mindmaps import make_png, make_xmind_json
from tests.support.server import LiveServer

pytestmark = pytest.mark.browser

MAP_SCREENSHOT = "/tmp/openplate-map.png"  # noqa: S108 - a fixed path for a human


def test_uploaded_map_page_thumbnail_download_and_home(
    page: Page, seed: BrowserSeeder, server: LiveServer, tmp_path: Path
) -> None:
    author = seed.user("mapper")
    app = seed.app(seed.user("dev"))
    token = access_token(server.url, author, app)
    title = f"Garden plan {time.time_ns() % 10**9}"
    description = "What we grow this year.\nAnd where."
    xmind = make_xmind_json(title, ["Vegetables", "Herbs", "Flowers"], thumbnail=make_png(64, 48))
    upload = httpx.post(
        server.url + "/maps", timeout=20, headers={"Authorization": f"Bearer {token}"},
        data={"title": title, "description": description},
        files={"map": ("garden.xmind", xmind, "application/octet-stream")},
    )
    assert upload.status_code == 201, upload.text
    created = upload.json()
    assert created["url"].startswith(server.url + "/mindmaps/")

    images: list[Response] = []
    page.on("response", lambda r: images.append(r) if "thumbnail.png" in r.url else None)
    response = page.goto(created["url"])  # waits for "load": the thumbnail has arrived
    assert response is not None and response.status == 200
    expect(page).to_have_title(f"{title} · Openplate")
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page.locator(".map .author")).to_have_text(author.username)
    expect(page.locator(".map .small").first).to_contain_text("4 topics")
    expect(page.locator(".map .description")).to_have_text(description)

    outline = page.locator("ul.outline")
    expect(outline.locator(":scope > li")).to_have_count(1)
    expect(outline.locator(":scope > li > ul > li")).to_have_text(["Vegetables", "Herbs", "Flowers"])
    root_text = outline.locator(":scope > li").evaluate("li => li.firstChild.textContent")
    assert root_text == title

    thumbnail = page.locator("img.thumbnail")
    expect(thumbnail).to_be_visible()
    expect(thumbnail).to_have_attribute("alt", f"Thumbnail of {title}")
    assert thumbnail.evaluate("img => img.complete && img.naturalWidth") == 64
    assert thumbnail.evaluate("img => img.naturalHeight") == 48
    assert [r.status for r in images] == [200]
    assert images[0].headers["content-type"] == "image/png"
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
    page.goto("/")
    card = page.locator("li.map-card", has_text=title)
    expect(card).to_have_count(1)
    expect(card.locator(".small")).to_have_text(f"by {author.username}")
    expect(card.locator("img")).to_have_count(1)
    card.get_by_role("link").click()
    expect(page).to_have_url(created["url"])


def _filename(title: str) -> str:
    """The slug the site makes of our titles (lower case, dashes), plus the extension."""
    return "-".join(title.lower().split()) + ".xmind"
