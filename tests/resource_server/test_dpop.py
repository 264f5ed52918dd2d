"""RFC 9449 in the resource-server helper: a DPoP-bound Openplate token (JWT with ``cnf.jkt``, or
introspected) opens a third-party API only with a proof of its key, never as a bearer token."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from openplate.resource_server import InProcessLedger, credential
from openplate.resource_server.middleware import MalformedAuthorization
from tests.resource_server.support import Env, run
from tests.resource_server.test_middleware import _call
from tests.support.browser_flow import obtain_code
from tests.support.dpop import DPoPKey

API = "http://api.test"


@pytest.fixture(params=["jwt_env", "opaque_env"])
def env(request: pytest.FixtureRequest) -> Iterator[Env]:
    yield request.getfixturevalue(request.param)


def _bound_token(env: Env, key: DPoPKey) -> str:
    """A DPoP-bound access token (scope maps), the token endpoint's nonce asked for first."""
    code = obtain_code(env.url, env.account, env.app.client_id, env.app.redirect_uris[0],
                       scope="maps")
    url = env.url + "/oauth/token"
    form = {"grant_type": "authorization_code", "code": code,
            "redirect_uri": env.app.redirect_uris[0]}
    assert env.app.client_secret is not None
    auth = (env.app.client_id, env.app.client_secret)
    nonce = httpx.post(url, data={"grant_type": "refresh_token", "refresh_token": "oprt_x"},
                       auth=auth, headers={"DPoP": key.proof("POST", url)},
                       timeout=20).headers["dpop-nonce"]
    answer = httpx.post(url, data=form, auth=auth, timeout=20,
                        headers={"DPoP": key.proof("POST", url, nonce=nonce)})
    assert answer.status_code == 200 and answer.json()["token_type"] == "DPoP", answer.text
    return str(answer.json()["access_token"])


def _get(env: Env, headers: list[tuple[str, str]], **options: Any) -> httpx.Response:
    options.setdefault("required_scopes", ("maps",))
    return run(_call(env, "GET", "/me", headers=headers, **options))


def test_a_bound_token_needs_a_proof_of_its_key(env: Env) -> None:
    key = DPoPKey()
    token = _bound_token(env, key)
    ledger = InProcessLedger()
    options = {"public_url": API, "ledger": ledger}
    proof = key.proof("GET", API + "/me", access_token=token)
    good = _get(env, [("Authorization", f"DPoP {token}"), ("DPoP", proof)], **options)
    assert good.status_code == 200, good.text
    # The same proof again: refused (§11.1).
    again = _get(env, [("Authorization", f"DPoP {token}"), ("DPoP", proof)], **options)
    assert again.status_code == 401 and again.json()["error"] == "invalid_dpop_proof"
    challenges = again.headers.get_list("www-authenticate")
    assert challenges[0].startswith('DPoP realm="api", algs="') and "invalid_dpop_proof" in \
        challenges[0] and challenges[1] == 'Bearer realm="api"'
    thief = DPoPKey().proof("GET", API + "/me", access_token=token)
    stolen = _get(env, [("Authorization", f"DPoP {token}"), ("DPoP", thief)], **options)
    assert stolen.status_code == 401 and stolen.json()["error"] == "invalid_dpop_proof"
    elsewhere = key.proof("GET", "http://other.test/me", access_token=token)
    wrong_url = _get(env, [("Authorization", f"DPoP {token}"), ("DPoP", elsewhere)], **options)
    assert wrong_url.status_code == 401 and wrong_url.json()["error"] == "invalid_dpop_proof"
    # §7.2: as a bearer token it opens nothing, with DPoP configured or not.
    for more in (options, {}):
        bearer = _get(env, [("Authorization", f"Bearer {token}")], **more)
        assert bearer.status_code == 401 and bearer.json()["error"] == "invalid_token"
        assert "DPoP-bound" in bearer.json()["error_description"]


def test_a_bearer_token_is_not_taken_with_the_dpop_scheme(env: Env) -> None:
    token = env.access_token("maps")
    key = DPoPKey()
    proof = key.proof("GET", API + "/me", access_token=token)
    refused = _get(env, [("Authorization", f"DPoP {token}"), ("DPoP", proof)], public_url=API)
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_token"
    assert refused.headers.get_list("www-authenticate")[0].startswith("DPoP ")
    plain = _get(env, [("Authorization", f"Bearer {token}")], public_url=API)
    assert plain.status_code == 200


def test_the_dpop_scheme_is_read_only_when_configured() -> None:
    assert credential([(b"authorization", b"DPoP abc")]) == ("dpop", "abc")
    assert credential([(b"authorization", b"dpop")]) is None
    with pytest.raises(MalformedAuthorization):
        credential([(b"authorization", b"DPoP a b")])
