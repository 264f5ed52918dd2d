"""A soak: steady token traffic for minutes, `openplate purge` every minute, and the size of the
database after each purge. Nothing may grow without bound: past the retention times the sizes
after each purge stay flat. Not a test (it takes ten minutes); see docs/performance.md.

    .venv/bin/python benchmarks/soak.py                     # SQLite, 10 minutes
    .venv/bin/python benchmarks/soak.py --postgresql        # a fresh PostgreSQL database
    .venv/bin/python benchmarks/soak.py --minutes 3 --rate 100

The server runs with short lifetimes so that ten minutes cover several of them: access tokens
60 s, rotated refresh tokens kept 60 s for reuse detection, routine security-log events 60 s and
the others 120 s (the defaults are an hour, 7, 30 and 365 days). The load is paced (``--rate``
operations a second): half refresh-token rotations over ``--grants`` grants made through the
code flow (each writes an access token, a refresh token, the rotation and a security-log row),
a quarter client-credentials tokens, a quarter ``/users/me``. It stops everything it started and
drops the PostgreSQL database it made.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import flows  # noqa: E402 - the benchmark's own browser flows

ROOT = Path(__file__).resolve().parents[1]
OPENPLATE = Path(sys.executable).with_name("openplate")
ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
SHORT = {
    "OPENPLATE_ACCESS_TOKEN_TTL": "60",
    "OPENPLATE_CODE_TTL": "60",
    "OPENPLATE_REFRESH_REUSE_WINDOW": "60",
    "OPENPLATE_SECURITY_LOG_ROUTINE_RETENTION": "60",
    "OPENPLATE_SECURITY_LOG_RETENTION": "120",
    "OPENPLATE_PURGE_INTERVAL": "0",  # the soak runs `openplate purge` itself, as cron would
    **{f"OPENPLATE_{name}": "100000000" for name in (
        "SIGNIN_FAILURES_PER_IP", "SIGNIN_FAILURES_PER_ACCOUNT", "TOKEN_FAILURES_PER_IP",
        "TOKEN_FAILURES_PER_CLIENT")},
}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


@dataclass
class Load:
    """The traffic's state: each grant's newest tokens, and what happened."""

    target: flows.Target
    grants: list[dict[str, Any]]
    done: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    turn: int = 0

    def failed(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1

    async def one(self, client: httpx.AsyncClient) -> None:
        self.turn += 1
        kind = ("refresh", "refresh", "cc", "me")[self.turn % 4]
        target = self.target
        grant = self.grants[self.turn % len(self.grants)]
        if kind == "refresh":
            if grant.get("busy"):
                return
            grant["busy"] = True
            try:
                answer = await client.post(target.token_path, auth=target.basic, data={
                    "grant_type": "refresh_token", "refresh_token": grant["refresh_token"]})
                if answer.status_code == 200:
                    grant.update(answer.json())
            finally:
                grant["busy"] = False
        elif kind == "cc":
            answer = await client.post(target.token_path, auth=target.basic, data={
                "grant_type": "client_credentials", "scope": "maps"})
        else:
            answer = await client.get(target.me_path, headers={
                "Authorization": f"Bearer {grant['access_token']}"})
        if answer.status_code == 200:
            self.done += 1
        elif kind == "me" and answer.status_code == 401:
            self.done += 1  # the grant's access token outlived its 60 s: refreshed soon
        else:
            self.failed(f"{kind} {answer.status_code}")


async def paced(load: Load, rate: float, seconds: float, connections: int) -> None:
    """``rate`` operations a second for ``seconds``, at most ``connections`` at once."""
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(base_url=load.target.base_url, timeout=60,
                                 limits=limits) as client:
        slots = asyncio.Semaphore(connections)
        pending: set[asyncio.Task[None]] = set()
        start = time.monotonic()
        sent = 0
        while (now := time.monotonic()) - start < seconds:
            due = int((now - start) * rate)
            while sent < due:
                sent += 1
                await slots.acquire()
                task = asyncio.create_task(load.one(client))
                task.add_done_callback(lambda _t: slots.release())
                pending.add(task)
                task.add_done_callback(pending.discard)
            await asyncio.sleep(0.01)
        await asyncio.gather(*pending, return_exceptions=True)


class Database:
    def __init__(self, postgresql: bool, folder: Path) -> None:
        self.name = None
        if postgresql:
            self.name = "openplate_soak_" + secrets.token_hex(4)
            self._admin(f'CREATE DATABASE "{self.name}"')
            self.url = ADMIN.rsplit("/", 1)[0] + "/" + self.name
        else:
            self.path = folder / "openplate.db"
            self.url = f"sqlite:///{self.path}"

    def _admin(self, sql: str, url: str = ADMIN) -> list[Any]:
        import asyncpg

        async def main() -> list[Any]:
            conn = await asyncpg.connect(url)
            try:
                return list(await conn.fetch(sql))
            finally:
                await conn.close()

        return asyncio.run(main())

    def size(self) -> dict[str, Any]:
        """The database's size now: on SQLite the file, its log and its pages in use; on
        PostgreSQL pg_database_size and the largest tables with their indexes."""
        if self.name is None:
            conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
            try:
                pages, free, page = (conn.execute(f"PRAGMA {p}").fetchone()[0]
                                     for p in ("page_count", "freelist_count", "page_size"))
                rows = {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]  # noqa: S608
                        for t in ("access_tokens", "refresh_tokens", "security_events")}
            finally:
                conn.close()
            wal = self.path.with_name(self.path.name + "-wal")
            return {"file_bytes": self.path.stat().st_size,
                    "wal_bytes": wal.stat().st_size if wal.exists() else 0,
                    "used_bytes": (pages - free) * page, "rows": rows}
        url = self.url
        total = self._admin(f"SELECT pg_database_size('{self.name}')", url)[0][0]
        rows = {t: self._admin(f"SELECT COUNT(*) FROM {t}", url)[0][0]  # noqa: S608
                for t in ("access_tokens", "refresh_tokens", "security_events")}
        tables = self._admin(
            "SELECT SUM(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n "
            "ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r'", url)[0][0]
        return {"database_bytes": total, "tables_bytes": int(tables), "rows": rows}

    def drop(self) -> None:
        if self.name is not None:
            self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def cli(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    result = subprocess.run(  # noqa: S603 - our own command
        [str(OPENPLATE), *args], env=env, input=stdin, capture_output=True, text=True,
        timeout=600, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"openplate {args[0]} failed: {result.stderr.strip()}")
    return result.stdout


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def prepare(target: flows.Target, count: int) -> list[dict[str, Any]]:
    browser = flows.new_browser(target)
    try:
        await flows.establish(browser, target)
        return [await flows.redeem(browser, target, await flows.consent_code(browser, target))
                for _ in range(count)]
    finally:
        await browser.aclose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgresql", action="store_true", help="a fresh PostgreSQL database")
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--rate", type=float, default=150, help="operations a second")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--grants", type=int, default=200)
    parser.add_argument("--purge-every", type=float, default=60, help="seconds")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "soak.json")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="openplate-soak-"))
    db = Database(args.postgresql, folder)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENPLATE_")}
    env.update(SHORT)
    env.update({"OPENPLATE_DATABASE_URL": db.url, "OPENPLATE_SECRET_KEY": secrets.token_urlsafe(48),
                "OPENPLATE_PORT": str(port)})
    server = None
    try:
        password = secrets.token_urlsafe(16)
        cli(env, "user", "create", "--email", "soak@example.org", "--username", "soak",
            "--password-stdin", stdin=password + "\n")
        app = json.loads(cli(env, "app", "create", "--owner", "soak", "--name", "soak",
                             "--redirect-uri", "http://localhost:9/cb", "--grant-type",
                             "authorization_code", "--grant-type", "refresh_token",
                             "--grant-type", "client_credentials", "--json"))
        server = subprocess.Popen(  # noqa: S603 - our own command
            [str(OPENPLATE), "serve", "--port", str(port), "--log-level", "warning"], env=env,
            cwd=folder, stdout=(folder / "server.log").open("wb"), stderr=subprocess.STDOUT,
            start_new_session=True)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the server did not start: " + (folder / "server.log").read_text())
            time.sleep(0.1)
        target = flows.Target("ours", base, app["client_id"], app["client_secret"],
                              "http://localhost:9/cb", "soak", "soak@example.org", password,
                              scope=flows.OAUTH_SCOPE)
        log(f"making {args.grants} grants through the code flow")
        load = Load(target, asyncio.run(prepare(target, args.grants)))
        records: list[dict[str, Any]] = [
            {"minute": 0.0, "operations": 0, "purged": {}, **db.size()}]
        log(f"start: {records[0]}")
        started = time.monotonic()
        total = args.minutes * 60
        while (elapsed := time.monotonic() - started) < total - 1:
            asyncio.run(paced(load, args.rate, min(args.purge_every, total - elapsed),
                              args.connections))
            purged = json.loads(cli(env, "purge").strip().splitlines()[-1])
            record = {"minute": round((time.monotonic() - started) / 60, 1),
                      "operations": load.done, "purged": purged, **db.size()}
            records.append(record)
            log(f"{record}  errors {load.errors}")
        result = {"engine": "postgresql" if args.postgresql else "sqlite", "rate": args.rate,
                  "minutes": args.minutes, "grants": args.grants, "errors": load.errors,
                  "server_log_tail": (folder / "server.log").read_text()[-2000:],
                  "records": records}
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1))
        log(f"written to {args.out}")
        return 0 if not load.errors else 1
    finally:
        if server is not None and server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
        db.drop()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
