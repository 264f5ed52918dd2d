"""Tokens minted before secrets had stamps still work after the upgrade, on every engine.

The rows are written as the previous release wrote them: the plain keyed digest of an unstamped
secret, and a rotated refresh token with no successor stamp whose successors were derived the old
way.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path

from openplate.oauth.tokens import ACCESS_TOKEN_PREFIX, REFRESH_TOKEN_PREFIX
from tests.support.seed import Seeder
from tests.support.server import LiveServer, start_server
from tests.support.tokens import me, refresh, tokens_for

_COPY = """INSERT INTO {table} (digest, grant_id, client_pk, user_id, scope, created_at, expires_at{extra})
SELECT :new, grant_id, client_pk, user_id, scope, created_at, expires_at{extra_values}
FROM {table} WHERE digest = :current"""


def _copy_row(seeder: Seeder, table: str, current: str, new: str, *, used: bool = False) -> None:
    """Store ``new`` as the previous release would have: a row like ``current``'s, plain digest."""
    extra, extra_values = (", used_at", ", created_at") if used else ("", "")
    seeder.execute(_COPY.format(table=table, extra=extra, extra_values=extra_values),
                   new=seeder.digester.digest(new), current=seeder.digester.digest(current))


def test_unstamped_access_and_refresh_tokens_keep_working(server: LiveServer, seeder: Seeder) -> None:
    app = seeder.app(seeder.user("dev"))
    current = tokens_for(server.url, seeder.user("u"), app)
    old_access = ACCESS_TOKEN_PREFIX + secrets.token_urlsafe(32)
    old_refresh = REFRESH_TOKEN_PREFIX + secrets.token_urlsafe(32)
    assert len(seeder.digester.digest(old_access)) == 64
    _copy_row(seeder, "access_tokens", current["access_token"], old_access)
    _copy_row(seeder, "refresh_tokens", current["refresh_token"], old_refresh)

    assert me(server.url, old_access).status_code == 200
    rotated = refresh(server.url, app, old_refresh)
    assert rotated.status_code == 200, rotated.text
    body = rotated.json()
    assert re.fullmatch(r"oprt_[0-9a-f]{14}[A-Za-z0-9_\-]{43}", body["refresh_token"])  # stamped
    assert me(server.url, body["access_token"]).status_code == 200
    # A retry inside the grace window gets the very same stamped successors.
    again = refresh(server.url, app, old_refresh).json()
    assert (again["access_token"], again["refresh_token"]) == (body["access_token"],
                                                               body["refresh_token"])


def test_a_rotation_made_before_stamps_replays_its_old_successors(
    server: LiveServer, seeder: Seeder
) -> None:
    app = seeder.app(seeder.user("dev"))
    current = tokens_for(server.url, seeder.user("u"), app)
    parent = REFRESH_TOKEN_PREFIX + secrets.token_urlsafe(32)
    # What the previous release derived (no stamp) and stored when it rotated ``parent``.
    access = seeder.digester.derive(parent, purpose="refresh-access", prefix=ACCESS_TOKEN_PREFIX,
                                    stamp=None)
    successor = seeder.digester.derive(parent, purpose="refresh-refresh",
                                       prefix=REFRESH_TOKEN_PREFIX, stamp=None)
    _copy_row(seeder, "refresh_tokens", current["refresh_token"], parent, used=True)
    _copy_row(seeder, "refresh_tokens", current["refresh_token"], successor)
    _copy_row(seeder, "access_tokens", current["access_token"], access)
    assert seeder.scalar("SELECT successor_stamp FROM refresh_tokens WHERE digest = :d",
                         d=seeder.digester.digest(parent)) is None

    retry = refresh(server.url, app, parent)
    assert retry.status_code == 200, retry.text
    assert (retry.json()["access_token"], retry.json()["refresh_token"]) == (access, successor)
    assert refresh(server.url, app, successor).status_code == 200


def test_a_node_with_stamps_off_mints_the_old_shape_and_honours_both(
    server: LiveServer, seeder: Seeder, tmp_path: Path
) -> None:
    """OPENPLATE_STAMPED_SECRETS=false, for a rolling upgrade from a release without stamps:
    what this node mints, an old node can find; what a stamping node minted, it finds too."""
    app = seeder.app(seeder.user("dev"))
    stamped = tokens_for(server.url, seeder.user("u"), app)
    plain_node = start_server(tmp_path, database_url=server.database_url,
                              extra_env={**server.env, "OPENPLATE_STAMPED_SECRETS": "false"})
    try:
        issued = tokens_for(plain_node.url, seeder.user("u"), app)
        for name in ("access_token", "refresh_token"):
            assert re.fullmatch(r"op[a-z]{2}_[A-Za-z0-9_\-]{43}", issued[name]), issued[name]
        assert me(server.url, issued["access_token"]).status_code == 200  # a stamping node
        rotated = refresh(plain_node.url, app, issued["refresh_token"]).json()
        assert len(rotated["refresh_token"]) == 48  # successors unstamped too
        again = refresh(plain_node.url, app, issued["refresh_token"]).json()  # in the grace window
        assert (again["access_token"], again["refresh_token"]) == (rotated["access_token"],
                                                                   rotated["refresh_token"])
        assert me(plain_node.url, stamped["access_token"]).status_code == 200
        assert refresh(plain_node.url, app, stamped["refresh_token"]).status_code == 200
    finally:
        plain_node.stop()
