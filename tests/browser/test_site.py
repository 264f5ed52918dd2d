"""Site-wide behaviour in a real browser: where sign-in may send you, missing pages, /docs."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from playwright.sync_api import Page, Request, expect

from tests.support.server import LiveServer

pytestmark = pytest.mark.browser

OFF_SITE_TARGETS = [
    "//evil.example/x",
    "/\\evil.example/x",
    "https://evil.example/x",
    "/\t/evil.example/x",
    "javascript:alert(1)",
    "http:evil.example",
]


def test_next_after_sign_in_never_leaves_the_site(member_page: Page, server: LiveServer) -> None:
    page = member_page
    elsewhere: list[str] = []

    def record(request: Request) -> None:
        if not request.url.startswith(server.url + "/"):
            elsewhere.append(request.url)

    page.on("request", record)
    page.route(lambda url: not url.startswith(server.url + "/"), lambda route: route.abort())
    page.on("dialog", lambda dialog: elsewhere.append("dialog: " + dialog.message))

    # Signed in, /signin sends you straight on to ?next= (the same check as after the form).
    page.goto("/signin?next=" + quote("/applications", safe=""))
    expect(page).to_have_url(server.url + "/applications")
    for target in OFF_SITE_TARGETS:
        page.goto("/signin?next=" + quote(target, safe=""))
        expect(page).to_have_url(server.url + "/")
        expect(page.get_by_role("heading", level=1)).to_have_text("The mind-map library")
    assert elsewhere == []


def test_unknown_map_shows_a_not_found_page(page: Page) -> None:
    response = page.goto("/mindmaps/zzzzzzzz/some-title")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Map not found")
    expect(page.get_by_role("alert")).to_have_text("There is no map at this address.")
    page.get_by_role("link", name="Back to Openplate").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("The mind-map library")


def test_api_documentation_page_renders(page: Page) -> None:
    page.goto("/")
    page.get_by_role("link", name="API documentation").click()
    expect(page).to_have_title("Openplate API")
    # Whichever Swagger UI draws first: the operations, or its "cannot read this" notice.
    expect(page.locator(".opblock, .version-pragma").first).to_be_visible()
    notice = page.locator(".version-pragma")  # "Unable to render this definition"
    assert notice.count() == 0, notice.inner_text()
    texts = page.locator(".opblock-summary-path").all_inner_texts()
    for path in ("/oauth/token", "/users/me", "/maps"):
        assert any(text.replace("\u200b", "") == path for text in texts), texts


def test_unknown_address_is_a_page_for_a_browser(page: Page) -> None:
    response = page.goto("/no/such/page")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
