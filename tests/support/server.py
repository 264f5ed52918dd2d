"""Start ``openplate serve`` as a real process on a free loopback port, and stop it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.support.waiting import exited, wait_until


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    folder: Path
    database_url: str
    process: subprocess.Popen[bytes]
    env: dict[str, str] = field(default_factory=dict)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def log(self) -> str:
        return (self.folder / "server.log").read_text(errors="replace")


# Test servers share one loopback address, so per-address throttling must not trip across tests;
# the throttling tests start their own server with tight limits.
RELAXED_LIMITS = {
    "OPENPLATE_SIGNIN_FAILURES_PER_IP": "100000",
    "OPENPLATE_TOKEN_FAILURES_PER_IP": "100000",
    "OPENPLATE_TOKEN_FAILURES_PER_CLIENT": "100000",
    "OPENPLATE_SIGNUPS_PER_IP": "100000",
    "OPENPLATE_LINK_MAILS_PER_IP": "100000",
    "OPENPLATE_DEVICE_CODES_PER_IP": "100000",
}
# A burst (tests/support/burst.py) opens all its connections before it sends the first POST; on
# a loaded machine that takes longer than the default 5 s, and the server closed the first ones
# meanwhile (a stress run saw a ReadError), so test servers keep idle connections longer.
KEEP_CONNECTIONS = {"OPENPLATE_KEEPALIVE_TIMEOUT": "300"}


def start_server(
    folder: Path, *, database_url: str | None = None, extra_env: dict[str, str] | None = None,
    localhost: bool = False,
) -> LiveServer:
    """``localhost``: the public URL is http://localhost:<port> (a secure context with a valid
    WebAuthn relying-party ID, which 127.0.0.1 is not), and ``url`` uses it."""
    port = free_port()
    database_url = database_url or f"sqlite:///{folder / 'openplate.db'}"
    env = {
        **os.environ,
        **RELAXED_LIMITS,
        **KEEP_CONNECTIONS,
        "OPENPLATE_DATABASE_URL": database_url,
        "OPENPLATE_SECRET_KEY": "test-secret-key-" + "x" * 40,
        **({"OPENPLATE_PUBLIC_URL": f"http://localhost:{port}"} if localhost else {}),
        **(extra_env or {}),
    }
    with (folder / "server.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "openplate.cli", "serve", "--port", str(port),
             "--log-level", "info"],
            cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    host = "localhost" if localhost else "127.0.0.1"
    live = LiveServer(url=f"http://{host}:{port}", folder=folder, database_url=database_url,
                      process=process, env=env)
    try:
        wait_until(lambda: httpx.get(live.url + "/openapi.json", timeout=5).status_code == 200,
                   f"openplate serve ({database_url}) to answer GET {live.url}/openapi.json",
                   log=live.log, gone=exited(process), ignore=(httpx.HTTPError,))
        _wait_for_next_key(live)
    except BaseException:
        live.stop()
        raise
    return live


#: Every algorithm has a current and a next key (openplate/signing.py).
ALGORITHMS = ("RS256", "ES256", "EdDSA")


def _published(url: str) -> list[str]:
    return [key["alg"] for key in httpx.get(url + "/oauth/jwks", timeout=5).json()["keys"]]


def _wait_for_next_key(live: LiveServer) -> None:
    """A new database's next signing keys are published just after the first answer (see
    publish_next_keys in web/app.py; tests/oidc/test_token_services.py checks that they come):
    tests start from the settled server, whose JWKS lists the current and the next key of every
    algorithm."""
    wait_until(lambda: all(_published(live.url).count(alg) >= 2 for alg in ALGORITHMS),
               f"{live.url}/oauth/jwks to list a current and a next key of each of "
               f"{', '.join(ALGORITHMS)} (publish_next_keys)",
               log=live.log, gone=exited(live.process), seen=lambda: _published(live.url),
               ignore=(httpx.HTTPError, ValueError, KeyError))
