"""Text PostgreSQL refuses (a NUL character; a lone surrogate, which no UTF-8 can carry) anywhere
in a request is bad input: a 4xx, never a 503, a 500 or a traceback (the autouse fixture checks
the server's log), on SQLite and on PostgreSQL alike. The store refuses such text before it
reaches the database (store/engine.check_text), so every route is covered by one check; these
are the requests that reached PostgreSQL with it before (a 503 'database unavailable')."""

from __future__ import annotations

import base64

import httpx
import pytest

from tests.support.browser_flow import hidden_fields, sign_in
from tests.support.seed import Seeder
from tests.support.server import LiveServer

BAD = {"nul": "%00", "invalid UTF-8": "%FF", "encoded surrogate": "%ED%A0%80"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
PAGE = {"Accept": "text/html"}


@pytest.fixture(scope="module")
def seeded(flow_server: LiveServer) -> tuple[Seeder, object, object]:
    seeder = Seeder(flow_server)
    account = seeder.user("u")
    return seeder, account, seeder.app(account)


@pytest.mark.parametrize("bad", BAD.values(), ids=BAD.keys())
def test_the_token_endpoints(flow_server: LiveServer, seeded: tuple[Seeder, object, object],
                             bad: str) -> None:
    _, _, app = seeded
    with httpx.Client(base_url=flow_server.url, timeout=30) as client:
        for raw in (b"opc_\x00x", b"opc_\xed\xa0\x80x", b"opc_%00x"):
            basic = base64.b64encode(raw + b":secret").decode()
            answer = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                                 headers={"Authorization": "Basic " + basic})
            assert answer.status_code in (400, 401), answer.text
        for body in (f"grant_type=client_credentials&client_id=opc_{bad}&client_secret=x",
                     f"grant_type=refresh_token&refresh_token=oprt_{bad}"
                     f"&client_id={app.client_id}&client_secret={app.client_secret}",  # type: ignore[attr-defined]
                     f"grant_type=authorization_code&code=opac_{bad}&redirect_uri=x"
                     f"&client_id={app.client_id}&client_secret={app.client_secret}"):  # type: ignore[attr-defined]
            for path in ("/oauth/token", "/oauth/introspect", "/oauth/revoke"):
                answer = client.post(path, content=body.replace("code=", "token="), headers=FORM)
                assert answer.status_code in (200, 400, 401), (path, body, answer.text)
        userinfo = client.post("/oauth/userinfo", content=f"access_token=opat_{bad}", headers=FORM)
        assert userinfo.status_code in (400, 401)


@pytest.mark.parametrize("bad", BAD.values(), ids=BAD.keys())
def test_pages_and_paths(flow_server: LiveServer, seeded: tuple[Seeder, object, object],
                         bad: str) -> None:
    _, account, app = seeded
    with httpx.Client(base_url=flow_server.url, timeout=30, headers=PAGE) as browser:
        assert sign_in(browser, account).status_code == 303  # type: ignore[arg-type]
        csrf = hidden_fields(browser.get("/applications").text)["csrf_token"]
        for path in (f"/applications/opc_{bad}", f"/mindmaps/{bad}", f"/mindmaps/x{bad}/y",
                     f"/?q={bad}", f"/signin?next=/{bad}"):
            answer = browser.get(path)
            assert answer.status_code in (200, 303, 400, 404), (path, answer.text[:300])
        for path in (f"/applications/opc_{bad}", f"/applications/opc_{bad}/rotate-secret",
                     f"/applications/opc_{bad}/delete", f"/account/apps/opc_{bad}/revoke"):
            answer = browser.post(path, content=f"csrf_token={csrf}", headers=FORM)
            assert answer.status_code in (303, 400, 404), (path, answer.text[:300])
            if answer.status_code == 400:
                assert answer.headers["content-type"].startswith("text/html")
        query = (f"response_type=code&client_id={app.client_id}"  # type: ignore[attr-defined]
                 f"&redirect_uri=http://localhost:13524/&scope=openid&state=s")
        for extra in (f"&login_hint={bad}", f"&nonce={bad}", f"&state={bad}"):
            answer = browser.get("/oauth/auth?" + query + extra)
            assert answer.status_code in (200, 302, 303, 400), answer.text[:300]
        answer = browser.get(f"/oauth/auth?response_type=code&client_id=opc_{bad}")
        assert answer.status_code == 400
    with httpx.Client(base_url=flow_server.url, timeout=30, headers=PAGE) as stranger:
        fields = hidden_fields(stranger.get("/signin").text)
        body = "&".join(f"{k}={v}" for k, v in fields.items())
        answer = stranger.post("/signin", content=f"{body}&login=x{bad}&password=whatever1",
                               headers=FORM)
        assert answer.status_code in (400, 401), answer.text[:300]
