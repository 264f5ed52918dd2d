"""RFC 9449 DPoP over HTTP, on SQLite and on PostgreSQL with Redis: nonces at the token endpoint,
tokens bound to the proof's key, the API, UserInfo and /maps holding a bound token to its key,
introspection naming it, and hostile proofs answered with the right error, never a 500."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.support.browser_flow import hidden_fields, obtain_code, sign_in
from tests.support.dpop import DPoPKey, unsigned
from tests.support.seed import Account, App, Seeder
from tests.support.server import LiveServer

REDIRECT_URI = "http://localhost:13524/"
ALGS = "ES256 RS256 PS256 EdDSA Ed25519"
#: The Bearer challenge of the API, which names its RFC 9728 metadata (format with the server URL).
BEARER_CHALLENGE = ('Bearer realm="openplate", '
                    'resource_metadata="{}/.well-known/oauth-protected-resource"')


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass
class DPoPClient:
    """A client that signs a proof for each request and keeps the server's nonce."""

    server: LiveServer
    app: App
    key: DPoPKey = field(default_factory=DPoPKey)
    nonce: str | None = None

    def token(self, form: dict[str, str], *, key: DPoPKey | None = None,
              proof: bool = True) -> httpx.Response:
        """POST /oauth/token with a proof; one retry on use_dpop_nonce, as the libraries do."""
        url = self.server.url + "/oauth/token"
        auth = (self.app.client_id, self.app.client_secret) if self.app.client_secret else None
        body = form if auth else {**form, "client_id": self.app.client_id}
        for _ in range(2):
            headers = {"DPoP": (key or self.key).proof("POST", url, nonce=self.nonce)} if proof \
                else {}
            answer = httpx.post(url, data=body, auth=auth, headers=headers, timeout=20)
            if "dpop-nonce" in answer.headers:
                self.nonce = answer.headers["dpop-nonce"]
            if answer.status_code != 400 or answer.json()["error"] != "use_dpop_nonce":
                return answer
        return answer

    def call(self, method: str, path: str, token: str, *, key: DPoPKey | None = None,
             scheme: str = "DPoP", proof: str | None = None, **kwargs: Any) -> httpx.Response:
        url = self.server.url + path
        sent = proof or (key or self.key).proof(method, url.split("?")[0], access_token=token)
        return httpx.request(method, url, headers={"Authorization": f"{scheme} {token}",
                                                   "DPoP": sent}, timeout=20, **kwargs)


def _code_flow(server: LiveServer, client: DPoPClient, account: Account, *, scope: str,
               public: bool = False, **extra: str) -> dict[str, Any]:
    verifier = secrets.token_urlsafe(48)
    more = {"code_challenge": _s256(verifier), "code_challenge_method": "S256"} if public else {}
    code = obtain_code(server.url, account, client.app.client_id, REDIRECT_URI, scope=scope,
                       **more, **extra)
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
    if public:
        form["code_verifier"] = verifier
    answer = client.token(form)
    assert answer.status_code == 200, answer.text
    tokens: dict[str, Any] = answer.json()
    return tokens


def _challenges(response: httpx.Response) -> list[str]:
    return response.headers.get_list("www-authenticate")


def test_discovery_lists_the_proof_algorithms(server: LiveServer) -> None:
    meta = httpx.get(server.url + "/.well-known/openid-configuration", timeout=20).json()
    assert meta["dpop_signing_alg_values_supported"] == ALGS.split()


def test_the_token_endpoint_asks_for_its_nonce_then_binds_the_tokens(
    server: LiveServer, seeder: Seeder
) -> None:
    account = seeder.user("dpopa")
    app = seeder.app(seeder.user("dpopdev"))
    key = DPoPKey("ES256")
    code = obtain_code(server.url, account, app.client_id, REDIRECT_URI, scope="openid account")
    url = server.url + "/oauth/token"
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
    first = httpx.post(url, data=form, auth=(app.client_id, app.client_secret),
                       headers={"DPoP": key.proof("POST", url)}, timeout=20)
    # §8: a proof without our nonce is answered use_dpop_nonce, with the nonce to use.
    assert first.status_code == 400 and first.json()["error"] == "use_dpop_nonce", first.text
    nonce = first.headers["dpop-nonce"]
    answer = httpx.post(url, data=form, auth=(app.client_id, app.client_secret),
                        headers={"DPoP": key.proof("POST", url, nonce=nonce)}, timeout=20)
    assert answer.status_code == 200, answer.text
    tokens = answer.json()
    assert tokens["token_type"] == "DPoP" and answer.headers["dpop-nonce"]
    # §6.2: introspection names the key.
    seen = httpx.post(server.url + "/oauth/introspect", data={"token": tokens["access_token"]},
                      auth=(app.client_id, app.client_secret), timeout=20).json()
    assert seen["active"] is True and seen["token_type"] == "DPoP"
    assert seen["cnf"] == {"jkt": key.jkt}
    client = DPoPClient(server, app, key)
    token = tokens["access_token"]
    me = client.call("GET", "/users/me", token)
    assert me.status_code == 200 and me.json()["UserName"] == account.username
    info = client.call("GET", "/oauth/userinfo", token)
    assert info.status_code == 200 and info.json()["sub"] == str(account.id)
    posted = client.call("POST", "/oauth/userinfo", token)
    assert posted.status_code == 200, posted.text


