"""The ``openplate`` command's contract: names, flags, JSON output, one-line errors. Every flag is
validated as its environment variable is, before anything is made; commands that only read never
make a database, a key file or a schema; usage errors are one line; output is JSON with --json
and text for people without it (user create and security-log print JSON either way, as the
README has always promised). Each command runs as a real process, as an operator runs it."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from openplate.settings import Settings
from openplate.store.migrate import head_revision, upgrade
from tests.support.postgres import create_database, drop_database


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


def test_app_create_with_the_device_grant(tmp_path: Path) -> None:
    """``--grant-type device_code`` (RFC 8628) needs no redirect URI; refresh_token goes with it."""
    run(tmp_path, "user", "create", "--email", "ann@example.org", "--username", "ann",
        "--password-stdin", stdin="s3cret-password\n")
    created = run(tmp_path, "app", "create", "--owner", "ann", "--name", "TV", "--public",
                  "--grant-type", "device_code", "--grant-type", "refresh_token", "--json")
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["grant_types"] == [
        "refresh_token", "urn:ietf:params:oauth:grant-type:device_code"]
    spelt = run(tmp_path, "app", "create", "--owner", "ann", "--name", "CLI", "--grant-type",
                "urn:ietf:params:oauth:grant-type:device_code", "--json")
    assert json.loads(spelt.stdout)["grant_types"] == ["urn:ietf:params:oauth:grant-type:device_code"]
    alone = run(tmp_path, "app", "create", "--owner", "ann", "--name", "X", "--grant-type",
                "refresh_token", "--json")
    assert_one_line_error(alone, "refresh_token only makes sense")


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


def test_app_create_registers_the_logout_addresses(tmp_path: Path) -> None:
    """--post-logout-redirect-uri (repeatable), --backchannel-logout-uri and
    --backchannel-logout-session-required, checked as the application page checks them."""
    run(tmp_path, "user", "create", "--email", "ann@example.org", "--username", "ann",
        "--password-stdin", stdin="s3cret-password\n")
    made = run(tmp_path, "app", "create", "--owner", "ann", "--name", "RP", "--redirect-uri",
               "https://rp.example/cb", "--post-logout-redirect-uri", "https://rp.example/bye",
               "--post-logout-redirect-uri", "https://rp.example/bye?x=1",
               "--backchannel-logout-uri", "https://rp.example/bc",
               "--backchannel-logout-session-required", "--json")
    assert made.returncode == 0, made.stderr
    data = json.loads(made.stdout)
    assert data["post_logout_redirect_uris"] == ["https://rp.example/bye", "https://rp.example/bye?x=1"]
    assert data["backchannel_logout_uri"] == "https://rp.example/bc"
    assert data["backchannel_logout_session_required"] is True
    with sqlite3.connect(tmp_path / "cli.db") as db:
        row = db.execute("SELECT post_logout_redirect_uris, backchannel_logout_uri, "
                         "backchannel_logout_session_required FROM clients WHERE client_id = ?",
                         (data["client_id"],)).fetchone()
    assert json.loads(row[0]) == data["post_logout_redirect_uris"] and row[1:] == (
        "https://rp.example/bc", 1)
    for flag, value, words in (
            ("--backchannel-logout-uri", "http://localhost:9/bc", "use https"),
            ("--backchannel-logout-uri", "https://192.168.1.5/bc", "private or local"),
            ("--post-logout-redirect-uri", "https://rp.example/bye#f", "fragment")):
        assert_one_line_error(run(tmp_path, "app", "create", "--owner", "ann", "--name", "RP",
                                  "--redirect-uri", "https://rp.example/cb", flag, value), words)


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


def run_here(folder: Path, *args: str, env: dict[str, str] | None = None,
             stdin: str = "") -> subprocess.CompletedProcess[str]:
    """``openplate ARGS`` in ``folder`` on the defaults: no OPENPLATE_* setting from outside."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OPENPLATE_")}
    return subprocess.run([sys.executable, "-m", "openplate.cli", *args], input=stdin,
                          capture_output=True, text=True, env={**clean, **(env or {})}, cwd=folder,
                          timeout=60)


