"""Schemathesis over the live server's OpenAPI document: no operation answers 5xx, whatever it gets.

Every operation in /openapi.json (the token, revocation and introspection endpoints, discovery
and JWKS, userinfo, GET /users/me, the library's /maps operations) is run through
Schemathesis' coverage and fuzzing phases, with positive and negative data, once without
credentials and once with a valid bearer token for the maps and account scopes. Besides
Schemathesis' ``not_a_server_error`` check, each answer must be in the endpoint's error shape.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from requests.adapters import HTTPAdapter
from schemathesis.checks import not_a_server_error

from tests.fuzz.helpers import SCALE, LogWatch, client, fresh_address
from tests.support.browser_flow import obtain_code
from tests.support.seed import Seeder
from tests.support.server import LiveServer

REDIRECT = "https://app.example.com/cb"

SCHEMATHESIS_SETTINGS = settings(
    max_examples=max(1, int(30 * SCALE)),
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


class _FromAddress(HTTPAdapter):
    """Connect from a given loopback address (failures are throttled per client address)."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


@pytest.fixture()
def session() -> Iterator[requests.Session]:
    """A requests session whose connections leave from a fresh loopback address per call."""

    class Rotating(requests.Session):
        def request(self, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
            self.mount("http://", _FromAddress(fresh_address()))
            return super().request(*args, **kwargs)

    with Rotating() as rotating:
        yield rotating


@pytest.fixture(scope="module")
def api_schema(server: LiveServer) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(server.url + "/openapi.json")


@pytest.fixture(scope="module")
def bearer(server: LiveServer, seeder: Seeder) -> str:
    app = seeder.app(seeder.user("stdev"), redirect_uris=(REDIRECT,))
    code = obtain_code(server.url, seeder.user("stuser"), app.client_id, REDIRECT)
    with client(server) as http:
        response = http.post("/oauth/token", data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
            "client_id": app.client_id, "client_secret": app.client_secret or ""})
    assert response.status_code == 200, response.text
    return f"Bearer {response.json()['access_token']}"


@pytest.fixture()
def watch(server: LiveServer) -> LogWatch:
    return LogWatch(server)


@pytest.fixture(autouse=True)
def _nodeid_for_schemathesis(request: pytest.FixtureRequest) -> None:
    """Schemathesis 4.32's lazy loader reads and rewrites ``request.node._nodeid``, an attribute
    pytest 9.2 no longer has (a node's id is ``_id`` now): give it one to work on."""
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


schema = schemathesis.pytest.from_fixture("api_schema")

BEARER_CHALLENGE = 'Bearer realm="openplate"'


def _declares_bearer(case: schemathesis.Case) -> bool:
    """The operation declares the access-token header (``security: APIKeyHeader``)."""
    return any("APIKeyHeader" in item for item in case.operation.definition.raw.get("security", []))


def _needs_bearer(case: schemathesis.Case) -> bool:
    """It declares the header, and not as optional (an empty requirement beside it: the
    library's reads, which answer without a token)."""
    return _declares_bearer(case) and {} not in case.operation.definition.raw.get("security", [])


def check_answer(case: schemathesis.Case, response: schemathesis.Response, *, token: bool) -> None:
    """Schemathesis' server-error check, then the shape docs/api.md promises for every answer."""
    case.validate_response(response, checks=[not_a_server_error])
    status, curl = response.status_code, case.as_curl_command()
    if _needs_bearer(case) and not token:
        assert status >= 400, f"{status} without an access token: {curl}"
    if status < 400 or case.method.upper() == "HEAD":
        return
    # RFC 6749 §5.2 / RFC 6750 §3 / RFC 7009 §2.2.1: a JSON object naming the error, never cached.
    assert response.headers.get("content-type", [""])[0].startswith("application/json"), (
        status, response.headers, curl)
    body = response.json()
    assert isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"], (body, curl)
    assert isinstance(body.get("error_description", ""), str), (body, curl)
    assert "no-store" in response.headers.get("cache-control", [""])[0], (response.headers, curl)
    if status == 401:
        challenge = response.headers["www-authenticate"][0]
        expected = BEARER_CHALLENGE if _declares_bearer(case) else "Basic"
        assert challenge.startswith(expected), (challenge, curl)


@schema.parametrize()
@SCHEMATHESIS_SETTINGS
def test_operations_without_a_token(
    case: schemathesis.Case, session: requests.Session, watch: LogWatch
) -> None:
    response = case.call(session=session)
    watch.check(case.as_curl_command())
    check_answer(case, response, token=False)


@schema.parametrize()
@SCHEMATHESIS_SETTINGS
def test_operations_with_a_bearer_token(
    case: schemathesis.Case, session: requests.Session, bearer: str, watch: LogWatch
) -> None:
    response = case.call(session=session, headers={"Authorization": bearer})
    watch.check(case.as_curl_command())
    check_answer(case, response, token=True)
