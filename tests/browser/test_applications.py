"""/applications: registering and managing OAuth applications in a real browser."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import BrowserSeeder, Member
from tests.browser.helpers import at_path, secret_accepted, sign_in
from tests.support.server import LiveServer

pytestmark = pytest.mark.browser

HIDDEN = "Hidden. Rotate it to get a new one."


def _unique(prefix: str) -> str:
    return f"{prefix} {time.time_ns() % 10**12}"


def _uris(page: Page) -> list[str]:
    return page.get_by_label("Redirect URIs").input_value().splitlines()


def test_new_application_shows_its_secret_once(
    page: Page, seed: BrowserSeeder, server: LiveServer
) -> None:
    sign_in(page, seed.user("dev"))
    page.goto("/applications")
    expect(page.get_by_text("You have no applications yet.")).to_be_visible()

    name = _unique("Browser App")
    page.get_by_label("Client Name").fill(name)
    page.get_by_label("Homepage").fill("https://browser-app.example/")
    with page.expect_response(lambda r: r.url.endswith("/applications/new")) as created:
        page.get_by_role("button", name="Generate Application").click()
    assert created.value.status == 303  # a reload of the page it leads to posts nothing
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    expect(page.get_by_role("status")).to_have_text("Application created. Add a redirect URI to use it.")
    client_id = page.locator("#client-id").inner_text()
    secret = page.locator("#client-secret").inner_text()
    assert client_id.startswith("opc_") and len(client_id) > 10
    assert secret.startswith("opcs_") and len(secret) > 20
    expect(page.locator(".credentials .warning")).to_contain_text("will not be shown again")
    assert secret_accepted(server.url, client_id, secret), "the secret shown must be the real one"

    # Back through the list to the application's own page: the secret is gone for good.
    page.get_by_role("link", name="All applications").click()
    expect(page).to_have_url(server.url + "/applications")
    row = page.locator("table.apps tbody tr", has_text=client_id)
    expect(row).to_have_count(1)
    expect(row.locator("td").first).to_have_text(name)
    row.get_by_role("link", name=name).click()
    expect(page).to_have_url(f"{server.url}/applications/{client_id}")
    expect(page.locator("#client-id")).to_have_text(client_id)
    expect(page.locator("#client-secret")).to_have_count(0)
    expect(page.locator(".credentials dd").nth(1)).to_have_text(HIDDEN)
    page.reload()
    expect(page.locator(".credentials dd").nth(1)).to_have_text(HIDDEN)
    assert secret not in page.content()


def test_public_application_has_no_secret(member_page: Page) -> None:
    page = member_page
    page.goto("/applications")
    page.get_by_label("Client Name").fill(_unique("Desktop App"))
    page.get_by_label("Homepage").fill("http://localhost:8080/")
    page.get_by_label("Public client").check()
    page.get_by_role("button", name="Generate Application").click()
    expect(page.locator(".credentials dd").nth(1)).to_have_text(
        "None: this is a public client (PKCE required)."
    )
    expect(page.locator("#client-secret")).to_have_count(0)
    expect(page.get_by_role("link", name="Rotate secret")).to_have_count(0)
    expect(page.get_by_label("Require PKCE")).to_be_checked()
    expect(page.get_by_label("Require PKCE")).to_be_disabled()


def test_redirect_uris_and_settings_persist_and_bad_ones_are_refused(
    member_page: Page, member: Member, seed: BrowserSeeder, server: LiveServer
) -> None:
    page = member_page
    app = seed.app(member.account, redirect_uris=("http://localhost:13524/",),
                   name=_unique("Settings"))
    page.goto(f"/applications/{app.client_id}")
    assert _uris(page) == ["http://localhost:13524/"]
    expect(page.get_by_label("Require PKCE")).not_to_be_checked()

    good = ["http://localhost:13524/callback", "https://app.example.com/oauth/callback"]
    renamed = _unique("Renamed")
    page.get_by_label("Client Name").fill(renamed)
    page.get_by_label("Redirect URIs").fill("\n".join(good) + "\n")
    page.get_by_label("Require PKCE").check()
    page.get_by_role("button", name="Update").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(renamed)
    expect(page).to_have_url(f"{server.url}/applications/{app.client_id}")  # redirect-after-POST

    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text(renamed)
    assert _uris(page) == good
    expect(page.get_by_label("Require PKCE")).to_be_checked()
    expect(page.get_by_role("alert")).to_have_count(0)

    # Plain http to a non-loopback host is refused, with the reason, and nothing is saved.
    bad = "http://example.com/cb"
    page.get_by_label("Redirect URIs").fill(f"{good[0]}\n{bad}")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="Update").click()
    assert answer.value.status == 400
    expect(page.get_by_role("alert")).to_have_text(
        f"{bad}: Plain http is allowed only for loopback hosts (localhost, 127.0.0.1, [::1])."
    )
    assert _uris(page) == [good[0], bad], "the form keeps what was typed, to correct it"

    # No redirect URI at all is refused too.
    page.get_by_label("Redirect URIs").fill("")
    page.get_by_role("button", name="Update").click()
    expect(page.get_by_role("alert")).to_have_text("Enter at least one redirect URI.")

    page.goto(f"/applications/{app.client_id}")
    assert _uris(page) == good
    page.goto("/applications")
    row = page.locator("table.apps tbody tr", has_text=app.client_id)
    expect(row.locator("td").nth(2)).to_have_text("2")


def _rotate(page: Page) -> None:
    """From the application's page: Rotate secret, then confirm."""
    page.get_by_role("link", name="Rotate secret").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Rotate the secret of")
    page.get_by_role("button", name="Rotate secret").click()
    expect(page.get_by_role("status")).to_contain_text("New secret made")