# Every flag that has a range, with a value outside it: each fails in one line that names the
# flag, before anything is made (serve would otherwise make the database and the key file).
OUT_OF_RANGE = [
    (("serve", "--port", "83639"), "--port"),
    (("serve", "--port", "0"), "--port"),
    (("serve", "--port", "http"), "--port"),
    (("serve", "--workers", "0"), "--workers"),
    (("serve", "--public-url", "ftp://id.example.com"), "--public-url"),
    (("serve", "--public-url", "id.example.com"), "--public-url"),
    (("serve", "--public-url", "https://id.example.com/?tenant=1"), "--public-url"),
    (("serve", "--public-url", "https://id.example.com:99999"), "--public-url"),
    (("purge", "--batch", "0"), "--batch"),
    (("purge", "--batch", "100001"), "--batch"),
    (("security-log", "--limit", "0"), "--limit"),
    (("keys", "rotate", "--min-age", "-1"), "--min-age"),
    (("migrate", "--database-url", "mysql://root:hunter2@db.example/openplate"), "--database-url"),
    (("serve", "--database-url", "sqlite:openplate.db"), "--database-url"),
    (("keys", "list", "--database-url", "postgresql://u@h:99999/db"), "--database-url"),
]


@pytest.mark.parametrize("args,flag", OUT_OF_RANGE, ids=[" ".join(args) for args, _ in OUT_OF_RANGE])
def test_a_flag_out_of_range_fails_in_one_line_before_anything_is_made(
        tmp_path: Path, args: tuple[str, ...], flag: str) -> None:
    refused = run_here(tmp_path, *args)
    assert_one_line_error(refused, flag)
    assert "hunter2" not in refused.stderr  # a URL's password is never repeated
    assert list(tmp_path.iterdir()) == []


# A flag is validated exactly as its environment variable: the same value, refused for the same
# reason, the message naming the variable instead of the flag.
@pytest.mark.parametrize("command,flag,variable,value", [
    ("serve", "--port", "OPENPLATE_PORT", "83639"),
    ("serve", "--public-url", "OPENPLATE_PUBLIC_URL", "ftp://id.example.com"),
    ("serve", "--database-url", "OPENPLATE_DATABASE_URL", "mysql://db.example/openplate"),
    ("purge", "--batch", "OPENPLATE_PURGE_BATCH", "0"),
])
def test_a_flag_and_its_variable_are_refused_alike(
        tmp_path: Path, command: str, flag: str, variable: str, value: str) -> None:
    by_flag = run_here(tmp_path, command, flag, value)
    by_env = run_here(tmp_path, command, env={variable: value})
    assert_one_line_error(by_flag, flag)
    assert_one_line_error(by_env, variable)
    assert by_flag.stderr.replace(flag, "NAME") == by_env.stderr.replace(variable, "NAME")
    assert list(tmp_path.iterdir()) == []


def test_purge_with_a_batch_of_zero_fails_at_once(tmp_path: Path) -> None:
    # It used to delete nothing per batch, forever. Here it even has a database to work on.
    assert run(tmp_path, "migrate").returncode == 0
    refused = run(tmp_path, "purge", "--batch", "0", env={"OPENPLATE_SECRET_KEY": "k" * 48})
    assert_one_line_error(refused, "--batch: must be a whole number from 1 to 100000")


DEFAULT_DB = "openplate.db"
READ_ONLY = [("keys", "list"), ("security-log",), ("security-log", "--json"), ("purge",),
             ("purge", "--json"), ("keys", "list", "--json"),
             # The operator's commands act on accounts that must exist: they make nothing either.
             ("user", "list"), ("user", "show", "ann", "--json"), ("user", "disable", "ann"),
             ("user", "delete", "ann", "--yes"), ("app", "list", "--json"),
             ("app", "enable", "opc_x")]


