"""Codes and refresh tokens are used once, atomically, on SQLite and on PostgreSQL.

RFC 6749 §4.1.2 (code replay revokes), RFC 9700 §2.2.2 / §4.14.2 (refresh rotation, reuse detection).
"""

from __future__ import annotations

import time

from tests.support.browser_flow import obtain_code
from tests.support.seed import Seeder
from tests.support.server import LiveServer
from tests.support.tokens import all_at_once, exchange, me, refresh


def test_concurrent_code_redemptions_exactly_one_wins(server: LiveServer, seeder: Seeder) -> None:
    app = seeder.app(seeder.user("dev"))
    code = obtain_code(server.url, seeder.user("u"), app.client_id, app.redirect_uris[0])
    results = all_at_once(8, lambda: exchange(server.url, app, code))
    statuses = sorted(r.status_code for r in results)
    assert statuses == [200] + [400] * 7, [r.text for r in results]
    assert {r.json()["error"] for r in results if r.status_code == 400} == {"invalid_grant"}


def test_code_replay_revokes_tokens_from_the_first_redemption(
    server: LiveServer, seeder: Seeder
) -> None:
    app = seeder.app(seeder.user("dev"))
    code = obtain_code(server.url, seeder.user("u"), app.client_id, app.redirect_uris[0])
    first = exchange(server.url, app, code).json()
    assert me(server.url, first["access_token"]).status_code == 200
    assert exchange(server.url, app, code).json()["error"] == "invalid_grant"
    assert me(server.url, first["access_token"]).status_code == 401
    assert refresh(server.url, app, first["refresh_token"]).json()["error"] == "invalid_grant"


def test_refresh_rotates_and_reuse_revokes_the_grant(server: LiveServer, seeder: Seeder) -> None:
    app = seeder.app(seeder.user("dev"))
    code = obtain_code(server.url, seeder.user("u"), app.client_id, app.redirect_uris[0])
    first = exchange(server.url, app, code).json()
    second = refresh(server.url, app, first["refresh_token"]).json()
    assert second["refresh_token"] != first["refresh_token"]
    third = refresh(server.url, app, second["refresh_token"]).json()
    assert me(server.url, third["access_token"]).status_code == 200
    # The first refresh token is long retired (its successor was used): reuse ends everything.
    reused = refresh(server.url, app, first["refresh_token"])
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    assert me(server.url, third["access_token"]).status_code == 401
    assert refresh(server.url, app, third["refresh_token"]).json()["error"] == "invalid_grant"


def test_concurrent_refreshes_share_one_successor(server: LiveServer, seeder: Seeder) -> None:
    app = seeder.app(seeder.user("dev"))
    code = obtain_code(server.url, seeder.user("u"), app.client_id, app.redirect_uris[0])
    first = exchange(server.url, app, code).json()
    results = all_at_once(6, lambda: refresh(server.url, app, first["refresh_token"]))
    assert [r.status_code for r in results] == [200] * 6, [r.text for r in results]
    bodies = [r.json() for r in results]
    assert len({b["access_token"] for b in bodies}) == 1
    assert len({b["refresh_token"] for b in bodies}) == 1
    successor = bodies[0]
    assert me(server.url, successor["access_token"]).status_code == 200
    # The successor is the one live refresh token: it works, and then its parent is dead for good.
    nxt = refresh(server.url, app, successor["refresh_token"])
    assert nxt.status_code == 200
    late = refresh(server.url, app, first["refresh_token"])
    assert late.status_code == 400 and late.json()["error"] == "invalid_grant"


def test_retry_after_grace_window_is_reuse(server: LiveServer, seeder: Seeder) -> None:
    app = seeder.app(seeder.user("dev"))
    code = obtain_code(server.url, seeder.user("u"), app.client_id, app.redirect_uris[0])
    first = exchange(server.url, app, code).json()
    successor = refresh(server.url, app, first["refresh_token"]).json()
    retry = refresh(server.url, app, first["refresh_token"]).json()
    assert retry["refresh_token"] == successor["refresh_token"]  # inside the window: same answer
    seeder.execute(
        "UPDATE refresh_tokens SET used_at = used_at - 60 WHERE digest = :digest",
        digest=seeder.digester.digest(first["refresh_token"]),
    )
    late = refresh(server.url, app, first["refresh_token"])
    assert late.json()["error"] == "invalid_grant"
    assert me(server.url, successor["access_token"]).status_code == 401


def test_a_retry_of_a_rotation_by_an_earlier_release_gets_the_same_successor(
    server: LiveServer, seeder: Seeder
) -> None:
    """A successor minted before refresh tokens kept their access token's digest (an earlier
    release's rotation, retried around an upgrade) is still found and answered."""
    app = seeder.app(seeder.user("dev"))
    code = obtain_code(server.url, seeder.user("u"), app.client_id, app.redirect_uris[0])
    first = exchange(server.url, app, code).json()
    successor = refresh(server.url, app, first["refresh_token"]).json()
    seeder.execute("UPDATE refresh_tokens SET access_digest = NULL WHERE digest = :digest",
                   digest=seeder.digester.digest(successor["refresh_token"]))
    retry = refresh(server.url, app, first["refresh_token"])
    assert retry.status_code == 200, retry.text
    assert retry.json()["access_token"] == successor["access_token"]
    assert retry.json()["refresh_token"] == successor["refresh_token"]
    assert me(server.url, successor["access_token"]).status_code == 200


def test_scope_on_refresh_only_narrows(server: LiveServer, seeder: Seeder) -> None:
    app = seeder.app(seeder.user("dev"))
    code = obtain_code(server.url, seeder.user("u"), app.client_id, app.redirect_uris[0],
                       scope="account")
    first = exchange(server.url, app, code).json()
    wider = refresh(server.url, app, first["refresh_token"], scope="account maps")
    assert wider.status_code == 400 and wider.json()["error"] == "invalid_scope"
    same = refresh(server.url, app, first["refresh_token"], scope="account")
    assert same.status_code == 200 and same.json()["scope"] == "account"
    assert time.time() < same.json()["expires"]
