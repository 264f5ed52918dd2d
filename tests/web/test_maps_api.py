"""The library's JSON API over HTTP, on SQLite and on PostgreSQL with Redis: uploads with tags,
visibility and category; who sees which map (owner, another user, nobody); ETag and 304; PATCH
refusals that change nothing; DELETE; the map pages' privacy. (Lists, pages and search:
test_maps_api_lists.py.)"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import httpx
import pytest

from tests.support.mindmaps import make_freemind, make_xmind_json
from tests.support.operator_cli import operator_json
from tests.support.seed import Account, App, Seeder
from tests.support.server import LiveServer
from tests.web.maps_api_support import (
    Uploader,
    count,
    map_row,
    token_for,
)

REDIRECT = "https://app.example.com/cb"


@pytest.fixture(scope="module")
def app(seeder: Seeder) -> App:
    return seeder.app(seeder.user("mapdev"), redirect_uris=(REDIRECT,))


@pytest.fixture(scope="module")
def owner(seeder: Seeder) -> Account:
    return seeder.user("owner")


@pytest.fixture(scope="module")
def owner_token(server: LiveServer, app: App, owner: Account) -> str:
    return token_for(server, app, owner)


@pytest.fixture(scope="module")
def other_token(server: LiveServer, seeder: Seeder, app: App) -> str:
    return token_for(server, app, seeder.user("other"))


@pytest.fixture(scope="module")
def narrow_token(server: LiveServer, app: App, owner: Account) -> str:
    return token_for(server, app, owner, scope="account")


@pytest.fixture(scope="module")
def category(server: LiveServer) -> str:
    slug = "c-" + secrets.token_hex(3)
    operator_json(server, "category", "add", slug, "--name", "Bees & Honey")
    return slug


@pytest.fixture()
def http(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


@pytest.fixture()
def uploader(http: httpx.Client, owner_token: str) -> Uploader:
    return Uploader(http, owner_token)


def _auth(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def test_upload_takes_tags_visibility_and_category(
    server: LiveServer, http: httpx.Client, uploader: Uploader, category: str,
) -> None:
    response = uploader.upload("Hive inspection", tags=" Bee Keeping , hives,HIVES ",
                               visibility="unlisted", category=category)
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"id", "url", "title", "description", "format", "download_url",
                         "thumbnail_url", "visibility", "tags", "category"}
    assert body["tags"] == ["bee-keeping", "hives"] and body["visibility"] == "unlisted"
    assert body["category"] == {"slug": category, "name": "Bees & Honey"}
    assert response.headers["location"] == body["url"]
    shown = http.get(f"/maps/{body['id']}").json()
    assert {k: shown[k] for k in ("tags", "visibility", "category", "title")} == {
        "tags": ["bee-keeping", "hives"], "visibility": "unlisted",
        "category": {"slug": category, "name": "Bees & Honey"}, "title": "Hive inspection"}
    # Without the new fields, an upload is public and untagged, as the XMind plug-in's are.
    plain = uploader.upload("Plain upload").json()
    assert (plain["visibility"], plain["tags"], plain["category"]) == ("public", [], None)


@pytest.mark.parametrize("fields, field", [
    ({"tags": ",".join(f"t{n}" for n in range(11))}, "tags"),
    ({"tags": "good, c++"}, "tags"),
    ({"tags": "x" * 41}, "tags"),
    ({"visibility": "friends"}, "visibility"),
    ({"category": "no-such-category"}, "category"),
    ({"category": "Not A Slug"}, "category"),
    ({"tags": ["a", "b"]}, "tags"),
    ({"visibility": ["public", "private"]}, "visibility"),
])
def test_upload_refuses_bad_fields_and_stores_nothing(
    server: LiveServer, uploader: Uploader, fields: dict[str, object], field: str,
) -> None:
    before = count(server, "maps"), count(server, "map_files"), count(server, "map_search")
    response = uploader.upload("Refused", **fields)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_request"
    assert response.json()["field"] == field and field in response.json()["error_description"]
    assert (count(server, "maps"), count(server, "map_files"), count(server, "map_search")) == before


def test_who_sees_which_map(
    server: LiveServer, http: httpx.Client, uploader: Uploader, owner: Account, owner_token: str,
    other_token: str,
) -> None:
    made = {v: uploader.upload(f"Seen {v}", visibility=v).json()["id"]
            for v in ("public", "unlisted", "private")}
    for token, sees_private in ((None, False), (other_token, False), (owner_token, True)):
        for visibility, public_id in made.items():
            expected = 200 if visibility != "private" or sees_private else 404
            got = http.get(f"/maps/{public_id}", headers=_auth(token))
            assert got.status_code == expected, (visibility, token is not None)
            file = http.get(f"/maps/{public_id}/file", headers=_auth(token))
            assert file.status_code == expected
        listed = http.get(f"/users/{owner.username}/maps", headers=_auth(token),
                          params={"limit": 100}).json()["maps"]
        shown = {m["id"] for m in listed}
        assert made["public"] in shown
        assert (made["unlisted"] in shown, made["private"] in shown) == (sees_private,
                                                                          sees_private)
        searched = http.get("/maps", headers=_auth(token), params={"author": owner.username,
                                                                    "limit": 100}).json()["maps"]
        assert made["public"] in {m["id"] for m in searched}
        assert not {made["unlisted"], made["private"]} & {m["id"] for m in searched}
    refused = http.get(f"/maps/{made['private']}")
    assert refused.json() == http.get("/maps/zzzzzzz").json()  # nothing tells them apart
    # The pages: a private map is not there for anyone but its owner; unlisted is by link.
    page = map_row(server, made["private"])
    assert http.get(f"/mindmaps/{made['private']}/{page['slug']}").status_code == 404
    assert http.get(f"/mindmaps/{made['private']}/files/map").status_code == 404
    assert http.get(f"/mindmaps/{made['unlisted']}/seen-unlisted").status_code == 200
    from tests.support.browser_flow import sign_in

    with httpx.Client(base_url=server.url, timeout=30) as browser:
        assert sign_in(browser, owner).status_code == 303
        assert browser.get(f"/mindmaps/{made['private']}/{page['slug']}").status_code == 200
        own_file = browser.get(f"/mindmaps/{made['private']}/files/map")
        assert own_file.status_code == 200 and "private" in own_file.headers["cache-control"]


def test_a_token_that_is_sent_must_be_good(http: httpx.Client, uploader: Uploader,
                                           narrow_token: str) -> None:
    public_id = uploader.upload("Token checks").json()["id"]
    bad = http.get(f"/maps/{public_id}", headers={"Authorization": "Bearer opat_nope"})
    assert bad.status_code == 401 and bad.json()["error"] == "invalid_token"
    assert bad.headers["www-authenticate"].startswith('Bearer realm="openplate"')
    narrow = http.get("/maps", headers=_auth(narrow_token))
    assert narrow.status_code == 403 and narrow.json()["error"] == "insufficient_scope"
    assert http.get(f"/maps/{public_id}", headers={"Authorization": ""}).status_code == 200


def test_the_file_is_the_upload_byte_for_byte(server: LiveServer, http: httpx.Client,
                                              uploader: Uploader) -> None:
    data = make_freemind("Byte for byte", ["ä", "ö"])
    public_id = uploader.upload("Byte for byte", content=data, filename="x.mm").json()["id"]
    api = http.get(f"/maps/{public_id}/file")
    page = http.get(f"/mindmaps/{public_id}/files/map")
    assert api.status_code == page.status_code == 200
    assert api.content == page.content == data
    assert api.headers["content-disposition"] == page.headers["content-disposition"] == (
        'attachment; filename="byte-for-byte.mm"')
    assert api.headers["content-type"] == page.headers["content-type"]


def test_etag_and_if_none_match(http: httpx.Client, uploader: Uploader) -> None:
    public_id = uploader.upload("Cached map").json()["id"]
    first = http.get(f"/maps/{public_id}")
    etag = first.headers["etag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    body = first.json()
    assert set(body) == {"id", "url", "title", "description", "author", "format", "visibility",
                         "tags", "category", "topic_count", "view_count", "created_at",
                         "updated_at", "download_url", "thumbnail_url", "outline"}
    assert body["outline"][0]["title"] == "Cached map" and body["created_at"].endswith("+00:00")
    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        again = http.get(f"/maps/{public_id}", headers={"If-None-Match": header})
        assert again.status_code == 304 and again.content == b""
        assert again.headers["etag"] == etag
    assert http.get(f"/maps/{public_id}", headers={"If-None-Match": '"other"'}).status_code == 200
    changed = uploader.patch(public_id, {"tags": ["new-tag"]})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert http.get(f"/maps/{public_id}", headers={"If-None-Match": etag}).status_code == 200
    head = http.head(f"/maps/{public_id}")
    assert head.status_code == 200 and head.headers["etag"] == changed.headers["etag"]


def test_patch_changes_what_is_sent(http: httpx.Client, uploader: Uploader, category: str) -> None:
    public_id = uploader.upload("Before", tags="one").json()["id"]
    changed = uploader.patch(public_id, {"title": "After the change", "description": "Words",
                                         "tags": ["Two Words", "three"], "visibility": "private",
                                         "category": category})
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert body["title"] == "After the change" and body["url"].endswith("/after-the-change")
    assert body["tags"] == ["three", "two-words"] and body["visibility"] == "private"
    assert body["category"]["slug"] == category and body["updated_at"] >= body["created_at"]
    cleared = uploader.patch(public_id, {"category": None, "visibility": "public"}).json()
    assert cleared["category"] is None and cleared["title"] == "After the change"
    assert http.get(f"/mindmaps/{public_id}/before", follow_redirects=False).headers[
        "location"] == f"/mindmaps/{public_id}/after-the-change"


@pytest.mark.parametrize("body, status, field", [
    ({"title": 5}, 400, "title"),
    ({"title": ""}, 400, "title"),
    ({"title": "t" * 201}, 400, "title"),
    ({"description": ["x"]}, 400, "description"),
    ({"tags": "a,b"}, 400, "tags"),
    ({"tags": [1, 2]}, 400, "tags"),
    ({"tags": [f"t{n}" for n in range(11)]}, 400, "tags"),
    ({"tags": ["fine", "not/fine"]}, 400, "tags"),
    ({"visibility": "everyone"}, 400, "visibility"),
    ({"visibility": None}, 400, "visibility"),
    ({"category": "no-such-category"}, 400, "category"),
    ({"category": 7}, 400, "category"),
    ({"owner": "someone"}, 400, "owner"),
    ({"title": "Fine", "view_count": 10**6}, 400, "view_count"),
    ({"title": "Kept?", "tags": ["bad tag!"]}, 400, "tags"),
])
def test_patch_refusals_change_nothing(
    http: httpx.Client, uploader: Uploader, body: dict[str, object], status: int, field: str,
) -> None:
    public_id = uploader.upload("Unchanged", tags="keep").json()["id"]
    before = http.get(f"/maps/{public_id}")
    refused = uploader.patch(public_id, body)
    assert refused.status_code == status, refused.text
    assert refused.json()["field"] == field and refused.json()["error"] == "invalid_request"
    after = http.get(f"/maps/{public_id}")
    assert after.content == before.content and after.headers["etag"] == before.headers["etag"]


@pytest.mark.parametrize("content, content_type, status", [
    (b"not json", "application/json", 400),
    (b"[1, 2]", "application/json", 400),
    (b"{}", "application/json", 400),
    (b"[" * 100_000, "application/json", 400),
    (b'{"title": "x"}', "text/plain", 415),
    (b"title=x", "application/x-www-form-urlencoded", 415),
    (b'{"title": "\\ud800"}', "application/json", 400),
    (b'{"title": "ok", "title": "dup"}', "application/json", 200),
])
def test_patch_bodies(http: httpx.Client, uploader: Uploader, content: bytes,
                      content_type: str, status: int) -> None:
    public_id = uploader.upload("Bodies").json()["id"]
    response = http.patch(f"/maps/{public_id}", content=content, headers={
        **_auth(uploader.token), "Content-Type": content_type})
    assert response.status_code == status, response.text
    if status >= 400:
        assert response.json()["error"] in ("invalid_request", "unsupported_media_type")
        assert "no-store" in response.headers["cache-control"]


def test_only_the_owner_changes_or_deletes(
    http: httpx.Client, uploader: Uploader, other_token: str, narrow_token: str,
) -> None:
    public_id = uploader.upload("Mine").json()["id"]
    private_id = uploader.upload("Mine alone", visibility="private").json()["id"]
    other = Uploader(http, other_token)
    forbidden = other.patch(public_id, {"title": "Theirs"})
    assert forbidden.status_code == 403 and forbidden.json()["error"] == "forbidden"
    assert http.delete(f"/maps/{public_id}", headers=_auth(other_token)).status_code == 403
    assert other.patch(private_id, {"title": "Theirs"}).status_code == 404
    assert http.delete(f"/maps/{private_id}", headers=_auth(other_token)).status_code == 404
    narrow = Uploader(http, narrow_token).patch(public_id, {"title": "Narrow"})
    assert narrow.status_code == 403 and narrow.json()["error"] == "insufficient_scope"
    anonymous = http.patch(f"/maps/{public_id}", json={"title": "Nobody"})
    assert anonymous.status_code == 401
    assert http.delete(f"/maps/{public_id}").status_code == 401
    assert http.get(f"/maps/{public_id}").json()["title"] == "Mine"


def test_delete_then_nothing_is_left(server: LiveServer, http: httpx.Client,
                                     uploader: Uploader) -> None:
    public_id = uploader.upload("Short-lived", tags="a,b").json()["id"]
    map_id = map_row(server, public_id)["id"]
    gone = http.delete(f"/maps/{public_id}", headers=_auth(uploader.token))
    assert gone.status_code == 204 and gone.content == b""
    for path in (f"/maps/{public_id}", f"/maps/{public_id}/file",
                 f"/mindmaps/{public_id}/short-lived", f"/mindmaps/{public_id}/files/map"):
        assert http.get(path).status_code == 404
    assert http.delete(f"/maps/{public_id}", headers=_auth(uploader.token)).status_code == 404
    for table in ("maps", "map_files", "map_tags", "map_views", "map_search"):
        column = "id" if table == "maps" else "map_id"
        assert count(server, table, f"{column} = {int(map_id)}") == 0


def test_post_maps_still_answers_the_original_clients(http: httpx.Client,
                                                     uploader: Uploader) -> None:
    response = http.post("/maps", headers={"Authorization": uploader.token}, data={
        "title": "Bare token", "description": "as the plug-in sends it"},
        files={"map": ("plan.xmind", make_xmind_json("Plan"), "application/octet-stream")})
    assert response.status_code == 201
    body = response.json()
    assert body["url"].endswith("/bare-token") and body["format"] == "xmind"
    assert body["download_url"].endswith(f"/mindmaps/{body['id']}/files/map")
