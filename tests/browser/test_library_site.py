"""The library on the site, in Chromium: sharing a map with the file picker and by dragging it
onto the form, a refused file named beside its field, the map page's picture folding and
zooming, its outline without JavaScript, and changing and deleting a map after asking.

Screenshots go to ``$OPENPLATE_TEST_SHOTS`` when it is set."""

from __future__ import annotations

import base64
import os
import re
import secrets
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from openplate.library.model import Topic
from tests.browser.conftest import Member
from tests.browser.helpers import at_path
from tests.support.mindmaps import make_freemind_outline, make_xmind_json
from tests.support.operator_cli import operator_json
from tests.support.server import LiveServer

pytestmark = pytest.mark.browser

MAP_PAGE = re.compile(r"^https?://[^/]+/mindmaps/[0-9a-z]+/[a-z0-9-]+$")


def _shot(page: Page, name: str) -> None:
    folder = os.environ.get("OPENPLATE_TEST_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        width = page.viewport_size["width"] if page.viewport_size else 0
        page.screenshot(path=str(Path(folder) / f"{name}-{width}.png"), full_page=True)


@pytest.fixture(scope="module")
def category(server: LiveServer) -> tuple[str, str]:
    slug = "browser-" + secrets.token_hex(3)
    operator_json(server, "category", "add", slug, "--name", "Browser trips")
    return slug, "Browser trips"


def _notice(page: Page) -> str:
    return page.get_by_role("status").inner_text().strip()


def _share(page: Page, title: str) -> None:
    page.get_by_label("Title").fill(title)
    page.get_by_role("button", name="Share the map").click()


def test_share_with_the_file_picker(member_page: Page, category: tuple[str, str]) -> None:
    page = member_page
    page.goto("/account/maps/new")
    content = make_xmind_json("Picked root", ["One", "Two"])
    page.get_by_label("Mind-map file").set_input_files(files=[{
        "name": "picked.xmind", "mimeType": "application/octet-stream", "buffer": content}])
    expect(page.locator("[data-chosen]")).to_have_text(re.compile(r"^Chosen: picked\.xmind \("))
    page.get_by_label("Description (optional)").fill("Picked.\nFrom the picker.")
    page.get_by_label("Tags (optional)").fill("Picked, files")
    page.get_by_label("Unlisted").check()
    page.get_by_label("Category (optional)").select_option(category[0])
    _share(page, "Picked with the picker")
    expect(page).to_have_url(MAP_PAGE)
    assert _notice(page) == "Your map is shared: only people who have its link can see it."
    expect(page.get_by_role("heading", level=1)).to_have_text("Picked with the picker")
    expect(page.locator(".map .badge")).to_have_text(
        "Unlisted: only people with the link can see it")
    expect(page.locator(".map .tags a")).to_have_text(["files", "picked"])
    expect(page.get_by_role("link", name=category[1])).to_be_visible()
    expect(page.locator(".map .description")).to_have_text("Picked.\nFrom the picker.")


DROP_JS = """([selector, name, b64, size]) => {
  const zone = document.querySelector(selector);
  const bytes = b64 ? Uint8Array.from(atob(b64), c => c.charCodeAt(0)) : new Uint8Array(size);
  const data = new DataTransfer();
  data.items.add(new File([bytes], name, {type: 'application/octet-stream'}));
  for (const type of ['dragenter', 'dragover']) {
    zone.dispatchEvent(new DragEvent(type, {bubbles: true, cancelable: true, dataTransfer: data}));
  }
  const over = zone.classList.contains('dropzone-over');
  zone.dispatchEvent(new DragEvent('drop', {bubbles: true, cancelable: true, dataTransfer: data}));
  return over;
}"""


def _drop(page: Page, name: str, content: bytes | None = None, size: int = 0) -> bool:
    encoded = base64.b64encode(content).decode() if content is not None else ""
    return bool(page.evaluate(DROP_JS, ["[data-dropzone]", name, encoded, size]))


def test_share_by_drag_and_drop(member_page: Page) -> None:
    page = member_page
    page.goto("/account/maps/new")
    expect(page.locator("#hint-map")).to_have_text("Choose a file, or drop it here.")
    root = Topic("Dropped root", (Topic("Left", note="A note"), Topic("Right")))
    assert _drop(page, "dropped.mm", make_freemind_outline(root))  # the zone lit up
    assert page.locator("#map-file").evaluate("input => input.files[0].name") == "dropped.mm"
    expect(page.locator("[data-chosen]")).to_have_text(re.compile(r"^Chosen: dropped\.mm \("))
    expect(page.locator("[data-dropzone]")).not_to_have_class(re.compile("dropzone-over"))
    page.get_by_label("Private").check()
    _share(page, "")
    expect(page).to_have_url(MAP_PAGE)
    assert _notice(page) == "Your map is saved: only you can see it."
    expect(page.get_by_role("heading", level=1)).to_have_text("Dropped root")
    expect(page.locator("ul.outline .note")).to_have_text(["A note"])


def test_a_refused_file_is_named_beside_its_field(member_page: Page) -> None:
    page = member_page
    page.goto("/account/maps/new")
    # Over the limit: said before anything is sent.
    _drop(page, "huge.xmind", size=20 * 1024 * 1024 + 1)
    too_large = page.locator("[data-too-large]")
    expect(too_large).to_have_text("This file is too large: a map may be at most 20 MiB.")
    expect(page.locator("#map-file")).to_have_attribute(
        "aria-describedby", re.compile(r"\btoo-large-now\b"))
    # Not a map: the server says so beside the field, and keeps what was typed.
    page.get_by_label("Mind-map file").set_input_files(files=[{
        "name": "notes.txt", "mimeType": "text/plain", "buffer": b"\x00\x01 not a mind map"}])
    expect(too_large).to_be_hidden()
    page.get_by_label("Tags (optional)").fill("kept, tags")
    _share(page, "Not a map")
    expect(page.get_by_role("alert")).to_have_text(
        "Nothing was shared. Correct what is marked below, then choose the file again.")
    field = page.get_by_label("Mind-map file")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_accessible_description(re.compile(
        "This is not a mind map the library can read.*XMind.*FreeMind.*OPML"))
    expect(page.get_by_label("Title")).to_have_value("Not a map")
    expect(page.get_by_label("Tags (optional)")).to_have_value("kept, tags")
    _shot(page, "upload-error")


def test_the_picture_folds_and_zooms(open_context: Callable[..., BrowserContext],
                                     member: Member) -> None:
    page = open_context(storage_state=member.state).new_page()
    page.goto("/account/maps/new")
    page.get_by_label("Mind-map file").set_input_files(files=[{
        "name": "tree.xmind", "mimeType": "application/octet-stream",
        "buffer": make_xmind_json("Tree", ["Branch A", "Branch B"])}])
    _share(page, "Folding tree")
    expect(page).to_have_url(MAP_PAGE)
    svg = page.locator("figure.mapview svg.mindmap")
    expect(page.locator(".mapview-tools")).to_be_visible()
    root = svg.locator('g.mm-node[data-id="0"]')
    expect(root).to_have_attribute("aria-expanded", "true")
    root.click()
    expect(root).to_have_attribute("aria-expanded", "false")
    expect(svg.locator('g.mm-node[data-parent="0"]').first).to_be_hidden()
    root.click()
    expect(svg.locator('g.mm-node[data-parent="0"]').first).to_be_visible()
    before = svg.evaluate("s => s.viewBox.baseVal.width")
    page.get_by_role("button", name="Zoom in").click()
    page.wait_for_function(  # zooming in shows less of the picture: a narrower viewBox
        f"() => document.querySelector('svg.mindmap').viewBox.baseVal.width < {before}")
    page.get_by_role("button", name="Fit the whole map").click()
    page.wait_for_function(
        f"() => document.querySelector('svg.mindmap').viewBox.baseVal.width == {before}")
    _shot(page, "map-picture")


def test_the_outline_shows_without_javascript(open_context: Callable[..., BrowserContext],
                                              member: Member) -> None:
    page = open_context(storage_state=member.state).new_page()
    page.goto("/account/maps/new")
    root = Topic("Readable", (Topic("First", (Topic("Deeper"),), note="Noted"),
                              Topic("Linked", link="https://example.org/")))
    page.get_by_label("Mind-map file").set_input_files(files=[{
        "name": "readable.mm", "mimeType": "application/octet-stream",
        "buffer": make_freemind_outline(root)}])
    _share(page, "")
    expect(page).to_have_url(MAP_PAGE)
    url = page.url
    plain = open_context(java_script_enabled=False).new_page()
    plain.goto(url)
    outline = plain.locator("ul.outline")
    expect(outline).to_be_visible()
    expect(outline.locator("li")).to_have_count(4)
    expect(outline.locator(".note")).to_have_text(["Noted"])
    link = outline.get_by_role("link", name="Linked")
    expect(link).to_have_attribute("href", "https://example.org/")
    expect(link).to_have_attribute("rel", "nofollow ugc noopener")
    expect(plain.locator("figure.mapview svg.mindmap")).to_be_visible()
    expect(plain.locator(".mapview-tools")).to_have_count(0)
    _shot(plain, "map-without-javascript")


def test_edit_then_delete_after_asking(member_page: Page) -> None:
    page = member_page
    page.goto("/account/maps/new")
    page.get_by_label("Mind-map file").set_input_files(files=[{
        "name": "e.xmind", "mimeType": "application/octet-stream",
        "buffer": make_xmind_json("Editable")}])
    _share(page, "Before editing")
    expect(page).to_have_url(MAP_PAGE)
    page.get_by_role("link", name="Edit", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Edit “Before editing”")
    page.get_by_label("Title").fill("")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_label("Title")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Title")).to_have_accessible_description(
        re.compile("A title cannot be empty."))
    _shot(page, "edit-error")
    page.get_by_label("Title").fill("After editing")
    page.get_by_label("Tags (optional)").fill("edited")
    page.get_by_role("button", name="Save changes").click()
    expect(page).to_have_url(re.compile(r"/after-editing$"))
    assert _notice(page) == "Saved your changes to “After editing”."
    expect(page.locator(".map .tags a")).to_have_text(["edited"])
    map_url = page.url
    page.get_by_role("link", name="Delete", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Delete “After editing”?")
    _shot(page, "delete-confirm")
    page.get_by_role("link", name="Cancel").click()
    expect(page).to_have_url(map_url)
    page.get_by_role("link", name="Delete", exact=True).click()
    page.get_by_role("button", name="Delete this map").click()
    expect(page).to_have_url(at_path("/account/maps"))
    assert _notice(page) == "Deleted “After editing”."
    response = page.goto(map_url)
    assert response is not None and response.status == 404
