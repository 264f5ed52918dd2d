"""Faults lose nothing: a database that fails mid-request gives 503 and rolls back; a process killed
mid-flight leaves no state that lets two token sets exist for one code."""

from __future__ import annotations

import os
import signal
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.browser_flow import obtain_code
from tests.support.seed import Seeder
from tests.support.server import LiveServer, start_server
from tests.support.tokens import exchange, me, refresh
from tests.support.waiting import PATIENCE, tail, wait_for_exit


@pytest.fixture()
def impatient_server(tmp_path: Path) -> Iterator[LiveServer]:
    live = start_server(tmp_path, extra_env={"OPENPLATE_SQLITE_BUSY_TIMEOUT_MS": "200"})
    yield live
    live.stop()


def _lock(server: LiveServer) -> sqlite3.Connection:
    conn = sqlite3.connect(server.database_url.removeprefix("sqlite:///"), isolation_level=None)
    conn.execute("BEGIN EXCLUSIVE")
    return conn


def test_database_failure_is_503_and_the_code_survives(impatient_server: LiveServer) -> None:
    seeder = Seeder(impatient_server)
    app = seeder.app(seeder.user("dev"))
    code = obtain_code(impatient_server.url, seeder.user("u"), app.client_id, app.redirect_uris[0])
    lock = _lock(impatient_server)
    try:
        failed = exchange(impatient_server.url, app, code)
        assert failed.status_code == 503
        assert failed.json()["error"] == "temporarily_unavailable"
        assert failed.headers["retry-after"] == "1"
        assert "Traceback" not in failed.text
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    # After recovery the same code works: the failed attempt's transaction was rolled back.
    recovered = exchange(impatient_server.url, app, code)
    assert recovered.status_code == 200, recovered.text
    assert me(impatient_server.url, recovered.json()["access_token"]).status_code == 200


def test_refresh_token_survives_a_failed_refresh(impatient_server: LiveServer) -> None:
    seeder = Seeder(impatient_server)
    app = seeder.app(seeder.user("dev"))
    code = obtain_code(impatient_server.url, seeder.user("u"), app.client_id, app.redirect_uris[0])
    tokens = exchange(impatient_server.url, app, code).json()
    form = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
            "client_id": app.client_id, "client_secret": app.client_secret}
    lock = _lock(impatient_server)
    try:
        assert httpx.post(impatient_server.url + "/oauth/token", data=form).status_code == 503
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    assert httpx.post(impatient_server.url + "/oauth/token", data=form).status_code == 200


def test_killed_process_leaves_no_double_token_sets(tmp_path: Path) -> None:
    live = start_server(tmp_path)
    seeder = Seeder(live)
    app = seeder.app(seeder.user("dev"))
    account = seeder.user("u")
    codes = [obtain_code(live.url, account, app.client_id, app.redirect_uris[0]) for _ in range(30)]
    # Redeem every code (some twice) while the server is killed without warning mid-flight.
    results: list[int] = []
    answered = threading.Event()

    def redeem(code: str) -> None:
        try:
            results.append(exchange(live.url, app, code).status_code)
        except httpx.HTTPError:
            results.append(-1)
        answered.set()

    threads = [threading.Thread(target=redeem, args=(c,)) for c in codes + codes[::3]]
    for thread in threads:
        thread.start()
    # Killed once the first redemption has been answered: the server is redeeming, and most of
    # the 40 are still in flight.
    assert answered.wait(PATIENCE), f"gave up after {PATIENCE:g} s waiting for a first " \
        f"redemption to be answered:\n{tail(live.log())}"
    os.kill(live.process.pid, signal.SIGKILL)
    for thread in threads:
        thread.join(PATIENCE)
    assert not any(thread.is_alive() for thread in threads), (
        f"gave up after {PATIENCE:g} s waiting for every redemption to end once the server was killed")
    wait_for_exit(live.process, "the server, killed with SIGKILL")
    # Whatever happened, the database holds at most one token set per code, and tokens only for
    # codes that were marked used in the same transaction.
    per_code = seeder.scalar(
        "SELECT COUNT(*) FROM authorization_codes c WHERE "
        "(SELECT COUNT(*) FROM access_tokens a WHERE a.grant_id = c.grant_id) > 1"
    )
    orphans = seeder.scalar(
        "SELECT COUNT(*) FROM authorization_codes c WHERE c.used_at IS NULL AND "
        "EXISTS (SELECT 1 FROM access_tokens a WHERE a.grant_id = c.grant_id)"
    )
    assert per_code == 0 and orphans == 0
    # And a restarted server carries on: an unredeemed code (if any survived) still works once.
    restarted = start_server(tmp_path)
    try:
        unused = seeder.scalar("SELECT COUNT(*) FROM authorization_codes WHERE used_at IS NULL")
        assert isinstance(unused, int)
        fresh = obtain_code(restarted.url, account, app.client_id, app.redirect_uris[0])
        assert exchange(restarted.url, app, fresh).status_code == 200
    finally:
        restarted.stop()


