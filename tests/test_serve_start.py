"""What ``openplate serve`` checks before it listens (cli/server.py): that it can listen there at
all, before it makes a file; then (``_prepare``) the schema, brought up to date whatever state it
is in, and signing keys the configured secret key can unseal. Every refusal is one line and a
non-zero exit, before it serves. Once it serves, the garbage collector it kept off while starting
runs again."""

from __future__ import annotations

import socket
import sqlite3
from pathlib import Path

import httpx

from openplate.cli.server import uvicorn_options
from openplate.settings import Settings
from openplate.store.migrate import head_revision, upgrade
from tests.support.server import free_port, start_server
from tests.test_cli import assert_one_line_error, run

SECRET_ENV = {"OPENPLATE_SECRET_KEY": "test-secret-key-" + "x" * 40}


def _revision(folder: Path) -> str:
    with sqlite3.connect(folder / "openplate.db") as conn:
        return str(conn.execute("SELECT version_num FROM alembic_version").fetchone()[0])


def test_keys_sealed_with_another_secret_key_stop_serve_in_one_line(tmp_path: Path) -> None:
    made = run(tmp_path, "keys", "rotate", "--force",
               env={"OPENPLATE_SECRET_KEY": "another-secret-" + "y" * 40})
    assert made.returncode == 0, made.stderr
    refused = run(tmp_path, "serve", "--port", str(free_port()), env=SECRET_ENV)
    assert_one_line_error(refused, "sealed with another secret key")


def test_an_outdated_schema_is_migrated_then_served(tmp_path: Path) -> None:
    older = f"{int(head_revision()) - 1:04d}"
    upgrade(Settings(database_url=f"sqlite:///{tmp_path / 'openplate.db'}"), older)
    assert _revision(tmp_path) == older
    server = start_server(tmp_path)
    try:
        assert _revision(tmp_path) == head_revision()
        assert httpx.get(server.url + "/.well-known/openid-configuration").status_code == 200
    finally:
        server.stop()


def test_an_unreachable_database_stops_serve_in_one_line(tmp_path: Path) -> None:
    refused = run(tmp_path, "serve", "--port", str(free_port()), "--database-url",
                  "postgresql://postgres@127.0.0.1:1/openplate", env=SECRET_ENV)
    assert_one_line_error(refused, "migration failed")


def test_a_missing_database_folder_stops_serve_in_one_line(tmp_path: Path) -> None:
    refused = run(tmp_path, "serve", "--port", str(free_port()), "--database-url",
                  f"sqlite:///{tmp_path / 'nowhere' / 'x.db'}", env=SECRET_ENV)
    assert_one_line_error(refused, "does not exist")


def test_a_port_in_use_stops_serve_in_one_line_before_any_file_is_made(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        refused = run(tmp_path, "serve", "--port", str(port))
        assert_one_line_error(refused, f"cannot listen on 127.0.0.1:{port}")
    assert list(tmp_path.iterdir()) == []  # neither the database nor the key file


def test_a_host_that_does_not_resolve_stops_serve_in_one_line(tmp_path: Path) -> None:
    refused = run(tmp_path, "serve", "--host", "no-such-host.invalid", "--port", str(free_port()))
    assert_one_line_error(refused, "cannot listen on no-such-host.invalid")
    assert list(tmp_path.iterdir()) == []


def _young_collections(url: str) -> float:
    text = httpx.get(url + "/metrics").text
    line = next(line for line in text.splitlines()
                if line.startswith('python_gc_collections_total{generation="0"}'))
    return float(line.rsplit(" ", 1)[1])


def test_the_garbage_collector_runs_again_once_serve_has_started(tmp_path: Path) -> None:
    # serve turns the collector off while it starts (cli.py) and back on once the app has frozen
    # what it made (web/app.py's lifespan): left off, a long-running server would never free
    # a reference cycle.
    server = start_server(tmp_path)
    try:
        before = _young_collections(server.url)
        with httpx.Client(base_url=server.url) as client:
            for _ in range(200):
                assert client.get("/signin").status_code == 200
        assert _young_collections(server.url) > before
    finally:
        server.stop()


def _idle_connection_closed(url: str, *, within: float) -> bool:
    """Send one request on a raw connection, read the answer, then wait (up to ``within``
    seconds) for the server to close the connection: True when it did."""
    host, port = httpx.URL(url).host, httpx.URL(url).port
    with socket.create_connection((host, port), timeout=within) as conn:
        conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = b""
        while b"\r\n\r\n" not in answer:
            answer += conn.recv(4096)
        assert answer.startswith(b"HTTP/1.1 200"), answer
        try:
            while conn.recv(4096):  # the rest of the answer, then end of stream on close
                pass
        except TimeoutError:
            return False
        return True


def test_the_keep_alive_timeout_reaches_the_http_server() -> None:
    assert uvicorn_options(Settings(), "info")["timeout_keep_alive"] == 5
    assert uvicorn_options(Settings(keepalive_timeout=65), "info")["timeout_keep_alive"] == 65


def test_idle_connections_close_after_the_keep_alive_timeout(tmp_path: Path) -> None:
    server = start_server(tmp_path, extra_env={"OPENPLATE_KEEPALIVE_TIMEOUT": "1"})
    try:
        assert _idle_connection_closed(server.url, within=30)
    finally:
        server.stop()


def test_a_keep_alive_timeout_out_of_range_stops_serve_in_one_line(tmp_path: Path) -> None:
    refused = run(tmp_path, "serve", "--port", str(free_port()),
                  env={**SECRET_ENV, "OPENPLATE_KEEPALIVE_TIMEOUT": "0"})
    assert_one_line_error(refused, "OPENPLATE_KEEPALIVE_TIMEOUT")