@pytest.mark.parametrize("args", READ_ONLY, ids=" ".join)
def test_a_read_only_command_in_an_empty_folder_fails_and_makes_nothing(
        tmp_path: Path, args: tuple[str, ...]) -> None:
    refused = run_here(tmp_path, *args)
    assert_one_line_error(refused, f"no database at {DEFAULT_DB}")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args", READ_ONLY, ids=" ".join)
def test_a_read_only_command_never_makes_a_key_file(tmp_path: Path, args: tuple[str, ...]) -> None:
    assert run_here(tmp_path, "migrate").returncode == 0  # a database, and no key file yet
    made = sorted(path.name for path in tmp_path.iterdir())
    refused = run_here(tmp_path, *args)
    assert_one_line_error(refused, "no secret key")
    assert sorted(path.name for path in tmp_path.iterdir()) == made


@pytest.mark.parametrize("args", READ_ONLY, ids=" ".join)
def test_a_read_only_command_never_makes_a_schema(tmp_path: Path, args: tuple[str, ...]) -> None:
    (tmp_path / DEFAULT_DB).touch()  # a file that is not an Openplate database
    refused = run_here(tmp_path, *args, env={"OPENPLATE_SECRET_KEY": "k" * 48})
    assert_one_line_error(refused, "is not an Openplate database")
    assert (tmp_path / DEFAULT_DB).stat().st_size == 0
    assert sorted(path.name for path in tmp_path.iterdir()) == [DEFAULT_DB]


def test_a_read_only_command_never_migrates(tmp_path: Path) -> None:
    older = f"{int(head_revision()) - 1:04d}"
    upgrade(Settings(database_url=f"sqlite:///{tmp_path / DEFAULT_DB}"), older)
    for args in READ_ONLY:
        refused = run_here(tmp_path, *args, env={"OPENPLATE_SECRET_KEY": "k" * 48})
        assert_one_line_error(refused, f"at revision {older}, this release needs {head_revision()}: "
                                       "run openplate migrate")
    with sqlite3.connect(tmp_path / DEFAULT_DB) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == (older,)


def test_a_read_only_command_never_makes_a_schema_on_postgresql(tmp_path: Path) -> None:
    url = create_database()
    try:
        for args in READ_ONLY:
            refused = run_here(tmp_path, *args, "--database-url", url,
                               env={"OPENPLATE_SECRET_KEY": "k" * 48})
            assert_one_line_error(refused, "no Openplate schema")
        assert _postgres_tables(url) == []
    finally:
        drop_database(url)
    assert list(tmp_path.iterdir()) == []


def _postgres_tables(url: str) -> list[str]:
    async def main() -> list[str]:
        conn = await asyncpg.connect(url)
        try:
            rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        finally:
            await conn.close()
        return [row[0] for row in rows]

    return asyncio.run(main())


def test_a_read_only_command_on_an_unreachable_database_is_one_line(tmp_path: Path) -> None:
    refused = run_here(tmp_path, "keys", "list", "--database-url",
                       "postgresql://postgres@127.0.0.1:1/openplate", env={"OPENPLATE_SECRET_KEY": "k" * 48})
    assert_one_line_error(refused, "cannot open the database")


@pytest.mark.parametrize("args", [
    (), ("nonsense",), ("user",), ("keys",), ("keys", "list", "--bogus"),
    ("serve", "--log-level", "loud"), ("app", "create", "--name", "X"), ("serve", "--port"),
    ("app", "create", "--owner", "a", "--name", "X", "--grant-type", "implicit"),
    ("user", "show"), ("user", "list", "--limit", "0"), ("user", "list", "--offset", "-1"),
    ("app", "disable"), ("app", "list", "--limit", "1001"), ("user", "delete", "a", "--force"),
], ids=lambda args: " ".join(args) or "nothing")
def test_a_usage_error_is_one_line(tmp_path: Path, args: tuple[str, ...]) -> None:
    refused = run_here(tmp_path, *args)
    assert refused.returncode == 2
    assert_one_line_error(refused, "error:")
    assert refused.stdout == ""
    assert list(tmp_path.iterdir()) == []