#: OPENPLATE_REFRESH_GRACE for the crash test: long enough for a loaded machine to restart the
#: server and retry within it. Nothing waits for it to pass: the test moves the rotations into the
#: past in the database while the server is down, as a long outage would leave them.
GRACE = 60


def _outage(seeder: Seeder, grant_of: str, seconds: int) -> None:
    """Move every refresh token of the grant of the refresh token ``grant_of`` (made, used,
    expiring) ``seconds`` into the past: what an outage that long leaves behind."""
    grant = "(SELECT grant_id FROM refresh_tokens WHERE digest = :d)"
    seeder.execute(f"UPDATE refresh_tokens SET created_at = created_at - :s, expires_at = "
                   f"expires_at - :s, used_at = used_at - :s WHERE grant_id = {grant}",
                   s=seconds, d=seeder.digester.digest(grant_of))


def test_a_refresh_answer_lost_in_a_crash_is_retried_after_restart(tmp_path: Path) -> None:
    """The server is killed (SIGKILL) right after a refresh committed, so its answer may never
    have reached the client; it stays down longer than the grace window; the client retries
    with the same refresh token as soon as it is back, and gets the same successors: its grant
    lives on. A rotation from before the last moments of the crashed server is still reuse."""
    env = {"OPENPLATE_REFRESH_GRACE": str(GRACE)}
    live = start_server(tmp_path, extra_env=env)
    seeder = Seeder(live)
    app = seeder.app(seeder.user("dev"))
    first = exchange(live.url, app, obtain_code(live.url, seeder.user("u"), app.client_id,
                                                app.redirect_uris[0])).json()
    earlier = refresh(live.url, app, first["refresh_token"])
    assert earlier.status_code == 200
    lost = refresh(live.url, app, earlier.json()["refresh_token"])
    assert lost.status_code == 200  # committed: the answer only leaves after the commit
    os.kill(live.process.pid, signal.SIGKILL)
    wait_for_exit(live.process, "the server, killed with SIGKILL")
    # The outage outlasts the grace window (twice over), and the first rotation was made a grace
    # window and more before the last one: long before the crash.
    _outage(seeder, first["refresh_token"], 2 * GRACE)
    seeder.execute("UPDATE refresh_tokens SET used_at = used_at - :s WHERE digest = :d",
                   s=GRACE + 1, d=seeder.digester.digest(first["refresh_token"]))
    restarted = start_server(tmp_path, extra_env=env)
    try:
        retry = refresh(restarted.url, app, earlier.json()["refresh_token"])
        assert retry.status_code == 200, retry.text
        assert retry.json()["refresh_token"] == lost.json()["refresh_token"]
        assert retry.json()["access_token"] == lost.json()["access_token"]
        onward = refresh(restarted.url, app, retry.json()["refresh_token"])
        assert onward.status_code == 200 and me(
            restarted.url, onward.json()["access_token"]).status_code == 200
        # A token rotated well before the crash gets no second window: reuse ends the grant.
        reused = refresh(restarted.url, app, first["refresh_token"])
        assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
        assert me(restarted.url, onward.json()["access_token"]).status_code == 401
    finally:
        restarted.stop()


@pytest.mark.parametrize(("rotated_at", "last_activity", "serving_since", "now", "in_time"), [
    (1000, 0, 0, 1010, True),  # within the grace window: as ever
    (1000, 0, 0, 1011, False),  # after it, with no restart: reuse
    (1000, 1000, 5000, 5010, True),  # the last rotation before a crash, retried once back
    (995, 1000, 5000, 5005, True),  # ... or one of the last moments before it
    (989, 1000, 5000, 5005, False),  # an earlier one gets no second window
    (1000, 1000, 5000, 5011, False),  # the second window ends too
    (1000, 0, 5000, 5001, False),  # nothing in the database at start: no second window
    (1005, 1000, 5000, 5001, False),  # made after the start (by another node): its own window
])
def test_the_retry_rule(rotated_at: int, last_activity: int, serving_since: int, now: int,
                        in_time: bool) -> None:
    from openplate.oauth.grants.refresh_token import retry_in_time
    from openplate.oauth.issuance import RestartMarks, TokenPolicy

    policy = TokenPolicy(refresh_grace=10, restart=RestartMarks(serving_since, last_activity))
    assert retry_in_time(policy, rotated_at, now) is in_time
