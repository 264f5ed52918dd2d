"""The ``openplate`` command's contract: names, flags, JSON output, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def run(tmp_path: Path, *args: str, stdin: str = "",
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``openplate ARGS`` on ``tmp_path/cli.db``, with ``env`` added to the environment."""
    env = {**os.environ, "OPENPLATE_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "openplate.cli", *args],
        input=stdin, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], words: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert words in lines[0]


def test_user_and_app_lifecycle(tmp_path: Path) -> None:
    assert run(tmp_path, "migrate").returncode == 0
    created = run(tmp_path, "user", "create", "--email", "ann@example.org", "--username", "ann",
                  "--password-stdin", stdin="s3cret-password\n")
    assert created.returncode == 0, created.stderr
    user = json.loads(created.stdout)
    assert user["username"] == "ann" and user["email"] == "ann@example.org" and user["id"] >= 1

    duplicate = run(tmp_path, "user", "create", "--email", "other@example.org", "--username", "ANN",
                    "--password-stdin", stdin="s3cret-password\n")
    assert_one_line_error(duplicate, "already exists")

    app = run(tmp_path, "app", "create", "--owner", "ann@example.org", "--name", "Desktop",
              "--redirect-uri", "http://localhost:13524/", "--redirect-uri",
              "https://app.example.com/cb", "--json")
    assert app.returncode == 0, app.stderr
    data = json.loads(app.stdout)
    assert data["client_id"].startswith("opc_") and data["client_secret"].startswith("opcs_")
    assert data["redirect_uris"] == ["http://localhost:13524/", "https://app.example.com/cb"]

    public = run(tmp_path, "app", "create", "--owner", "ann", "--name", "Mobile", "--public",
                 "--redirect-uri", "http://127.0.0.1/cb", "--json")
    assert public.returncode == 0, public.stderr
    assert json.loads(public.stdout)["client_secret"] is None

    # The secret is stored only as a digest.
    raw = b"".join(path.read_bytes() for path in tmp_path.glob("cli.db*"))
    assert len(raw) > 10_000
    assert data["client_secret"].encode() not in raw


@pytest.mark.parametrize("args,words", [
    (("app", "create", "--owner", "nobody", "--name", "X", "--redirect-uri", "https://a.example/cb",
      "--json"), "no user"),
    (("app", "create", "--owner", "ann", "--name", "X", "--redirect-uri", "http://example.com/cb",
      "--json"), "loopback"),
    (("app", "create", "--owner", "ann", "--name", "X", "--json"), "at least one redirect URI"),
    (("app", "create", "--owner", "ann", "--name", "", "--redirect-uri", "https://a.example/cb"),
     "client name"),
])
def test_app_create_errors(tmp_path: Path, args: tuple[str, ...], words: str) -> None:
    run(tmp_path, "user", "create", "--email", "ann@example.org", "--username", "ann",
        "--password-stdin", stdin="s3cret-password\n")
    assert_one_line_error(run(tmp_path, *args), words)


@pytest.mark.parametrize("args,stdin,words", [
    (("--email", "bad", "--username", "bob", "--password-stdin"), "s3cret-password\n", "e-mail"),
    (("--email", "b@example.org", "--username", "b", "--password-stdin"), "s3cret-password\n",
     "username"),
    (("--email", "b@example.org", "--username", "bob", "--password-stdin"), "short\n", "password"),
    (("--email", "b@example.org", "--username", "bob"), "", "--password-stdin"),
])
def test_user_create_errors(tmp_path: Path, args: tuple[str, ...], stdin: str, words: str) -> None:
    assert_one_line_error(run(tmp_path, "user", "create", *args, stdin=stdin), words)


def test_bad_database_url_is_one_line(tmp_path: Path) -> None:
    env_run = run(tmp_path, "migrate", "--database-url", "sqlite:////nonexistent/dir/x.db")
    assert_one_line_error(env_run, "does not exist")
