"""Sharing and managing maps on the site, over HTTP, on SQLite and on PostgreSQL with Redis:
the upload form (signed-in only; every refusal beside its field with nothing stored; a body too
large refused before it is read; CSRF), ``/account/maps`` with every visibility, paged, and
changing or deleting a map (its owner only, after asking, each saying what it did)."""

from __future__ import annotations

import io
import re
import secrets
import zipfile
from collections.abc import Iterator

import httpx
import pytest

from tests.support.mindmaps import make_freemind, make_xmind_json
from tests.support.operator_cli import operator_json
from tests.support.seed import Account, Seeder
from tests.support.server import LiveServer
from tests.web.library_pages_support import (
    cards,
    csrf,
    described_by,
    field_error,
    follow,
    notice_after,
    public_id_of,
    share,
    signed_in,
)
from tests.web.maps_api_support import count

TABLES = ("maps", "map_files", "map_tags", "map_search")


def _stored(server: LiveServer) -> tuple[int, ...]:
    return tuple(count(server, table) for table in TABLES)


@pytest.fixture(scope="module")
def owner(seeder: Seeder) -> Account:
    return seeder.user("sharer")


@pytest.fixture(scope="module")
def category(server: LiveServer) -> str:
    slug = "trips-" + secrets.token_hex(3)
    operator_json(server, "category", "add", slug, "--name", "Trips")
    return slug


@pytest.fixture()
def client(server: LiveServer, owner: Account) -> Iterator[httpx.Client]:
    with signed_in(server, owner) as signed:
        yield signed


# --- sharing ------------------------------------------------------------------------------------

def test_signed_out_visitors_are_sent_to_sign_in_and_back(server: LiveServer) -> None:
    before = _stored(server)
    with httpx.Client(base_url=server.url, timeout=60) as anonymous:
        for path in ("/account/maps/new", "/account/maps"):
            answer = anonymous.get(path)
            assert answer.status_code == 303
            assert answer.headers["location"] == "/signin?next=" + path.replace("/", "%2F")
        posted = anonymous.post("/account/maps/new", data={"title": "x"}, files={
            "map": ("m.xmind", make_xmind_json("x"), "application/octet-stream")})
        assert posted.status_code == 303 and posted.headers["location"].startswith("/signin?")
    assert _stored(server) == before


def test_sharing_from_the_site(client: httpx.Client, owner: Account, category: str) -> None:
    form = client.get("/account/maps/new")
    assert form.status_code == 200
    for text in ('enctype="multipart/form-data"', 'type="file"', 'name="visibility"',
                 'value="unlisted"', 'value="private"', f'value="{category}"',
                 "/static/upload.js"):
        assert text in form.text
    shared = share(client, "Weekend trip", description="Two days.\nOne night.",
                   tags="Hiking, travel", visibility="public", category=category)
    assert notice_after(client, shared) == (
        "Your map is shared: it is listed on the site and found by search.")
    public_id = public_id_of(shared)
    made = client.get(f"/maps/{public_id}").json()
    assert (made["title"], made["description"], made["tags"], made["visibility"],
            made["category"]["slug"]) == ("Weekend trip", "Two days.\nOne night.",
                                          ["hiking", "travel"], "public", category)
    assert made["author"] == owner.username
    # The same pipeline as POST /maps: the title may come from the map, the file stays as sent.
    content = make_freemind("From the root", ["a", "b"])
    private = share(client, "", content=content, filename="r.mm", visibility="private")
    assert notice_after(client, private) == "Your map is saved: only you can see it."
    assert client.get(f"/mindmaps/{public_id_of(private)}/files/map").content == content
    assert client.get(f"/maps/{public_id_of(private)}").status_code == 404  # no token: private
    unlisted = share(client, "Only by link", visibility="unlisted")
    assert notice_after(client, unlisted) == (
        "Your map is shared: only people who have its link can see it.")


def _damaged_xmind() -> bytes:
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as archive:
        archive.writestr("content.json", "[{not json")
    return data.getvalue()


@pytest.mark.parametrize("fields, content, field, status, words", [
    ({}, b"\x00\x01 just some bytes \xff", "map", 415, "not a mind map the library can read"),
    ({}, _damaged_xmind(), "map", 422, "looks damaged"),
    ({}, b"", "map", 400, "Choose the file"),
    ({"tags": ",".join(f"t{n}" for n in range(11))}, None, "tags", 400, "at most 10 tags"),
    ({"tags": "good, c++"}, None, "tags", 400, "may hold only letters"),
    ({"visibility": "friends"}, None, "visibility", 400, "Choose who can see it"),
    ({"category": "no-such-category"}, None, "category", 400, "There is no such category"),
])
def test_a_refused_upload_says_why_beside_its_field_and_stores_nothing(
        server: LiveServer, client: httpx.Client, fields: dict[str, str], content: bytes | None,
        field: str, status: int, words: str) -> None:
    before = _stored(server)
    filename = "" if content == b"" else "upload.xmind"
    answer = share(client, "Refused map", content=content, filename=filename,
                   description="kept", **fields)
    assert answer.status_code == status, answer.text[:2000]
    message = field_error(answer.text, field)
    assert message is not None and words.lower() in message.lower(), message
    element = {"map": "map-file"}.get(field, field)
    assert f"error-{field}" in described_by(answer.text, element)
    assert re.search(rf'id="{element}"[^>]*aria-invalid="true"', answer.text)
    assert field_error(answer.text, "form") == (
        "Nothing was shared. Correct what is marked below, then choose the file again.")
    # What was typed is kept, so only the file needs choosing again.
    assert 'value="Refused map"' in answer.text and ">kept</textarea>" in answer.text
    assert _stored(server) == before


