"""What the library API's tests share: tokens through the real flow, uploads, and a look at the
server's database."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.browser_flow import obtain_code
from tests.support.mindmaps import make_xmind_json
from tests.support.seed import Account, App, Seeder
from tests.support.server import LiveServer

REDIRECT = "https://app.example.com/cb"


def token_for(server: LiveServer, app: App, account: Account, *, scope: str | None = None) -> str:
    """An access token of ``account`` for ``app`` (default scope: account maps)."""
    extra = {"scope": scope} if scope else {}
    code = obtain_code(server.url, account, app.client_id, app.redirect_uris[0], **extra)
    response = httpx.post(server.url + "/oauth/token", timeout=30, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": app.redirect_uris[0],
        "client_id": app.client_id, "client_secret": app.client_secret or ""})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


class Uploader:
    """Maps of one token's user, through POST /maps and PATCH /maps/{id}."""

    def __init__(self, http: httpx.Client, token: str) -> None:
        self.http = http
        self.token = token

    def upload(self, title: str, *, content: bytes | None = None, filename: str = "m.xmind",
               description: str = "", **fields: object) -> httpx.Response:
        data: dict[str, Any] = {"title": title, "description": description, **fields}
        return self.http.post("/maps", headers={"Authorization": f"Bearer {self.token}"},
                              data=data, files={"map": (filename, content or make_xmind_json(
                                  title), "application/octet-stream")})

    def patch(self, public_id: str, body: dict[str, object]) -> httpx.Response:
        return self.http.patch(f"/maps/{public_id}", json=body,
                               headers={"Authorization": f"Bearer {self.token}"})


def count(server: LiveServer, table: str, where: str = "1 = 1") -> int:
    return int(str(Seeder(server).scalar(f"SELECT count(*) FROM {table} WHERE {where}")))


def map_row(server: LiveServer, public_id: str) -> dict[str, Any]:
    """The map's row (id, slug, visibility), straight from the database."""
    seeder = Seeder(server)
    found = {}
    for column in ("id", "slug", "visibility"):
        found[column] = seeder.scalar(f"SELECT {column} FROM maps WHERE public_id = :p",
                                      p=public_id)
    return found
