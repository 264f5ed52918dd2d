"""``openplate user …`` and ``openplate app …`` run as an operator runs them: a real process on
the live server's database, beside the running server."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.support.server import LiveServer


def operator(server: LiveServer, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """``openplate ARGS --database-url <the server's>``, with the server's instance key."""
    env = {**os.environ, "OPENPLATE_SECRET_KEY": server.env["OPENPLATE_SECRET_KEY"]}
    return subprocess.run(
        [sys.executable, "-m", "openplate.cli", *args, "--database-url", server.database_url],
        input=stdin, capture_output=True, text=True, env=env, cwd=server.folder, timeout=60)


def operator_json(server: LiveServer, *args: str, stdin: str = "") -> dict[str, object]:
    """The command's ``--json`` answer; fails the test on a non-zero exit."""
    done = operator(server, *args, "--json", stdin=stdin)
    assert done.returncode == 0, done.stderr
    answer: dict[str, object] = json.loads(done.stdout)
    return answer