def test_a_not_a_map_message_names_the_formats(client: httpx.Client) -> None:
    answer = share(client, "x", content=b"plain words, no outline at all", filename="n.txt")
    assert answer.status_code == 415
    message = field_error(answer.text, "map") or ""
    for name in ("XMind", "FreeMind", "Freeplane", "MindManager", "OPML", "Markdown"):
        assert name in message


def test_a_file_over_the_limit_is_too_large(server: LiveServer, client: httpx.Client) -> None:
    """Just over the file limit (the API's, 20 MiB here): the parser's 413. Far over it: refused
    by its Content-Length before the body is read, or cut off while it streams."""
    before = _stored(server)
    answer = share(client, "Big", content=b"\0" * (20 * 1024 * 1024 + 1), filename="big.xmind")
    assert answer.status_code == 413
    assert field_error(answer.text, "map") == (
        "This file is too large: a map may be at most 20 MiB.")
    token = csrf(client)
    boundary = "b0undary"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n"
            f"{token}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"map\"; "
            "filename=\"huge.md\"\r\n\r\n").encode()

    def body(chunks: int) -> Iterator[bytes]:
        yield head
        for _ in range(chunks):
            yield b"- x\n" * 16384  # 64 KiB

    declared = client.post(
        "/account/maps/new", content=body(1024),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}",
                 "Content-Length": str(len(head) + 1024 * 65536)})
    assert declared.status_code == 413
    assert field_error(declared.text, "map") == (
        "This file is too large: a map may be at most 20 MiB.")
    streamed = client.post(  # no Content-Length: sent chunked, cut off past the bound
        "/account/maps/new", content=body(400),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert streamed.status_code == 413 and "This file is too large" in streamed.text
    assert _stored(server) == before


def test_the_form_checks_its_csrf_token(server: LiveServer, client: httpx.Client,
                                        seeder: Seeder) -> None:
    before = _stored(server)
    for token in ("", "not-the-token"):
        answer = share(client, "Forged", token=token)
        assert answer.status_code == 403 and "Your form expired" in answer.text
    # Another person's token does not do either.
    with signed_in(server, seeder.user("other")) as other:
        answer = share(client, "Forged", token=csrf(other))
        assert answer.status_code == 403
    assert _stored(server) == before


# --- /account/maps, edit, delete ----------------------------------------------------------------

def test_your_maps_lists_every_visibility_paged(server: LiveServer, seeder: Seeder) -> None:
    person = seeder.user("many")
    with signed_in(server, person) as client:
        token = csrf(client)
        made = []
        for n in range(26):
            visibility = ("public", "unlisted", "private")[n % 3]
            made.append(public_id_of(share(client, f"Mine {n}", token=token,
                                           visibility=visibility)))
        ids, pages = follow(client, "/account/maps")
        assert ids == list(reversed(made)) and pages == 2
        page = client.get("/account/maps").text  # the newest 24: maps 25 down to 2
        assert 'aria-current="page">Your maps</a>' in page
        shown = range(2, 26)
        assert page.count('class="badge visibility-private"') == sum(
            1 for n in shown if n % 3 == 2)
        assert page.count('class="badge visibility-unlisted"') == sum(
            1 for n in shown if n % 3 == 1)
        first = made[-1]
        for link in (f'href="/mindmaps/{first}/mine-25"',
                     f'href="/account/maps/{first}/edit"',
                     f'href="/account/maps/{first}/delete"'):
            assert link in page


def _edit(client: httpx.Client, public_id: str, **values: str) -> httpx.Response:
    fields = {"title": "", "description": "", "tags": "", "visibility": "public",
              "category": "", **values}
    token = csrf(client, f"/account/maps/{public_id}/edit")
    return client.post(f"/account/maps/{public_id}/edit", files={
        name: (None, value) for name, value in {"csrf_token": token, **fields}.items()})


def _fields(client: httpx.Client, public_id: str) -> tuple[object, ...]:
    shown = client.get(f"/maps/{public_id}", headers={}).json()
    return (shown["title"], shown["description"], shown["tags"], shown["visibility"],
            shown["category"])


def test_the_owner_edits_a_map(server: LiveServer, client: httpx.Client,
                               category: str) -> None:
    public_id = public_id_of(share(client, "Before the change", tags="old"))
    form = client.get(f"/account/maps/{public_id}/edit")
    assert form.status_code == 200
    assert 'value="Before the change"' in form.text and 'value="old"' in form.text
    changed = _edit(client, public_id, title="After the change", description="New words.",
                    tags="New, Tags", visibility="unlisted", category=category)
    assert changed.headers["location"] == f"/mindmaps/{public_id}/after-the-change"
    assert notice_after(client, changed) == "Saved your changes to “After the change”."
    assert _fields(client, public_id) == ("After the change", "New words.", ["new", "tags"],
                                          "unlisted", {"slug": category, "name": "Trips"})
    # The old address leads to the new one.
    assert client.get(f"/mindmaps/{public_id}/before-the-change").headers["location"] == (
        f"/mindmaps/{public_id}/after-the-change")
    again = _edit(client, public_id, title="After the change", description="New words.",
                  tags="new, tags", visibility="unlisted", category=category)
    assert notice_after(client, again) == "Nothing changed."


@pytest.mark.parametrize("values, field, words", [
    ({"title": "  "}, "title", "A title cannot be empty."),
    ({"title": "t" * 201}, "title", "at most 200 characters"),
    ({"tags": "a, b, c, d, e, f, g, h, i, j, k"}, "tags", "at most 10 tags"),
    ({"tags": "no/slash"}, "tags", "may hold only letters"),
    ({"visibility": "everyone"}, "visibility", "Choose who can see it"),
    ({"category": "not-a-category"}, "category", "There is no such category"),
    ({"description": "d" * 10_001}, "description", "at most 10000 characters"),
])
def test_a_refused_change_names_its_field_and_changes_nothing(
        client: httpx.Client, values: dict[str, str], field: str, words: str) -> None:
    public_id = public_id_of(share(client, "Unchanged", tags="kept"))
    before = _fields(client, public_id)
    answer = _edit(client, public_id, **{"title": "Changed", "tags": "other", **values})
    assert answer.status_code == 400, answer.text[-3000:]
    message = field_error(answer.text, field)
    assert message is not None and words in message, answer.text[-3000:]
    assert f"error-{field}" in described_by(answer.text, field)
    assert "Nothing was changed." in answer.text
    assert _fields(client, public_id) == before


def test_only_the_owner_may_edit_or_delete(server: LiveServer, client: httpx.Client,
                                          seeder: Seeder) -> None:
    public_id = public_id_of(share(client, "Not yours"))
    before = _fields(client, public_id)
    with signed_in(server, seeder.user("intruder")) as other:
        token = csrf(other, "/account/maps/new")
        for path in (f"/account/maps/{public_id}/edit", f"/account/maps/{public_id}/delete"):
            assert other.get(path).status_code == 404
            posted = other.post(path, data={"csrf_token": token, "title": "Taken",
                                            "visibility": "public"})
            assert posted.status_code == 404 and "no map of yours" in posted.text
        assert other.get("/account/maps/zzzzzzzz/edit").status_code == 404
    with httpx.Client(base_url=server.url, timeout=60) as anonymous:
        for path in (f"/account/maps/{public_id}/edit", f"/account/maps/{public_id}/delete"):
            answer = anonymous.get(path)
            assert answer.status_code == 303 and answer.headers["location"].startswith("/signin")
            posted = anonymous.post(path, data={"title": "Taken"})
            assert posted.status_code == 403
    assert _fields(client, public_id) == before


def test_deleting_asks_first_then_deletes_everything(server: LiveServer,
                                                    client: httpx.Client) -> None:
    public_id = public_id_of(share(client, "Short lived", tags="brief"))
    confirm = client.get(f"/account/maps/{public_id}/delete")
    assert confirm.status_code == 200
    assert "Delete “Short lived”?" in confirm.text and "cannot be brought back" in confirm.text
    assert f'action="/account/maps/{public_id}/delete"' in confirm.text
    assert f'href="/mindmaps/{public_id}/short-lived">Cancel</a>' in confirm.text
    refused = client.post(f"/account/maps/{public_id}/delete", data={"csrf_token": "forged"})
    assert refused.status_code == 403
    assert client.get(f"/mindmaps/{public_id}/short-lived").status_code == 200
    token = csrf(client, f"/account/maps/{public_id}/delete")
    deleted = client.post(f"/account/maps/{public_id}/delete", data={"csrf_token": token})
    assert deleted.headers["location"] == "/account/maps"
    assert notice_after(client, deleted) == "Deleted “Short lived”."
    for path in (f"/mindmaps/{public_id}/short-lived", f"/mindmaps/{public_id}/files/map",
                 f"/mindmaps/{public_id}/files/thumbnail.png", f"/maps/{public_id}",
                 f"/account/maps/{public_id}/edit"):
        assert client.get(path).status_code == 404, path
    assert public_id not in cards(client.get("/account/maps").text)
    row = count(server, "maps", f"public_id = '{public_id}'")
    assert row == 0