def _fields(text: str) -> dict[str, str]:
    """``name: value`` lines, as a person reads them."""
    pairs = (line.split(":", 1) for line in text.splitlines())
    return {name.strip(): value.strip() for name, value in pairs}


def test_json_with_the_flag_and_readable_text_without(tmp_path: Path) -> None:
    env = {"OPENPLATE_SECRET_KEY": "k" * 48}
    migrated = run(tmp_path, "migrate")
    assert migrated.stdout.startswith("database schema is up to date (revision ")
    assert json.loads(run(tmp_path, "migrate", "--json").stdout)["revision"].isdigit()

    # user create prints JSON with or without --json, as the README has always promised.
    for username, flags in (("ann", ()), ("bob", ("--json",))):
        made = run(tmp_path, "user", "create", "--email", f"{username}@example.org", "--username",
                   username, "--password-stdin", *flags, stdin="s3cret-password\n", env=env)
        assert json.loads(made.stdout)["username"] == username

    text = run(tmp_path, "app", "create", "--owner", "ann", "--name", "Desk", "--redirect-uri",
               "http://localhost:13524/", "--redirect-uri", "https://app.example.com/cb", env=env)
    assert text.returncode == 0, text.stderr
    fields = _fields(text.stdout)
    assert fields["redirect_uris"] == "http://localhost:13524/, https://app.example.com/cb"
    assert fields["grant_types"] == "authorization_code, refresh_token"
    assert fields["public"] == "no" and fields["client_secret"].startswith("opcs_")
    public = _fields(run(tmp_path, "app", "create", "--owner", "ann", "--name", "Phone", "--public",
                         "--redirect-uri", "http://127.0.0.1/cb", env=env).stdout)
    assert public["client_secret"] == "none" and public["public"] == "yes"
    for output in (text.stdout, run(tmp_path, "keys", "rotate", "--force", env=env).stdout):
        assert not any(word in output for word in ("None", "True", "False", "['", "{'"))

    rotated = json.loads(run(tmp_path, "keys", "rotate", "--force", "--json", env=env).stdout)
    assert set(rotated) == {"alg", "retired", "current", "next", "removed", "rotated"}
    assert {r["alg"] for r in rotated["rotated"]} == {"RS256", "ES256", "EdDSA"}
    listed = [json.loads(line) for line in run(tmp_path, "keys", "list", "--json", env=env)
              .stdout.splitlines()]
    assert {key["kid"] for key in listed} >= {rotated["current"], rotated["next"]}
    table = run(tmp_path, "keys", "list", env=env).stdout.splitlines()
    assert table[0].split() == ["kid", "alg", "status", "created", "activated", "retired"]
    rows = {line.split()[0]: line.split() for line in table[1:]}
    assert rows[rotated["current"]][2] == "current" and rows[rotated["next"]][2] == "next"
    assert rows[rotated["next"]][-1] == "none"  # never activated, never retired: no "None"

    counts = json.loads(run(tmp_path, "purge", "--json", env=env).stdout)
    assert set(counts) >= {"access_tokens", "authorization_codes", "sessions"}
    readable = _fields(run(tmp_path, "purge", env=env).stdout)
    assert readable == {name.replace("_", " "): str(count) for name, count in counts.items()}

    # security-log prints JSON lines with or without --json, as the README has always promised.
    for flags in ((), ("--json",)):
        events = [json.loads(line) for line in run(tmp_path, "security-log", *flags, env=env)
                  .stdout.splitlines()]
        assert events and events[0]["kind"] == "keys.rotated"