def test_a_stolen_bound_token_opens_nothing(server: LiveServer, seeder: Seeder) -> None:
    account = seeder.user("dpopb")
    client = DPoPClient(server, seeder.app(seeder.user("dpopdev")))
    token = _code_flow(server, client, account, scope="account maps")["access_token"]

    def refused(answer: httpx.Response, error: str) -> list[str]:
        assert answer.status_code == 401, answer.text
        assert answer.json()["error"] == error
        challenges = _challenges(answer)
        assert challenges[0].startswith("DPoP ") and f'error="{error}"' in challenges[0]
        assert f'algs="{ALGS}"' in challenges[0]
        assert challenges[1] == BEARER_CHALLENGE.format(server.url)
        return challenges

    # §7.2: as a bearer token (or bare, as the original clients send it).
    for header in (f"Bearer {token}", token):
        answer = httpx.get(server.url + "/users/me", headers={"Authorization": header}, timeout=20)
        refused(answer, "invalid_token")
    # With the thief's own key: the proof is good, but not of the token's key.
    refused(client.call("GET", "/users/me", token, key=DPoPKey()), "invalid_dpop_proof")
    # A proof captured from the owner's request, replayed: refused on its jti (§11.1).
    captured = client.key.proof("GET", server.url + "/users/me", access_token=token)
    assert client.call("GET", "/users/me", token, proof=captured).status_code == 200
    refused(client.call("GET", "/users/me", token, proof=captured), "invalid_dpop_proof")
    # Made for another URL, another method, or without ath.
    other = client.key.proof("GET", server.url + "/oauth/userinfo", access_token=token)
    refused(client.call("GET", "/users/me", token, proof=other), "invalid_dpop_proof")
    posted = client.key.proof("POST", server.url + "/users/me", access_token=token)
    refused(client.call("GET", "/users/me", token, proof=posted), "invalid_dpop_proof")
    no_ath = client.key.proof("GET", server.url + "/users/me")
    refused(client.call("GET", "/users/me", token, proof=no_ath), "invalid_dpop_proof")
    # The DPoP scheme without a proof, and with two.
    bare = httpx.get(server.url + "/users/me", headers={"Authorization": f"DPoP {token}"},
                     timeout=20)
    refused(bare, "invalid_dpop_proof")
    two = httpx.get(server.url + "/users/me", headers=[
        ("Authorization", f"DPoP {token}"),
        ("DPoP", client.key.proof("GET", server.url + "/users/me", access_token=token)),
        ("DPoP", client.key.proof("GET", server.url + "/users/me", access_token=token))],
        timeout=20)
    refused(two, "invalid_dpop_proof")


def test_the_maps_api_takes_dpop_bound_tokens(server: LiveServer, seeder: Seeder) -> None:
    account = seeder.user("dpopm")
    client = DPoPClient(server, seeder.app(seeder.user("dpopdev")))
    token = _code_flow(server, client, account, scope="maps")["access_token"]
    # The query string is not part of htu (§4.3 step 9).
    listed = client.call("GET", f"/users/{account.username}/maps?limit=5", token)
    assert listed.status_code == 200 and listed.json()["maps"] == []
    as_bearer = httpx.get(server.url + "/maps", headers={"Authorization": f"Bearer {token}"},
                          timeout=20)
    assert as_bearer.status_code == 401
    assert _challenges(as_bearer)[0].startswith('DPoP realm="openplate"')
    missing = client.call("DELETE", "/maps/abcdef123", token)
    assert missing.status_code == 404  # let in; there is no such map


