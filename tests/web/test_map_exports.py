"""A map's exports and thumbnail over HTTP, on SQLite and on PostgreSQL with Redis:
``GET /maps/{id}/export?format=`` with and without a token, the site's
``/mindmaps/{id}/export/{fmt}`` with and without a session, every format read back to the
outline ``GET /maps/{id}`` shows, ETag and 304, refusals, and a thumbnail for every map."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager

import defusedxml.ElementTree as SafeET
import httpx
import pytest
from PIL import Image

from openplate.library import Topic, import_json, parse_upload
from tests.support.browser_flow import sign_in
from tests.support.mindmaps import make_freemind_outline, make_png, make_xmind_json
from tests.support.seed import Account, App, Seeder
from tests.support.server import LiveServer
from tests.web.maps_api_support import Uploader, count, map_row, token_for

REDIRECT = "https://app.example.com/cb"
OUTLINE_FORMATS = ("opml", "md", "mm", "json")
ALL_FORMATS = (*OUTLINE_FORMATS, "svg", "png")
MEDIA_TYPES = {"opml": "text/x-opml; charset=utf-8", "md": "text/markdown; charset=utf-8",
               "mm": "application/x-freemind", "json": "application/json",
               "svg": "image/svg+xml", "png": "image/png"}

ROOT = Topic("Trip to Kyoto & <Osaka> 🎌", (
    Topic("Before", (Topic("Passport", note="Check the expiry date\nand the visa"),
                     Topic("Rail pass", link="https://www.example.com/jr?pass=7&x=1")),
          note="Two weeks ahead"),
    Topic("京都", (Topic("金閣寺"), Topic("伏見稲荷大社", note="朝早く行く"))),
    Topic("مرحبا بالعالم", (Topic("خريطة ذهنية"),)),
    Topic("# not a heading *nor emphasis* [x](y) \\ back", (Topic("- not an item"),)),
))


@pytest.fixture(scope="module")
def app(seeder: Seeder) -> App:
    return seeder.app(seeder.user("exportdev"), redirect_uris=(REDIRECT,))


@pytest.fixture(scope="module")
def owner(seeder: Seeder) -> Account:
    return seeder.user("exporter")


@pytest.fixture(scope="module")
def stranger(seeder: Seeder) -> Account:
    return seeder.user("stranger")


@pytest.fixture(scope="module")
def owner_token(server: LiveServer, app: App, owner: Account) -> str:
    return token_for(server, app, owner)


@pytest.fixture(scope="module")
def stranger_token(server: LiveServer, app: App, stranger: Account) -> str:
    return token_for(server, app, stranger)


@pytest.fixture()
def http(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=60) as client:
        yield client


@pytest.fixture()
def uploader(http: httpx.Client, owner_token: str) -> Uploader:
    return Uploader(http, owner_token)


@pytest.fixture(scope="module")
def trip(server: LiveServer, owner_token: str) -> dict[str, object]:
    """A public FreeMind map with notes, links, CJK, Arabic, emoji and Markdown look-alikes."""
    with httpx.Client(base_url=server.url, timeout=60) as http:
        response = Uploader(http, owner_token).upload(
            "Kyoto trip", content=make_freemind_outline(ROOT), filename="trip.mm")
    assert response.status_code == 201, response.text
    created: dict[str, object] = response.json()
    return created


@contextmanager
def _session(server: LiveServer, account: Account) -> Iterator[httpx.Client]:
    """A browser signed in as ``account``."""
    with httpx.Client(base_url=server.url, timeout=60) as client:
        assert sign_in(client, account).status_code == 303
        yield client


def _auth(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def _sheets(body: bytes, fmt: str) -> list[Topic]:
    if fmt == "json":
        return list(import_json(body).sheets)
    return list(parse_upload(f"export.{fmt}", body).sheets)


@pytest.mark.parametrize("fmt", OUTLINE_FORMATS)
def test_every_outline_format_reads_back_to_the_map_outline(
    http: httpx.Client, trip: dict[str, object], fmt: str,
) -> None:
    public_id = trip["id"]
    shown = http.get(f"/maps/{public_id}").json()
    outline = [Topic.from_json(sheet) for sheet in shown["outline"]]
    assert outline[0].children[0].children[0].note == "Check the expiry date\nand the visa"
    api = http.get(f"/maps/{public_id}/export", params={"format": fmt})
    assert api.status_code == 200, api.text
    assert api.headers["content-type"] == MEDIA_TYPES[fmt]
    extension = {"opml": "opml", "md": "md", "mm": "mm", "json": "json"}[fmt]
    assert api.headers["content-disposition"] == f'attachment; filename="kyoto-trip.{extension}"'
    assert _sheets(api.content, fmt) == outline
    site = http.get(f"/mindmaps/{public_id}/export/{fmt}")
    assert site.status_code == 200 and site.content == api.content
    assert site.headers["content-type"] == api.headers["content-type"]
    assert site.headers["content-disposition"] == api.headers["content-disposition"]
    assert site.headers["etag"] == api.headers["etag"]


def test_svg_and_png_exports_are_the_map_pictures(
    server: LiveServer, http: httpx.Client, trip: dict[str, object],
) -> None:
    public_id = str(trip["id"])
    svg = http.get(f"/maps/{public_id}/export?format=svg")
    assert svg.status_code == 200 and svg.headers["content-type"] == "image/svg+xml"
    assert svg.headers["content-disposition"] == 'attachment; filename="kyoto-trip.svg"'
    assert svg.headers["x-content-type-options"] == "nosniff"
    document = SafeET.fromstring(svg.content)
    assert document.tag == "{http://www.w3.org/2000/svg}svg"
    assert document.get("data-topics") == "11"
    assert document.findtext("{http://www.w3.org/2000/svg}title") == "Mind map: Kyoto trip"
    texts = "".join(document.itertext())
    assert "京都" in texts and "مرحبا بالعالم" in texts and "<script" not in svg.text
    png = http.get(f"/mindmaps/{public_id}/export/png")
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert png.headers["content-disposition"] == 'attachment; filename="kyoto-trip.png"'
    with Image.open(io.BytesIO(png.content)) as image:
        assert image.format == "PNG" and image.size == (640, 400)
        image.load()
    thumbnail = http.get(f"/mindmaps/{public_id}/files/thumbnail.png")
    assert thumbnail.status_code == 200 and thumbnail.content == png.content
    row = map_row(server, public_id)
    assert count(server, "map_files", f"map_id = {row['id']} AND kind IN "
                                      "('picture-svg', 'picture-png')") == 2


def test_a_private_map_exports_to_its_owner_only(
    server: LiveServer, http: httpx.Client, uploader: Uploader, owner: Account,
    stranger: Account, owner_token: str, stranger_token: str,
) -> None:
    public_id = uploader.upload("Secret plan", visibility="private").json()["id"]
    for fmt in ("json", "png"):
        for token in (None, stranger_token):
            refused = http.get(f"/maps/{public_id}/export?format={fmt}", headers=_auth(token))
            assert refused.status_code == 404, refused.text
            assert refused.json()["error"] == "not_found"
        allowed = http.get(f"/maps/{public_id}/export?format={fmt}", headers=_auth(owner_token))
        assert allowed.status_code == 200
        assert allowed.headers["cache-control"] == "private, no-cache"
        assert allowed.headers["vary"] == "Authorization"
        assert http.get(f"/mindmaps/{public_id}/export/{fmt}").status_code == 404
        with _session(server, stranger) as other:
            assert other.get(f"/mindmaps/{public_id}/export/{fmt}").status_code == 404
        with _session(server, owner) as mine:
            page = mine.get(f"/mindmaps/{public_id}/export/{fmt}")
            assert page.status_code == 200 and page.content == allowed.content
    assert http.get(f"/mindmaps/{public_id}/files/thumbnail.png").status_code == 404
    with _session(server, owner) as mine:
        assert mine.get(f"/mindmaps/{public_id}/files/thumbnail.png").status_code == 200
    bad_token = http.get(f"/maps/{public_id}/export?format=md",
                         headers={"Authorization": "Bearer opat_not-a-token"})
    assert bad_token.status_code == 401


@pytest.mark.parametrize("query", ["", "?format=", "?format=pdf", "?format=OPML",
                                   "?format=opml&format=md", "?format=xmind"])
def test_a_bad_format_is_refused_naming_the_allowed_ones(
    http: httpx.Client, trip: dict[str, object], query: str,
) -> None:
    response = http.get(f"/maps/{trip['id']}/export{query}")
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error"] == "invalid_request" and body["field"] == "format"
    if "&" not in query:
        assert "opml, md, mm, json, svg, png" in body["error_description"]


def test_the_site_refuses_unknown_formats_and_maps(http: httpx.Client,
                                                   trip: dict[str, object]) -> None:
    for path in (f"/mindmaps/{trip['id']}/export/pdf", f"/mindmaps/{trip['id']}/export/PNG",
                 "/mindmaps/nosuchmap0/export/md", "/mindmaps/NOT-AN-ID/export/md"):
        response = http.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"].startswith("text/html")
    missing = http.get("/maps/nosuchmap0/export?format=md")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"


def test_etag_and_if_none_match(http: httpx.Client, uploader: Uploader) -> None:
    public_id = uploader.upload("Etag map").json()["id"]
    for path in (f"/maps/{public_id}/export?format=md", f"/mindmaps/{public_id}/export/md",
                 f"/maps/{public_id}/export?format=svg"):
        first = http.get(path)
        etag = first.headers["etag"]
        assert etag.startswith('"') and not etag.startswith("W/")
        for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
            again = http.get(path, headers={"If-None-Match": header})
            assert again.status_code == 304 and again.content == b"", path
            assert again.headers["etag"] == etag
        assert http.get(path, headers={"If-None-Match": '"other"'}).status_code == 200
    json_etag = http.get(f"/maps/{public_id}/export?format=json").headers["etag"]
    md_etag = http.get(f"/maps/{public_id}/export?format=md").headers["etag"]
    assert json_etag != md_etag
    # A new title changes the export (the JSON and OPML carry it), so its ETag changes too.
    assert uploader.patch(public_id, {"title": "Renamed map"}).status_code == 200
    renamed = http.get(f"/maps/{public_id}/export?format=json",
                       headers={"If-None-Match": json_etag})
    assert renamed.status_code == 200 and renamed.headers["etag"] != json_etag
    assert import_json(renamed.content).title == "Renamed map"
    assert renamed.headers["content-disposition"] == 'attachment; filename="renamed-map.json"'
    svg = http.get(f"/maps/{public_id}/export?format=svg")
    assert "<title>Mind map: Renamed map</title>" in svg.text


def test_every_map_has_a_thumbnail(http: httpx.Client, uploader: Uploader) -> None:
    brought = make_png(48, 30)
    with_own = uploader.upload("Own thumbnail", content=make_xmind_json(
        "Own thumbnail", ["a"], thumbnail=brought)).json()
    without = uploader.upload("No thumbnail", content=make_freemind_outline(
        Topic("No thumbnail", (Topic("leaf"),))), filename="x.mm").json()
    for created in (with_own, without):
        url = created["thumbnail_url"]
        assert isinstance(url, str) and url.endswith(f"/mindmaps/{created['id']}/files/thumbnail.png")
        assert http.get(f"/maps/{created['id']}").json()["thumbnail_url"] == url
    listed = http.get("/maps").json()["maps"]
    assert listed and all(isinstance(item["thumbnail_url"], str) for item in listed)
    own = http.get(f"/mindmaps/{with_own['id']}/files/thumbnail.png")
    assert own.status_code == 200 and own.content == brought
    drawn = http.get(f"/mindmaps/{without['id']}/files/thumbnail.png")
    assert drawn.status_code == 200 and drawn.headers["content-type"] == "image/png"
    with Image.open(io.BytesIO(drawn.content)) as image:
        assert image.size == (640, 400)
    assert http.get(f"/mindmaps/{without['id']}/files/thumbnail.png").content == drawn.content
    assert http.get(f"/mindmaps/{without['id']}/files/other.png").status_code == 404


def test_the_openapi_document_describes_the_export(http: httpx.Client) -> None:
    document = http.get("/openapi.json").json()
    operation = document["paths"]["/maps/{public_id}/export"]["get"]
    (parameter,) = [p for p in operation["parameters"] if p["name"] == "format"]
    assert parameter["required"] and parameter["schema"]["enum"] == list(ALL_FORMATS)
    assert set(operation["responses"]) >= {"200", "304", "400", "404"}
    assert set(operation["responses"]["200"]["content"]) == set(MEDIA_TYPES.values())
    assert not any(path.startswith("/mindmaps") for path in document["paths"])


def test_the_openapi_document_promises_no_validation_error_that_never_comes(
        http: httpx.Client) -> None:
    """FastAPI adds a ``422 Validation Error`` to every route with parameters; ours read their
    parameters themselves and answer a bad one with a 400, so the document says so."""
    document = http.get("/openapi.json").json()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert operation["responses"].get("422", {}).get("description") != \
                "Validation Error", (method, path)
    assert "422" in document["paths"]["/maps"]["post"]["responses"]  # a damaged map: its own
    assert "HTTPValidationError" not in document["components"]["schemas"]
    for path in ("/maps/abcdefgh/export", "/maps/abcdefgh/export?format=bad",
                 "/users/x/maps?limit=abc", "/maps?limit=0"):
        assert http.get(path).status_code == 400, path