def test_rotate_secret_shows_a_new_one_and_retires_the_old(
    member_page: Page, member: Member, seed: BrowserSeeder, server: LiveServer
) -> None:
    page = member_page
    app = seed.app(member.account, name=_unique("Rotating"))
    assert app.client_secret is not None
    page.goto(f"/applications/{app.client_id}")
    expect(page.locator("#client-secret")).to_have_count(0)

    _rotate(page)
    first = page.locator("#client-secret").inner_text()
    assert first.startswith("opcs_") and first != app.client_secret
    _rotate(page)
    expect(page.locator("#client-secret")).not_to_have_text(first)
    second = page.locator("#client-secret").inner_text()
    assert second.startswith("opcs_") and second not in (first, app.client_secret)

    assert not secret_accepted(server.url, app.client_id, app.client_secret)
    assert not secret_accepted(server.url, app.client_id, first)
    assert secret_accepted(server.url, app.client_id, second)

    page.goto(f"/applications/{app.client_id}")
    expect(page.locator("#client-secret")).to_have_count(0)


def test_delete_removes_the_application(
    member_page: Page, member: Member, seed: BrowserSeeder, server: LiveServer
) -> None:
    page = member_page
    keep = seed.app(member.account, name=_unique("Keeper"))
    doomed = seed.app(member.account, name=_unique("Doomed"))
    page.goto("/applications")
    rows = page.locator("table.apps tbody tr")
    before = rows.count()
    expect(rows.filter(has_text=doomed.client_id)).to_have_count(1)

    page.get_by_role("link", name=doomed.name).click()
    page.get_by_role("link", name="Delete application").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Delete {doomed.name}?")
    page.get_by_role("button", name="Delete application").click()
    expect(page).to_have_url(server.url + "/applications")
    expect(page.get_by_role("status")).to_have_text(f"Deleted {doomed.name}.")
    expect(rows).to_have_count(before - 1)
    expect(rows.filter(has_text=doomed.client_id)).to_have_count(0)
    expect(page.locator("table.apps")).to_contain_text(keep.name)
    expect(page.locator("table.apps")).not_to_contain_text(doomed.name)

    response = page.goto(f"/applications/{doomed.client_id}")
    assert response is not None and response.status == 404
    expect(page.get_by_role("alert")).to_have_text("No such application among yours.")
    assert doomed.client_secret is not None
    assert not secret_accepted(server.url, doomed.client_id, doomed.client_secret)


def test_another_user_cannot_see_or_change_the_application(
    member_page: Page, seed: BrowserSeeder, server: LiveServer
) -> None:
    page = member_page  # the intruder
    app = seed.app(name=_unique("Private"))  # the shared developer's
    assert app.client_secret is not None

    response = page.goto(f"/applications/{app.client_id}")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
    expect(page.get_by_role("alert")).to_have_text("No such application among yours.")
    assert app.name not in page.content() and app.client_id not in page.content()

    page.goto("/applications")
    expect(page.locator("main")).not_to_contain_text(app.name)

    # Even a hand-made form with the intruder's own valid CSRF token cannot rotate or delete it.
    for action in ("rotate-secret", "delete"):
        page.goto("/applications")
        page.locator("form[action='/applications/new']").evaluate(
            "(form, action) => { form.noValidate = true; form.action = action;"
            " form.enctype = 'application/x-www-form-urlencoded'; form.submit(); }",
            f"/applications/{app.client_id}/{action}",
        )
        expect(page).to_have_url(at_path(f"/applications/{app.client_id}/{action}"))
        expect(page.get_by_role("alert")).to_have_text("No such application among yours.")
    assert secret_accepted(server.url, app.client_id, app.client_secret)