def test_a_bearer_token_is_not_taken_as_dpop_and_challenges_name_both(
    server: LiveServer, seeder: Seeder
) -> None:
    account = seeder.user("dpopc")
    app = seeder.app(seeder.user("dpopdev"))
    code = obtain_code(server.url, account, app.client_id, REDIRECT_URI, scope="account")
    tokens = httpx.post(server.url + "/oauth/token", auth=(app.client_id, app.client_secret),
                        data={"grant_type": "authorization_code", "code": code,
                              "redirect_uri": REDIRECT_URI}, timeout=20).json()
    assert tokens["token_type"] == "Bearer"
    client = DPoPClient(server, app)
    answer = client.call("GET", "/users/me", tokens["access_token"])
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_token"
    assert 'error="invalid_token"' in _challenges(answer)[0]
    nothing = httpx.get(server.url + "/users/me", timeout=20)
    assert _challenges(nothing) == [BEARER_CHALLENGE.format(server.url),
                                    f'DPoP realm="openplate", algs="{ALGS}"']
    plain = httpx.get(server.url + "/users/me", timeout=20,
                      headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert plain.status_code == 200


def test_a_public_clients_refresh_token_needs_its_key(server: LiveServer, seeder: Seeder) -> None:
    account = seeder.user("dpopp")
    client = DPoPClient(server, seeder.app(seeder.user("dpopdev"), public=True))
    tokens = _code_flow(server, client, account, scope="account", public=True)
    form = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    without = client.token(form, proof=False)
    assert without.status_code == 400 and without.json()["error"] == "invalid_dpop_proof"
    thief = client.token(form, key=DPoPKey())
    assert thief.status_code == 400 and thief.json()["error"] == "invalid_grant"
    fresh = client.token(form)
    assert fresh.status_code == 200 and fresh.json()["token_type"] == "DPoP", fresh.text
    me = client.call("GET", "/users/me", fresh.json()["access_token"])
    assert me.status_code == 200


def test_dpop_jkt_binds_the_code(server: LiveServer, seeder: Seeder) -> None:
    account = seeder.user("dpopj")
    app = seeder.app(seeder.user("dpopdev"))
    client = DPoPClient(server, app)
    code = obtain_code(server.url, account, app.client_id, REDIRECT_URI, scope="account",
                       dpop_jkt=client.key.jkt)
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
    wrong = client.token(form, key=DPoPKey())
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    code = obtain_code(server.url, account, app.client_id, REDIRECT_URI, scope="account",
                       dpop_jkt=client.key.jkt)
    good = client.token({**form, "code": code})
    assert good.status_code == 200 and good.json()["token_type"] == "DPoP"


@pytest.mark.parametrize("name", ["alg none", "HS256", "private jwk", "old iat", "wrong htu",
                                  "wrong htm", "oversized", "garbage", "two headers"])
def test_hostile_proofs_at_the_token_endpoint(
    server: LiveServer, seeder: Seeder, name: str
) -> None:
    app = seeder.app(seeder.user("dpopdev"), grant_types=("client_credentials",))
    url = server.url + "/oauth/token"
    key = DPoPKey()
    nonce = httpx.post(url, data={"grant_type": "client_credentials"}, timeout=20,
                       auth=(app.client_id, app.client_secret),
                       headers={"DPoP": key.proof("POST", url)}).headers["dpop-nonce"]
    claims = {"jti": "j", "htm": "POST", "htu": url, "iat": 0, "nonce": nonce}
    proofs: dict[str, list[str]] = {
        "alg none": [unsigned({"typ": "dpop+jwt", "alg": "none", "jwk": key.jwk}, claims, b"x")],
        "HS256": [unsigned({"typ": "dpop+jwt", "alg": "HS256", "jwk": key.jwk}, claims, b"x" * 32)],
        "private jwk": [key.proof("POST", url, nonce=nonce,
                                  header={"jwk": dict(key.key.as_dict(private=True))})],
        "old iat": [key.proof("POST", url, nonce=nonce, iat=1_700_000_000)],
        "wrong htu": [key.proof("POST", url + "/x", nonce=nonce)],
        "wrong htm": [key.proof("PUT", url, nonce=nonce)],
        "oversized": [key.proof("POST", url, nonce=nonce, claims={"pad": "p" * 9000})],
        "garbage": ["\u00e9not a jwt"],
        "two headers": [key.proof("POST", url, nonce=nonce), key.proof("POST", url, nonce=nonce)],
    }
    answer = httpx.post(url, data={"grant_type": "client_credentials"}, timeout=20,
                        auth=(app.client_id, app.client_secret),
                        headers=[(b"DPoP", p.encode("utf-8")) for p in proofs[name]])
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == "invalid_dpop_proof", answer.text
    assert answer.headers["cache-control"] == "no-store"


def test_an_app_that_requires_dpop_gets_no_bearer_token(server: LiveServer, seeder: Seeder) -> None:
    developer = seeder.user("dpopdev")
    app = seeder.app(developer, grant_types=("client_credentials",))
    with httpx.Client(base_url=server.url, timeout=20) as browser:
        assert sign_in(browser, developer).status_code == 303
        page = browser.get(f"/applications/{app.client_id}")
        assert 'name="dpop_bound_access_tokens"' in page.text
        saved = browser.post(f"/applications/{app.client_id}", data={
            **hidden_fields(page.text), "name": app.name, "redirect_uris": app.redirect_uris[0],
            "client_credentials": "1", "dpop_bound_access_tokens": "1"})
        assert saved.status_code == 303, saved.text
        assert "checked" in browser.get(f"/applications/{app.client_id}").text.split(
            'name="dpop_bound_access_tokens"')[1].split(">")[0]
    form = {"grant_type": "client_credentials"}
    plain = httpx.post(server.url + "/oauth/token", data=form, timeout=20,
                       auth=(app.client_id, app.client_secret))
    assert plain.status_code == 400 and plain.json()["error"] == "invalid_dpop_proof"
    bound = DPoPClient(server, app).token(form)
    assert bound.status_code == 200 and bound.json()["token_type"] == "DPoP"
