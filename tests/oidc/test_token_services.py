"""RFC 7009 revocation, RFC 7662 introspection, RFC 6749 §4.4 client credentials, RFC 9068 JWT
access tokens and key rotation, each against a live server."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support import jwt_check
from tests.support.mindmaps import make_xmind_json
from tests.support.postgres import create_database, drop_database
from tests.support.seed import Account, App, Seeder
from tests.support.server import LiveServer, start_server
from tests.support.tokens import me, refresh, tokens_for
from tests.support.waiting import exited, wait_until


def _tokens(server: LiveServer, seeder: Seeder, app: App, scope: str = "account maps") -> dict[str, str]:
    return tokens_for(server.url, seeder.user("u"), app, scope=scope)


def _client_post(server: LiveServer, path: str, app: App, **form: str) -> httpx.Response:
    return httpx.post(server.url + path, auth=(app.client_id, app.client_secret or ""), data=form)


def test_introspection_only_for_the_owning_client(server: LiveServer, seeder: Seeder) -> None:
    app, other = seeder.app(seeder.user("dev")), seeder.app(seeder.user("dev"))
    tokens = _tokens(server, seeder, app)
    active = _client_post(server, "/oauth/introspect", app, token=tokens["access_token"]).json()
    assert active["active"] is True and active["client_id"] == app.client_id
    assert active["scope"] == "account maps" and active["token_type"] == "Bearer"
    assert active["iss"] == server.url and active["exp"] > active["iat"]
    refresh_info = _client_post(server, "/oauth/introspect", app, token=tokens["refresh_token"]).json()
    assert refresh_info["active"] is True and refresh_info["token_type"] == "refresh_token"
    for token in (tokens["access_token"], tokens["refresh_token"], "opat_garbage", "x"):
        assert _client_post(server, "/oauth/introspect", other, token=token).json() == {"active": False}
    unauthenticated = httpx.post(server.url + "/oauth/introspect", data={"token": tokens["access_token"]})
    assert unauthenticated.status_code == 401
    assert _client_post(server, "/oauth/introspect", app).json()["error"] == "invalid_request"


def test_introspection_requires_client_authentication(server: LiveServer, seeder: Seeder) -> None:
    """RFC 7662 §2.1: a public client (no secret to prove who it is) may not introspect, and the
    metadata does not offer "none" for the introspection endpoint."""
    public = seeder.app(seeder.user("dev"), public=True)
    for form in ({"client_id": public.client_id, "token": "opat_anything"},
                 {"client_id": public.client_id, "token": "oprt_anything",
                  "token_type_hint": "refresh_token"}):
        refused = httpx.post(server.url + "/oauth/introspect", data=form)
        assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"
        assert refused.headers["www-authenticate"].startswith("Basic")
    # Revocation stays open to public clients (RFC 7009 §2.1 authenticates them by client_id).
    revoked = httpx.post(server.url + "/oauth/revoke",
                         data={"client_id": public.client_id, "token": "opat_anything"})
    assert revoked.status_code == 200
    meta = httpx.get(server.url + "/.well-known/openid-configuration").json()
    assert meta["introspection_endpoint_auth_methods_supported"] == [
        "client_secret_basic", "client_secret_post"]
    assert "none" in meta["revocation_endpoint_auth_methods_supported"]


def test_revocation_only_of_own_tokens(server: LiveServer, seeder: Seeder) -> None:
    app, other = seeder.app(seeder.user("dev")), seeder.app(seeder.user("dev"))
    tokens = _tokens(server, seeder, app)
    foreign = _client_post(server, "/oauth/revoke", other, token=tokens["access_token"])
    assert foreign.status_code == 200  # RFC 7009 §2.2: no oracle ...
    assert me(server.url, tokens["access_token"]).status_code == 200  # ... and no effect
    assert _client_post(server, "/oauth/revoke", other, token=tokens["refresh_token"]).status_code == 200
    assert _client_post(server, "/oauth/revoke", app, token=tokens["access_token"]).status_code == 200
    assert me(server.url, tokens["access_token"]).status_code == 401
    # Revoking the refresh token ends the grant: the refresh token and any access token.
    assert refresh(server.url, app, tokens["refresh_token"]).status_code == 200
    fresh = _tokens(server, seeder, app)
    assert _client_post(server, "/oauth/revoke", app, token=fresh["refresh_token"],
                        token_type_hint="refresh_token").status_code == 200
    assert me(server.url, fresh["access_token"]).status_code == 401
    assert refresh(server.url, app, fresh["refresh_token"]).json()["error"] == "invalid_grant"
    assert _client_post(server, "/oauth/revoke", app, token="nonsense").status_code == 200


def _cli(server: LiveServer, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "openplate.cli", *args], env=server.env,
                          capture_output=True, text=True, timeout=60)


def _machine_app(server: LiveServer, owner: Account) -> App:
    made = _cli(server, "app", "create", "--owner", owner.username, "--name", "Robot",
                "--grant-type", "client_credentials", "--json")
    assert made.returncode == 0, made.stderr
    data = json.loads(made.stdout)
    assert data["grant_types"] == ["client_credentials"] and data["redirect_uris"] == []
    return App(data["client_id"], data["client_secret"], (), "Robot")


def test_client_credentials(server: LiveServer, seeder: Seeder) -> None:
    owner = seeder.user("bot")
    robot = _machine_app(server, owner)
    token = _client_post(server, "/oauth/token", robot, grant_type="client_credentials")
    assert token.status_code == 200, token.text
    body = token.json()
    assert "refresh_token" not in body and body["scope"] == "maps" and body["expires_in"] == 3600
    upload = httpx.post(server.url + "/maps", headers={"Authorization": f"Bearer {body['access_token']}"},
                        files={"map": ("r.xmind", make_xmind_json("Robot map"))})
    assert upload.status_code == 201
    page = httpx.get(upload.json()["url"])
    assert owner.username in page.text  # the app acts as its owner's account
    assert me(server.url, body["access_token"]).status_code == 403  # no user, no account scope
    described = _client_post(server, "/oauth/introspect", robot, token=body["access_token"]).json()
    assert described["active"] is True and described["sub"] == robot.client_id
    assert "username" not in described  # no user stands behind the token
    wide = _client_post(server, "/oauth/token", robot, grant_type="client_credentials", scope="account")
    assert wide.json()["error"] == "invalid_scope"
    # An app without the grant is refused, and the robot cannot run the browser flow.
    ordinary = seeder.app(seeder.user("dev"))
    refused = _client_post(server, "/oauth/token", ordinary, grant_type="client_credentials")
    assert refused.status_code == 400 and refused.json()["error"] == "unauthorized_client"
    robot_code = _client_post(server, "/oauth/token", robot, grant_type="authorization_code",
                              code="opac_x", redirect_uri="https://a.example/cb")
    assert robot_code.json()["error"] == "unauthorized_client"


def test_client_credentials_tokens_share_a_grant_but_end_one_by_one(
    server: LiveServer, seeder: Seeder
) -> None:
    robot = _machine_app(server, seeder.user("bot"))

    def new_token() -> str:
        answer = _client_post(server, "/oauth/token", robot, grant_type="client_credentials")
        assert answer.status_code == 200, answer.text
        return str(answer.json()["access_token"])

    def active(token: str) -> bool:
        return bool(_client_post(server, "/oauth/introspect", robot, token=token).json()["active"])

    def grant_of(token: str) -> object:
        return seeder.scalar("SELECT grant_id FROM access_tokens WHERE digest = :d",
                             d=seeder.digester.digest(token))

    first, second = new_token(), new_token()
    assert grant_of(first) == grant_of(second) and first != second
    assert _client_post(server, "/oauth/revoke", robot, token=first).status_code == 200
    assert not active(first) and active(second)  # revoking one token leaves the other
    # The grant ended elsewhere (another process, the owner's new password): the next token
    # hangs on a new grant and works; the old ones are over.
    seeder.execute("UPDATE grants SET revoked_at = created_at WHERE id = :g", g=grant_of(second))
    third = new_token()
    assert grant_of(third) != grant_of(second)
    assert active(third) and not active(second)


def test_client_credentials_refused_for_public_clients(server: LiveServer, seeder: Seeder) -> None:
    owner = seeder.user("pub")
    made = _cli(server, "app", "create", "--owner", owner.username, "--name", "X", "--public",
                "--grant-type", "client_credentials", "--json")
    assert made.returncode != 0 and "public client" in made.stderr


@pytest.fixture(scope="module")
def jwt_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder: Path = tmp_path_factory.mktemp("jwt")
    live = start_server(folder, extra_env={"OPENPLATE_ACCESS_TOKEN_FORMAT": "jwt",
                                           "OPENPLATE_SIGNING_ALG": "ES256"})
    yield live
    live.stop()


def test_jwt_access_tokens(jwt_server: LiveServer) -> None:
    seeder = Seeder(jwt_server)
    app = seeder.app(seeder.user("dev"))
    tokens = _tokens(jwt_server, seeder, app, scope="openid account maps")
    access = tokens["access_token"]
    assert jwt_check.header(access)["typ"] == "at+jwt" and jwt_check.header(access)["alg"] == "ES256"
    claims = jwt_check.verify(access, jwt_server.url)
    assert claims["iss"] == jwt_server.url and claims["aud"] == jwt_server.url
    assert claims["client_id"] == app.client_id and claims["scope"] == "openid account maps"
    assert len(claims["jti"]) == 32 and not claims["jti"].startswith("opat_")  # an id, not a secret
    assert me(jwt_server.url, claims["jti"]).status_code == 401
    unsigned = access.rsplit(".", 1)[0] + "."
    assert me(jwt_server.url, unsigned).status_code == 401
    id_claims = jwt_check.verify(tokens["id_token"], jwt_server.url)
    assert id_claims["at_hash"] == jwt_check.at_hash(access)
    assert me(jwt_server.url, access).status_code == 200
    assert _client_post(jwt_server, "/oauth/introspect", app, token=access).json()["active"] is True
    # A successor from the grace window is the very same JWT.
    first = refresh(jwt_server.url, app, tokens["refresh_token"]).json()
    retry = refresh(jwt_server.url, app, tokens["refresh_token"]).json()
    assert retry["access_token"] == first["access_token"]
    assert _client_post(jwt_server, "/oauth/revoke", app, token=access).status_code == 200
    assert me(jwt_server.url, access).status_code == 401  # the database stays the authority
    forged = access.rsplit(".", 1)[0] + ".AAAA"
    assert me(jwt_server.url, first["access_token"]).status_code == 200
    assert me(jwt_server.url, forged).status_code == 401


def test_a_client_credentials_jwt_names_the_client_as_its_subject(jwt_server: LiveServer) -> None:
    """RFC 9068 §2.2: with no resource owner, ``sub`` identifies the client; introspection says
    the same, and neither /users/me nor UserInfo takes the token for a user."""
    seeder = Seeder(jwt_server)
    owner = seeder.user("bot")
    robot = _machine_app(jwt_server, owner)
    access = _client_post(jwt_server, "/oauth/token", robot,
                          grant_type="client_credentials").json()["access_token"]
    claims = jwt_check.verify(access, jwt_server.url)
    assert claims["sub"] == robot.client_id == claims["client_id"]
    assert claims["sub"] != str(owner.id)
    described = _client_post(jwt_server, "/oauth/introspect", robot, token=access).json()
    assert described["active"] is True and described["sub"] == robot.client_id
    assert "username" not in described
    # Even with the scopes those calls need (none a client can ask for today), it is no user's.
    seeder.execute("UPDATE access_tokens SET scope = 'openid account maps' WHERE digest = :d",
                   d=seeder.digester.digest(access))
    for path in ("/users/me", "/oauth/userinfo"):
        answer = httpx.get(jwt_server.url + path, headers={"Authorization": f"Bearer {access}"})
        assert answer.status_code == 403 and answer.json()["error"] == "insufficient_scope", path
    # A user's token keeps the user as its subject.
    user_claims = jwt_check.verify(_tokens(jwt_server, seeder, seeder.app(owner))["access_token"],
                                   jwt_server.url)
    assert user_claims["sub"] != user_claims["client_id"]


def test_key_rotation_keeps_old_tokens_verifiable(tmp_path: Path) -> None:
    live = start_server(tmp_path)
    try:
        seeder = Seeder(live)
        app = seeder.app(seeder.user("dev"))
        old = _tokens(live, seeder, app, scope="openid")["id_token"]
        before = {k["kid"] for k in httpx.get(live.url + "/oauth/jwks").json()["keys"]}
        assert jwt_check.header(old)["kid"] in before
        young = _cli(live, "keys", "rotate")
        assert young.returncode != 0 and "--force" in young.stderr  # the next key is brand new
        rotated = _cli(live, "keys", "rotate", "--force", "--json")
        assert rotated.returncode == 0, rotated.stderr
        result = json.loads(rotated.stdout)
        assert result["current"] in before and result["retired"] == jwt_check.header(old)["kid"]
    finally:
        live.stop()
    live = start_server(tmp_path)  # a restart loads the new ring at once (running nodes: within 60 s)
    try:
        after = {k["kid"] for k in httpx.get(live.url + "/oauth/jwks").json()["keys"]}
        assert before <= after and result["next"] in after  # old, current and next all published
        new = _tokens(live, Seeder(live), app, scope="openid")["id_token"]
        assert jwt_check.header(new)["kid"] == result["current"]
        assert jwt_check.verify(old, live.url)["aud"] == app.client_id
        assert jwt_check.verify(new, live.url)["aud"] == app.client_id
        listed = [json.loads(line) for line in _cli(live, "keys", "list", "--json").stdout.splitlines()]
        for alg in ("RS256", "ES256", "EdDSA"):  # `keys rotate` rotated every algorithm
            assert sorted(k["status"] for k in listed if k["alg"] == alg) == [
                "current", "next", "retired"], alg
    finally:
        live.stop()


def _published_kids(live: LiveServer) -> set[str]:
    return {k["kid"] for k in httpx.get(live.url + "/oauth/jwks", timeout=20).json()["keys"]}


def _wait_for_kid(live: LiveServer, kid: str) -> None:
    """Until the server's JWKS lists ``kid``: it has reloaded its key ring (it reloads every
    OPENPLATE_KEY_RELOAD_INTERVAL seconds)."""
    wait_until(lambda: kid in _published_kids(live),
               f"the server to reload its key ring and publish {kid} at {live.url}/oauth/jwks",
               log=live.log, gone=exited(live.process), seen=lambda: sorted(_published_kids(live)))


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_a_refresh_retry_after_a_key_rotation_gets_the_same_successor(
    tmp_path: Path, engine: str
) -> None:
    """A retry inside the grace window gets the same refresh token and a working access token
    even when another process rotated the signing keys in between; the grant lives on."""
    database_url = create_database() if engine == "postgresql" else None
    live = start_server(tmp_path, database_url=database_url, extra_env={
        "OPENPLATE_ACCESS_TOKEN_FORMAT": "jwt", "OPENPLATE_KEY_RELOAD_INTERVAL": "1",
        "OPENPLATE_REFRESH_GRACE": "120"})
    try:
        seeder = Seeder(live)
        app = seeder.app(seeder.user("dev"))
        tokens = _tokens(live, seeder, app, scope="openid account maps")
        first = refresh(live.url, app, tokens["refresh_token"]).json()
        signed_by = jwt_check.header(first["access_token"])["kid"]
        rotated = _cli(live, "keys", "rotate", "--force", "--json")  # another process, same database
        assert rotated.returncode == 0, rotated.stderr
        _wait_for_kid(live, json.loads(rotated.stdout)["next"])

        retry = refresh(live.url, app, tokens["refresh_token"])
        assert retry.status_code == 200, retry.text
        again = retry.json()
        assert again["refresh_token"] == first["refresh_token"]
        assert jwt_check.header(again["access_token"])["kid"] != signed_by  # re-signed
        first_claims = jwt_check.verify(first["access_token"], live.url)
        claims = jwt_check.verify(again["access_token"], live.url)
        assert {k: claims[k] for k in ("jti", "iat", "exp", "sub", "scope")} == {
            k: first_claims[k] for k in ("jti", "iat", "exp", "sub", "scope")}
        assert jwt_check.verify(again["id_token"], live.url)["at_hash"] == jwt_check.at_hash(
            again["access_token"])
        for access in (again["access_token"], first["access_token"]):
            assert me(live.url, access).status_code == 200
            assert _client_post(live, "/oauth/introspect", app, token=access).json()["active"]
        # Another retry gets that same answer; the grant is alive and the successor works.
        assert refresh(live.url, app, tokens["refresh_token"]).json()["access_token"] == (
            again["access_token"])
        assert seeder.scalar("SELECT count(*) FROM grants WHERE revoked_at IS NOT NULL") == 0
        onward = refresh(live.url, app, again["refresh_token"])
        assert onward.status_code == 200, onward.text
        assert me(live.url, onward.json()["access_token"]).status_code == 200
        assert "Traceback" not in live.log()
    finally:
        live.stop()
        if database_url is not None:
            drop_database(database_url)


def _keys_once_started(folder: Path) -> tuple[list[dict[str, str]], set[str]]:
    """Start a server on ``folder``'s database: its keys as `keys list` shows them, and the kids
    its JWKS publishes."""
    live = start_server(folder)
    try:
        listed = [json.loads(line) for line in _cli(live, "keys", "list", "--json").stdout.splitlines()]
        return listed, {k["kid"] for k in httpx.get(live.url + "/oauth/jwks").json()["keys"]}
    finally:
        live.stop()


def test_a_first_start_publishes_its_next_key_once(tmp_path: Path) -> None:
    # The first answer does not wait for the next key (it is made on a worker thread after the
    # current one); start_server waits until the JWKS lists it, or fails after 30 s.
    listed, published = _keys_once_started(tmp_path)
    assert sorted((k["alg"], k["status"]) for k in listed) == [
        ("ES256", "current"), ("ES256", "next"), ("EdDSA", "current"), ("EdDSA", "next"),
        ("RS256", "current"), ("RS256", "next")]
    assert published == {k["kid"] for k in listed}
    again, _ = _keys_once_started(tmp_path)  # a restart finds both and makes no other
    assert again == listed


def test_private_keys_are_sealed_at_rest(server: LiveServer, seeder: Seeder) -> None:
    sealed = seeder.scalar("SELECT private_encrypted FROM signing_keys LIMIT 1")
    assert isinstance(sealed, str) and "PRIVATE KEY" not in sealed and len(sealed) > 100
    assert b"PRIVATE KEY" not in seeder.at_rest(server)
