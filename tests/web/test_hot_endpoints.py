"""The endpoints served ahead of FastAPI (openplate/web/hot.py) keep every behaviour of the
framework path: security headers, request ids, HEAD, body limits, 405 for other methods,
metrics; on both engines. One registry (openplate/web/hot_endpoints.py) gives both their
serving and their OpenAPI description."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.routing import APIRoute

from openplate.settings import Settings
from openplate.web.app import create_app
from openplate.web.hot_endpoints import HOT_ENDPOINTS
from tests.support.server import LiveServer

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.mark.parametrize("path", ["/oauth/jwks", "/.well-known/openid-configuration",
                                  "/.well-known/oauth-authorization-server"])
def test_head_answers_like_get_without_a_body(server: LiveServer, path: str) -> None:
    got = httpx.get(server.url + path)
    head = httpx.head(server.url + path)
    assert got.status_code == head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == str(len(got.content))
    assert head.headers["content-type"] == got.headers["content-type"]
    assert got.headers["cache-control"] == "public, max-age=300"


def test_security_headers_and_request_ids_on_hot_answers(server: LiveServer) -> None:
    answer = httpx.post(server.url + "/oauth/token", content=b"grant_type=client_credentials",
                        headers={**FORM, "X-Request-ID": "hot-trace-1"})
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_client"
    assert answer.headers["x-request-id"] == "hot-trace-1"
    assert answer.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["pragma"] == "no-cache"
    assert answer.headers["www-authenticate"].startswith("Basic ")
    minted = httpx.get(server.url + "/oauth/jwks", headers={"X-Request-ID": "bad id!"})
    assert len(minted.headers["x-request-id"]) == 16
    ids = {httpx.get(server.url + path).headers["x-request-id"]
           for path in ("/oauth/jwks", "/", "/oauth/jwks", "/signin")}
    assert len(ids) == 4 and minted.headers["x-request-id"] not in ids  # hot and framework paths


def test_one_registry_serves_and_describes_the_hot_endpoints(tmp_path: Path) -> None:
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'o.db'}", secret_key="k" * 40))
    hot = {(endpoint.path, endpoint.method) for endpoint in HOT_ENDPOINTS}
    framework = {(route.path, method) for route in app.routes if isinstance(route, APIRoute)
                 for method in route.methods}
    assert not {path for path, _ in hot} & {path for path, _ in framework}  # no twin routes
    described = {(path, method.upper()) for path, operations in app.openapi()["paths"].items()
                 for method in operations}
    assert hot <= described and ("/maps", "POST") in described
    assert app.hot is not None
    for path, method in hot:
        assert app.hot.match({"path": path, "method": method}) is app.hot.routes[path][method]


def test_other_methods_are_405(server: LiveServer) -> None:
    answer = httpx.get(server.url + "/oauth/token")
    assert answer.status_code == 405
    assert answer.headers["allow"] == "POST"
    assert answer.json()["error"] == "method_not_allowed"
    assert answer.headers["x-frame-options"] == "DENY"
    jwks = httpx.post(server.url + "/oauth/jwks")
    assert jwks.status_code == 405 and jwks.headers["allow"] == "GET, HEAD"
    assert httpx.delete(server.url + "/oauth/userinfo").headers["allow"] == "GET, HEAD, POST"
    assert httpx.head(server.url + "/oauth/revoke").status_code == 405
    page = httpx.get(server.url + "/oauth/token", headers={"Accept": "text/html"})  # a browser
    assert page.status_code == 405 and page.headers["allow"] == "POST"
    assert page.headers["content-type"].startswith("text/html")
    assert "This request cannot be served" in page.text


def test_body_limits(server: LiveServer) -> None:
    # Over the token endpoint's own limit: refused after the content type is checked.
    mid = b"grant_type=client_credentials&pad=" + b"a" * (70 * 1024)
    answer = httpx.post(server.url + "/oauth/token", content=mid, headers=FORM)
    assert (answer.status_code, answer.json()["error"]) == (413, "request_too_large")
    wrong_type = httpx.post(server.url + "/oauth/token", content=mid,
                            headers={"Content-Type": "text/plain"})
    assert (wrong_type.status_code, wrong_type.json()["error"]) == (400, "invalid_request")
    # Over every form's limit: refused before it is read, and the connection is closed.
    huge = b"a" * (300 * 1024)
    for path in ("/oauth/token", "/oauth/introspect", "/oauth/userinfo"):
        answer = httpx.post(server.url + path, content=huge, headers=FORM)
        assert (answer.status_code, answer.json()["error"]) == (413, "request_too_large"), path
        assert answer.headers["connection"] == "close"


def test_a_streamed_body_is_cut_at_the_limit(server: LiveServer) -> None:
    def chunks() -> Iterator[bytes]:  # no Content-Length: chunked transfer
        for _ in range(400):
            yield b"a" * 1024

    answer = httpx.post(server.url + "/oauth/token", content=chunks(), headers=FORM)
    assert (answer.status_code, answer.json()["error"]) == (413, "request_too_large")


def test_hot_routes_are_counted_by_path(server: LiveServer) -> None:
    httpx.get(server.url + "/oauth/jwks")
    httpx.post(server.url + "/oauth/token", content=b"grant_type=client_credentials", headers=FORM)
    text = httpx.get(server.url + "/metrics").text
    assert 'route="/oauth/jwks"' in text
    assert 'route="/oauth/token"' in text


def test_new_request_ids_are_unique_and_do_not_count_requests() -> None:
    from openplate.web.access_log import new_request_id

    ids = [new_request_id() for _ in range(100_000)]
    assert len(set(ids)) == len(ids)
    assert all(len(i) == 16 and int(i, 16) >= 0 for i in ids)
    steps = {int(b[8:], 16) - int(a[8:], 16) for a, b in zip(ids, ids[1:], strict=False)}
    assert len(steps) > 1000  # not a visible counter
