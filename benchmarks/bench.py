"""Side-by-side benchmark: Openplate (SQLite, then PostgreSQL + Redis) against npm oidc-provider.

Run it through ``bash benchmarks/run.sh`` (which installs wrk and the peer first); see
docs/performance.md. Not part of the test suite.

Each server runs alone, pinned to core 0 (``taskset -c 0``); the load generator (wrk with the Lua
scripts in benchmarks/wrk/) and this harness run on core 1; flows.py prepares the runs over HTTP
(grants, codes, signed-in sessions) and is never timed. Everything listens and connects on
127.0.0.1 only, every run is bounded in time, and every process started here is stopped on exit.

Environment knobs (all optional):
  BENCH_WARMUP=5 BENCH_DURATION=15   seconds (integers) of warm-up and of each measured run
  BENCH_CONCURRENCY="16 64"          connections (wrk -t C -c C)
  BENCH_GRANTS=2000                  grants pre-created for refresh rotation (and token pools)
  BENCH_MAX_CODES=120000             cap on the codes minted for one code-redemption run
  BENCH_SIDES="ours-sqlite ours-pg peer"   which servers to measure
  BENCH_SCENARIOS="cc introspect refresh codes refresh-oauth codes-oauth me metadata flow signin"
  BENCH_PROFILE=1                    py-spy record Openplate during each measured run at the
                                     highest concurrency (needs py-spy in .venv)
  BENCH_MAX_NOISE=10 BENCH_RETRIES=2 a measured run during which other processes took more than
                                     this % of the server's core is run again (at most this many
                                     times); the quietest attempt is kept
  BENCH_RESULTS=benchmarks/results   where latest.md and latest.json go
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import json
import math
import os
import platform
import re
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import flows  # noqa: E402  (benchmarks/ is not a package)
from flows import Target  # noqa: E402

VENV_BIN = ROOT / ".venv" / "bin"
OPENPLATE = VENV_BIN / "openplate"
PYTHON = VENV_BIN / "python"
PEER_DIR = HERE / "peer"
LUA_DIR = HERE / "wrk"
SERVER_CORE, LOAD_CORE = "0", "1"
CLK_TCK = os.sysconf("SC_CLK_TCK")

REDIRECT_URI = "http://127.0.0.1:9/cb"
USERNAME, EMAIL = "bench", "bench@example.com"
PASSWORD = "bench-password-" + secrets.token_hex(4)
HIGH = "100000000"

SCENARIOS: dict[str, str] = {  # key -> title, in the order
    "cc": "1. client-credentials token",
    "introspect": "2. token introspection",
    "refresh": "3. refresh-token rotation (openid: with an RS256 ID token)",
    "codes": "4. authorization-code redemption (openid: with an RS256 ID token)",
    "refresh-oauth": "3b. refresh-token rotation (Biggerplate's scopes: OAuth 2.0, no ID token)",
    "codes-oauth": "4b. authorization-code redemption (Biggerplate's scopes: no ID token)",
    "me": "5. bearer GET (/users/me; peer /me)",
    "metadata": "6. JWKS + discovery GETs",
    "flow": "7. browser flow (authorise → consent → token)",
    "signin": "8. password sign-in",
}
# The order they run in: the read-only ones first, while the access-token pool is fresh.
RUN_ORDER = ["cc", "introspect", "me", "metadata", "refresh", "codes", "refresh-oauth",
             "codes-oauth", "flow", "signin"]
# Scenarios 3b and 4b run on grants and codes for Biggerplate's scopes (flows.OAUTH_SCOPE);
# every other scenario asks for flows.SCOPE, which includes openid.
OAUTH_SCENARIOS = {"refresh-oauth", "codes-oauth"}
CODE_SCENARIOS = {"codes", "codes-oauth"}
REFRESH_SCENARIOS = {"refresh", "refresh-oauth"}
REQUESTS_PER_OP = {"flow": {"ours": 3, "peer": 5}, "signin": {"ours": 2, "peer": 2}}


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


@dataclass
class Config:
    warmup: int = env_int("BENCH_WARMUP", 5)
    duration: int = env_int("BENCH_DURATION", 15)
    concurrency: list[int] = field(default_factory=lambda: [
        int(c) for c in (os.environ.get("BENCH_CONCURRENCY") or "16 64").split()])
    grants: int = env_int("BENCH_GRANTS", 2000)
    max_codes: int = env_int("BENCH_MAX_CODES", 120_000)
    sides: list[str] = field(default_factory=lambda: (
        os.environ.get("BENCH_SIDES") or "ours-sqlite ours-pg peer").split())
    scenarios: list[str] = field(default_factory=lambda: (
        os.environ.get("BENCH_SCENARIOS") or " ".join(RUN_ORDER)).split())
    profile: bool = os.environ.get("BENCH_PROFILE") == "1"
    max_noise: float = float(os.environ.get("BENCH_MAX_NOISE") or 10)
    retries: int = env_int("BENCH_RETRIES", 2)
    results: Path = Path(os.environ.get("BENCH_RESULTS") or HERE / "results")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- processes ----------------------------------------------------------------------------

STARTED: list[subprocess.Popen[bytes]] = []
PIDFILE: Path | None = None
# What run.sh must undo if this harness is killed before its own clean-up: "pgdb NAME",
# "redis PREFIX", "dir PATH" lines in results/.leftovers.
LEFTOVERS: list[str] = []


def _record_pids() -> None:
    if PIDFILE is not None:
        PIDFILE.write_text("".join(f"{p.pid}\n" for p in STARTED if p.poll() is None))
        (PIDFILE.parent / ".leftovers").write_text("".join(line + "\n" for line in LEFTOVERS))


def leftover(line: str) -> Callable[[], None]:
    """Note ``line`` for run.sh; return the function that un-notes it once cleaned up."""
    LEFTOVERS.append(line)
    _record_pids()

    def done() -> None:
        if line in LEFTOVERS:
            LEFTOVERS.remove(line)
        _record_pids()

    return done


def spawn(cmd: list[str], *, env: dict[str, str], cwd: Path, log_path: Path) -> subprocess.Popen[bytes]:
    handle = log_path.open("ab")
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=handle, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    handle.close()
    STARTED.append(proc)
    _record_pids()
    return proc


def stop(proc: subprocess.Popen[bytes], timeout: float = 15) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
    if proc in STARTED:
        STARTED.remove(proc)
    _record_pids()


def stop_all() -> None:
    for proc in list(STARTED):
        stop(proc, timeout=5)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its live descendants."""
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        with contextlib.suppress(OSError):
            for task in os.listdir(f"/proc/{current}/task"):
                with contextlib.suppress(OSError):
                    queue.extend(int(c) for c in
                                 Path(f"/proc/{current}/task/{task}/children").read_text().split())
    return found


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
    return total / CLK_TCK


def _status_kib(pid: int, key: str) -> int:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def reset_peak_rss(pids: list[int]) -> None:
    """Reset VmHWM to the current RSS (Linux: write 5 to clear_refs), so each run has its own."""
    for pid in pids:
        with contextlib.suppress(OSError):
            Path(f"/proc/{pid}/clear_refs").write_text("5")


def peak_rss_mib(pids: list[int]) -> float:
    return sum(_status_kib(pid, "VmHWM") for pid in pids) / 1024


def rss_mib(pids: list[int]) -> float:
    return sum(_status_kib(pid, "VmRSS") for pid in pids) / 1024


def cpu_by_pid(pids: list[int]) -> dict[int, float]:
    return {pid: cpu_seconds([pid]) for pid in pids}


def service_pids(database: str) -> list[int]:
    """The PostgreSQL processes that work for ``database`` (its backends, and the shared WAL
    writer, checkpointer and so on) and Redis: their CPU is not in Openplate's own figure."""
    pids = []
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        result = subprocess.run(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-Atc",
             "SELECT pid FROM pg_stat_activity WHERE datname = '" + database.replace("'", "")
             + "' OR backend_type NOT IN ('client backend', 'parallel worker')"],
            capture_output=True, text=True, timeout=30, check=False)
        pids = [int(line) for line in result.stdout.split() if line.isdigit()]
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                comm = Path(f"/proc/{entry}/comm").read_text().strip()
                if comm == "redis-server" or (comm == "postgres" and not pids):
                    pids.append(int(entry))
    return pids


def services_cpu_delta(before: dict[int, float], database: str) -> float:
    """CPU the database's processes used since ``before`` (new ones count from zero; processes
    that ended meanwhile are left out rather than counted negative)."""
    after = cpu_by_pid(sorted(set(before) | set(service_pids(database))))
    return sum(max(0.0, cpu - before.get(pid, 0.0)) for pid, cpu in after.items()
               if Path(f"/proc/{pid}").exists())


def wait_answering(url: str, proc: subprocess.Popen[bytes], started: float, limit: float = 60) -> float:
    """Seconds from ``started`` to the first 200 from ``url``."""
    while time.perf_counter() - started < limit:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode} while starting")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:  # noqa: S310 (127.0.0.1 only)
                if answer.status == 200:
                    return time.perf_counter() - started
        except OSError:
            time.sleep(0.005)
    raise RuntimeError(f"no answer from {url} within {limit} s")


# --- servers ------------------------------------------------------------------------------

class Server:
    """One side: how to start it, seed it, and what its Target is."""

    kind = ""
    label = ""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.target: Target | None = None
        self.startup: dict[str, float] = {}

    def command(self) -> list[str]:
        raise NotImplementedError

    def environment(self) -> dict[str, str]:
        raise NotImplementedError

    def start(self) -> float:
        started = time.perf_counter()
        self.proc = spawn(["taskset", "-c", SERVER_CORE, *self.command()], env=self.environment(),
                          cwd=self.workdir, log_path=self.workdir / "server.log")
        try:
            return wait_answering(self.base_url + "/.well-known/openid-configuration", self.proc,
                                  started)
        except RuntimeError:
            log((self.workdir / "server.log").read_text()[-3000:])
            raise

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc)
            self.proc = None

    def measure_startup(self) -> None:
        """First start (fresh database: migrations, keys), then a restart; it stays running."""
        first = self.start()
        self.stop()
        again = self.start()
        assert self.proc is not None
        self.startup = {"first_s": first, "restart_s": again,
                        "rss_mib": rss_mib(process_tree(self.proc.pid))}
        log(f"{self.label}: first start {first:.3f} s, restart {again:.3f} s")

    def pids(self) -> list[int]:
        assert self.proc is not None
        return process_tree(self.proc.pid)

    def seed(self) -> None:
        raise NotImplementedError

    def cleanup(self) -> None:
        self.stop()


class Ours(Server):
    kind = "ours"

    def __init__(self, workdir: Path, label: str, database_url: str,
                 redis: tuple[str, str] | None = None) -> None:
        super().__init__(workdir)
        self.label = label
        self.database_url = database_url
        # The PostgreSQL database, whose backends' CPU is reported apart (None on SQLite).
        self.database_name = (database_url.rsplit("/", 1)[1]
                              if database_url.startswith("postgresql") else None)
        self.redis = redis
        self.secret_key = secrets.token_urlsafe(48)

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OPENPLATE_")}
        env.update({
            "OPENPLATE_DATABASE_URL": self.database_url,
            "OPENPLATE_SECRET_KEY": self.secret_key,
            "OPENPLATE_SIGNIN_FAILURES_PER_IP": HIGH,
            "OPENPLATE_SIGNIN_FAILURES_PER_ACCOUNT": HIGH,
            "OPENPLATE_TOKEN_FAILURES_PER_IP": HIGH,
            "OPENPLATE_TOKEN_FAILURES_PER_CLIENT": HIGH,
            "OPENPLATE_CODE_TTL": "600",
        })
        if self.redis is not None:
            env["OPENPLATE_REDIS_URL"], env["OPENPLATE_REDIS_PREFIX"] = self.redis
        return env

    def command(self) -> list[str]:
        return [str(OPENPLATE), "serve", "--port", str(self.port), "--log-level", "warning"]

    def cli(self, *args: str, stdin: str | None = None) -> str:
        result = subprocess.run([str(OPENPLATE), *args], env=self.environment(), cwd=self.workdir,
                                input=stdin, capture_output=True, text=True, timeout=120,
                                check=False)
        if result.returncode != 0:
            raise RuntimeError(f"openplate {' '.join(args)} failed: {result.stderr.strip()}")
        return result.stdout

    def seed(self) -> None:
        self.cli("user", "create", "--email", EMAIL, "--username", USERNAME, "--password-stdin",
                 stdin=PASSWORD + "\n")
        app = json.loads(self.cli(
            "app", "create", "--owner", USERNAME, "--name", "bench", "--redirect-uri", REDIRECT_URI,
            "--grant-type", "authorization_code", "--grant-type", "refresh_token",
            "--grant-type", "client_credentials", "--json"))
        self.target = Target("ours", self.base_url, app["client_id"], app["client_secret"],
                             REDIRECT_URI, USERNAME, EMAIL, PASSWORD)


class Peer(Server):
    kind = "peer"
    label = "peer"

    def __init__(self, workdir: Path) -> None:
        super().__init__(workdir)
        from argon2 import PasswordHasher

        # The very parameters Openplate hashes with (openplate/accounts/passwords.py).
        from openplate.accounts.passwords import _HASHER
        assert isinstance(_HASHER, PasswordHasher)
        self.password_hash = _HASHER.hash(PASSWORD)
        self.client_id = "bench-" + secrets.token_hex(8)
        self.client_secret = secrets.token_urlsafe(32)
        subprocess.run(["node", str(PEER_DIR / "server.js"), "--generate-keys",
                        str(workdir / "keys.json")], check=True, timeout=60)

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update({
            "NODE_ENV": "production", "PORT": str(self.port),
            "PEER_KEYS": str(self.workdir / "keys.json"),
            "PEER_CLIENT_ID": self.client_id, "PEER_CLIENT_SECRET": self.client_secret,
            "PEER_REDIRECT_URI": REDIRECT_URI, "PEER_USERNAME": USERNAME, "PEER_EMAIL": EMAIL,
            "PEER_PASSWORD_HASH": self.password_hash,
        })
        return env

    def command(self) -> list[str]:
        return ["node", str(PEER_DIR / "server.js")]

    def seed(self) -> None:
        self.target = Target("peer", self.base_url, self.client_id, self.client_secret,
                             REDIRECT_URI, USERNAME, EMAIL, PASSWORD)


# --- preparing runs -----------------------------------------------------------------------

async def _browsers(target: Target, count: int) -> list[Any]:
    browsers = [flows.new_browser(target) for _ in range(count)]
    await flows.gather_limited(count, count, lambda i: flows.establish(browsers[i], target))
    return browsers


async def _close(browsers: list[Any]) -> None:
    for browser in browsers:
        await browser.aclose()


def scoped(target: Target, scenario: str) -> Target:
    """The target as a scenario's grants and codes ask for it: see OAUTH_SCENARIOS."""
    return dataclasses.replace(
        target, scope=flows.OAUTH_SCOPE if scenario in OAUTH_SCENARIOS else flows.SCOPE)


async def make_grants(target: Target, count: int) -> list[dict[str, Any]]:
    """``count`` grants through the real code flow, each through the consent page (a new grant
    on either side), each code redeemed: their first access and refresh tokens."""
    workers = 8
    browsers = await _browsers(target, workers)
    try:
        async def one(i: int) -> dict[str, Any]:
            browser = browsers[i % workers]
            return await flows.redeem(browser, target, await flows.consent_code(browser, target))

        return await _in_parallel(count, workers, one)
    finally:
        await _close(browsers)


async def _in_parallel(count: int, workers: int, work: Callable[[int], Any]) -> list[Any]:
    """Like flows.gather_limited, but worker w only ever runs items i with i % workers == w (so
    each worker keeps to its own browser)."""
    results: list[Any] = [None] * count

    async def worker(w: int) -> None:
        for i in range(w, count, workers):
            results[i] = await work(i)

    await asyncio.gather(*(worker(w) for w in range(workers)))
    return results


async def mint_codes(target: Target, count: int) -> list[str]:
    """``count`` fresh codes from established browsers (no consent page: remembered consent).

    On the peer every 50th code goes through the consent page instead, which starts a new grant:
    its in-memory adapter keeps, per grant, a map of every token issued under it and walks it on
    each save, so tens of thousands of codes under one grant would measure that walk."""
    workers = 8
    browsers = await _browsers(target, workers)
    try:
        async def one(i: int) -> str:
            browser = browsers[i % workers]
            if target.kind == "peer" and i // workers % 50 == 0:
                return await flows.consent_code(browser, target)
            return await flows.silent_code(browser, target)

        return await _in_parallel(count, workers, one)
    finally:
        await _close(browsers)


# --- load runs ----------------------------------------------------------------------------

def run_wrk(server: Server, script: str, connections: int, seconds: int,
            extra: dict[str, str]) -> dict[str, Any]:
    assert server.target is not None
    out = server.workdir / f"wrk-{secrets.token_hex(4)}.json"
    env = dict(os.environ)
    env.update({
        "BENCH_LUA_DIR": str(LUA_DIR), "BENCH_OUT": str(out),
        "BENCH_CONNECTIONS": str(connections), "BENCH_KIND": server.kind,
        "BENCH_CLIENT_ID": server.target.client_id, "BENCH_CLIENT_SECRET": server.target.client_secret,
        "BENCH_TOKEN_PATH": server.target.token_path, "BENCH_REDIRECT_URI": REDIRECT_URI,
        **extra,
    })
    cmd = ["taskset", "-c", LOAD_CORE, "wrk", "-t", str(connections), "-c", str(connections),
           "-d", f"{seconds}s", "--timeout", "60s", "-s", str(LUA_DIR / script), server.base_url]
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=seconds + 180,
                            check=False)
    if result.returncode != 0 or not out.exists():
        raise RuntimeError(f"wrk failed ({result.returncode}): {result.stderr[-2000:]}")
    data: dict[str, Any] = json.loads(out.read_text())
    out.unlink()
    data["errors"] = data["bad"] + data["socket_errors"]
    return data


class Profiler:
    """py-spy record on Openplate during one measured run (BENCH_PROFILE=1)."""

    def __init__(self, server: Server, name: str, seconds: int, enabled: bool) -> None:
        self.proc: subprocess.Popen[bytes] | None = None
        if not enabled or server.kind != "ours" or not (VENV_BIN / "py-spy").exists():
            return
        out_dir = CONFIG.results / "profiles"
        out_dir.mkdir(parents=True, exist_ok=True)
        out = out_dir / f"{server.label}-{name}.txt"
        self.proc = spawn(["taskset", "-c", LOAD_CORE, str(VENV_BIN / "py-spy"), "record",
                           "--nonblocking", "--format", "raw", "--rate", "200",
                           "--duration", str(seconds), "--output", str(out),
                           "--pid", str(server.pids()[0])],
                          env=dict(os.environ), cwd=server.workdir,
                          log_path=server.workdir / "py-spy.log")

    def finish(self) -> None:
        if self.proc is not None:
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                pass
            stop(self.proc)


def core_busy() -> dict[str, float]:
    """Busy seconds of each core so far (/proc/stat: all but idle and iowait)."""
    busy = {}
    for line in Path("/proc/stat").read_text().splitlines():
        name, *values = line.split()
        if name in ("cpu0", "cpu1"):
            ticks = [int(v) for v in values[:8]]
            busy[name] = (sum(ticks) - ticks[3] - ticks[4]) / CLK_TCK
    return busy


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measured(server: Server, run: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run ``run`` and add the server's CPU seconds and peak RSS, the database's CPU, the load
    generator's CPU, and how much CPU other processes took meanwhile."""
    pids = server.pids()
    reset_peak_rss(pids)
    database = server.database_name if isinstance(server, Ours) else None
    services = cpu_by_pid(service_pids(database)) if database else {}
    cpu0, busy0 = cpu_seconds(pids), core_busy()
    load0, self0 = children_cpu(), own_cpu()
    data = run()
    pids = server.pids()
    busy1 = core_busy()
    data["cpu_s"] = cpu_seconds(pids) - cpu0
    data["db_cpu_s"] = services_cpu_delta(services, database) if database else None
    data["rss_mib"] = peak_rss_mib(pids)
    data["loadgen_cpu_s"] = children_cpu() - load0
    data["core0_busy_s"] = busy1["cpu0"] - busy0["cpu0"]
    data["core1_busy_s"] = busy1["cpu1"] - busy0["cpu1"]
    # The server's core: what else ran there competed with the server. (On PostgreSQL some of
    # that is the database's own backends, which are not pinned: their CPU is counted apart.)
    data["core0_others_s"] = max(0.0, data["core0_busy_s"] - data["cpu_s"]
                                 - (data["db_cpu_s"] or 0.0))
    # Everything on the machine that was not this benchmark (server, database, wrk, harness).
    data["others_s"] = max(0.0, data["core0_busy_s"] + data["core1_busy_s"] - data["cpu_s"]
                           - (data["db_cpu_s"] or 0.0) - data["loadgen_cpu_s"]
                           - (own_cpu() - self0))
    return data


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines))
    return path


class Side:
    """A started, seeded server and what its runs need; paused (SIGSTOP) between its runs."""

    def __init__(self, server: Server, grants: list[dict[str, Any]],
                 oauth_grants: list[dict[str, Any]], cleanups: list[Callable[[], None]]) -> None:
        self.server = server
        self.label = server.label
        self.cleanups = cleanups
        self.results: dict[str, dict[int, dict[str, Any]]] = {}
        self.failure: str | None = None
        target = server.target
        assert target is not None
        work = server.workdir
        access = write_lines(work / "access.txt", [str(g["access_token"]) for g in grants])
        refresh = write_lines(work / "grants.txt", [str(g["refresh_token"]) for g in grants])
        refresh_oauth = write_lines(work / "oauth-grants.txt",
                                    [str(g["refresh_token"]) for g in oauth_grants])
        self.sessions_file = work / "sessions.txt"
        self.scripts: dict[str, tuple[str, dict[str, str]]] = {
            "cc": ("cc_token.lua", {}),
            "introspect": ("introspect.lua", {"BENCH_INTROSPECT_PATH": target.introspect_path,
                                              "BENCH_TOKENS": str(access)}),
            "me": ("bearer_get.lua", {"BENCH_PATH": target.me_path, "BENCH_TOKENS": str(access)}),
            "metadata": ("metadata.lua", {
                "BENCH_PATHS": f"{target.jwks_path},/.well-known/openid-configuration"}),
            "refresh": ("refresh.lua", {"BENCH_GRANTS": str(refresh)}),
            "refresh-oauth": ("refresh.lua", {"BENCH_GRANTS": str(refresh_oauth)}),
            "signin": ("signin.lua", {"BENCH_LOGIN": target.username,
                                      "BENCH_PASSWORD": target.password,
                                      "BENCH_AUTH_QUERY": target.auth_query()}),
            "flow": ("flow.lua", {"BENCH_SESSIONS": str(self.sessions_file),
                                  "BENCH_AUTH_QUERY": target.auth_query(consent=True)}),
        }

    def signal(self, signum: int) -> None:
        if self.server.proc is not None:
            for pid in self.server.pids():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signum)

    def pause(self) -> None:
        self.signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.signal(signal.SIGCONT)
        time.sleep(0.2)  # let its timers catch up before anything is measured

    def fresh_sessions(self, c: int) -> None:
        # Signed-in, consented browsers for the flow scenario, new for every run (the peer
        # replaces a session's id on every resume, and wrk keeps the newest only in memory).
        assert self.server.target is not None
        cookies = asyncio.run(flows.session_cookies(self.server.target, c))
        write_lines(self.sessions_file, cookies)

    def run(self, name: str, c: int, rates: dict[tuple[str, str, int], float]) -> dict[str, Any]:
        """One scenario at one concurrency: warm-up, then the measured run."""
        server = self.server
        log(f"{server.label}: {SCENARIOS[name]} at {c} connections")
        profile = CONFIG.profile and c == max(CONFIG.concurrency)
        speed = calibrate()
        if name in CODE_SCENARIOS:
            data = run_codes(server, name, c, rates, profile)
        else:
            script, extra = self.scripts[name]
            prepare = (lambda: self.fresh_sessions(c)) if name == "flow" else None
            data = warm_then_measure(server, name, script, c, extra, profile, prepare)
        if name == "flow":
            # One operation is a whole flow: report its latency, not the requests'.
            data["request_p50_ms"], data["request_p99_ms"] = data["p50_ms"], data["p99_ms"]
            data["p50_ms"], data["p99_ms"] = data["flow_p50_ms"], data["flow_p99_ms"]
        if name in REFRESH_SCENARIOS:
            rates[(server.label, name, c)] = data["ops"] / data["duration"]
        data["requests_per_op"] = REQUESTS_PER_OP.get(name, {}).get(server.kind, 1)
        data["calibration_ms"] = speed
        self.results.setdefault(name, {})[c] = data
        log(f"  {data['ops'] / data['duration']:.0f} ops/s, p50 {data['p50_ms']:.1f} ms, "
            f"p99 {data['p99_ms']:.1f} ms, errors {data['errors']}, cpu {data['cpu_s']:.1f} s, "
            f"wrk cpu {data['loadgen_cpu_s']:.1f} s, others on core 0 "
            f"{data['core0_others_s']:.1f} s, calibration {speed:.0f} ms"
            + (f"  first bad answer: {data.get('bad_sample')}" if data["errors"] else ""))
        return data

    def alive(self) -> bool:
        return self.server.proc is not None and self.server.proc.poll() is None

    def died(self, during: str) -> str:
        """What to report when the server is gone: its exit status and the end of its log."""
        assert self.server.proc is not None
        tail = ""
        with contextlib.suppress(OSError):
            tail = (self.server.workdir / "server.log").read_text(errors="replace")[-3000:]
        return (f"{self.label} exited with status {self.server.proc.poll()} during {during}; "
                f"the end of its log:\n{tail}")

    def summary(self) -> dict[str, Any]:
        return {"label": self.label, "kind": self.server.kind, "startup": self.server.startup,
                "scenarios": self.results, "failure": self.failure}

    def cleanup(self) -> None:
        self.resume()
        # Keep the server's log (its folder is about to go): results/logs/LABEL-server.log.
        with contextlib.suppress(OSError):
            logs = CONFIG.results / "logs"
            logs.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(self.server.workdir / "server.log", logs / f"{self.label}-server.log")
        for cleanup in self.cleanups:
            try:
                cleanup()
            except Exception as error:  # noqa: BLE001 - keep cleaning up
                log(f"cleanup: {error}")


CALIBRATION = "import time\nt = time.process_time()\ns = 0\nfor i in range(2_000_000):\n    s += i * i\n" \
    "print(time.process_time() - t)\n"


def calibrate() -> float:
    """CPU milliseconds a fixed pure-Python loop takes on the server's core right now: the same
    number means the same machine speed (this machine's speed varies with its neighbours)."""
    result = subprocess.run(["taskset", "-c", SERVER_CORE, sys.executable, "-c", CALIBRATION],
                            capture_output=True, text=True, timeout=60, check=True)
    return float(result.stdout) * 1000


def profiled_wrk(server: Server, name: str, script: str, c: int, extra: dict[str, str],
                 profile: bool) -> dict[str, Any]:
    profiler = Profiler(server, f"{name}-c{c}", CONFIG.duration, profile)
    try:
        return run_wrk(server, script, c, CONFIG.duration, extra)
    finally:
        profiler.finish()


def noise(data: dict[str, Any]) -> float:
    """CPU that other processes took on the server's core during a run, in percent of it."""
    return 100 * data["core0_others_s"] / max(data["duration"], 1e-9)


def quietest(attempt: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run a measurement; while other processes disturbed it, run it again; keep the quietest."""
    best: dict[str, Any] | None = None
    for tries in range(CONFIG.retries + 1):
        data = attempt()
        data["attempts"] = tries + 1
        if best is None or noise(data) < noise(best):
            best = data
        if noise(data) <= CONFIG.max_noise:
            break
        log(f"  other processes took {noise(data):.0f}% of the server's core during the run; "
            + ("running it again" if tries < CONFIG.retries else "keeping the quietest attempt"))
    assert best is not None
    best["attempts"] = data["attempts"]
    return best


def warm_then_measure(server: Server, name: str, script: str, c: int, extra: dict[str, str],
                      profile: bool, prepare: Callable[[], None] | None = None) -> dict[str, Any]:
    if CONFIG.warmup:
        if prepare is not None:
            prepare()
        run_wrk(server, script, c, CONFIG.warmup, extra)

    def attempt() -> dict[str, Any]:
        if prepare is not None:
            prepare()
        return measured(server, lambda: profiled_wrk(server, name, script, c, extra, profile))

    return quietest(attempt)


#: A pause after minting codes, on both sides, before their redemption is measured.
SETTLE_SECONDS = 2.0


def run_codes(server: Server, name: str, c: int, rates: dict[tuple[str, str, int], float],
              profile: bool) -> dict[str, Any]:
    """Scenarios 4 and 4b: mint a batch of codes just before each run (they live 600 s), redeem
    them. The matching refresh scenario's rate, when it ran, sizes the batch."""
    assert server.target is not None
    target = scoped(server.target, name)
    estimate = rates.get((server.label, name.replace("codes", "refresh"), c), 500.0)
    budget = min(CONFIG.max_codes, math.ceil(estimate * CONFIG.duration * 1.5) + 4 * c)
    extra = {"BENCH_CODES": str(server.workdir / "codes.txt")}

    def mint(count: int) -> None:
        started = time.perf_counter()
        codes = asyncio.run(mint_codes(target, count))
        write_lines(server.workdir / "codes.txt", codes)
        log(f"  minted {count} codes in {time.perf_counter() - started:.1f} s")
        # What the minting leaves to do happens before the measured run, not in it: Openplate
        # checkpoints the log it wrote once it has been quiet for half a second.
        time.sleep(SETTLE_SECONDS)

    if CONFIG.warmup:
        mint(min(budget, math.ceil(estimate * CONFIG.warmup * 1.2) + 4 * c))
        run_wrk(server, "codes.lua", c, CONFIG.warmup, extra)
    def attempt() -> dict[str, Any]:
        nonlocal budget
        for _ in range(3):
            mint(budget)
            data = measured(server, lambda: profiled_wrk(server, name, "codes.lua", c, extra,
                                                         profile))
            data["codes_minted"] = budget
            if data["connections_out_of_codes"] == 0 or budget >= CONFIG.max_codes:
                break
            # Size the next batch by the rate this run reached while it had codes.
            reached = math.ceil(data["ops"] / max(data["duration"], 0.1) * CONFIG.duration * 1.5)
            budget = min(CONFIG.max_codes, max(budget * 2, reached + 4 * c))
            log(f"  ran out of codes after {data['duration']:.1f} s; again with {budget}")
        return data

    return quietest(attempt)


# --- one side ------------------------------------------------------------------------------

def postgres_database() -> tuple[str, Callable[[], None]] | None:
    name = f"openplate_bench_{os.getpid()}_{secrets.token_hex(3)}"
    base = ["psql", "-h", "127.0.0.1", "-p", "5432", "-U", "postgres", "-d", "postgres", "-v",
            "ON_ERROR_STOP=1", "-qc"]
    try:
        subprocess.run([*base, f'CREATE DATABASE "{name}"'], check=True, timeout=60,
                       capture_output=True)
    except (OSError, subprocess.SubprocessError) as error:
        log(f"PostgreSQL is not available ({error}); skipping ours-pg")
        return None

    def drop() -> None:
        subprocess.run([*base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'], check=False,
                       timeout=60, capture_output=True)

    return f"postgresql://postgres@127.0.0.1:5432/{name}", drop


def redis_cleanup(prefix: str) -> None:
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        keys = subprocess.run(["redis-cli", "-h", "127.0.0.1", "--scan", "--pattern", prefix + "*"],
                              capture_output=True, text=True, timeout=60, check=False).stdout.split()
        for start in range(0, len(keys), 500):
            subprocess.run(["redis-cli", "-h", "127.0.0.1", "del", *keys[start:start + 500]],
                           capture_output=True, timeout=60, check=False)


def setup_side(label: str) -> Side | None:
    """Start a side (measuring its start-up), seed it, pre-create its grants."""
    workdir = Path(tempfile.mkdtemp(prefix=f"openplate-bench-{label}-"))
    cleanups: list[Callable[[], None]] = [lambda: shutil.rmtree(workdir, ignore_errors=True),
                                          leftover(f"dir {workdir}")]
    server: Server
    try:
        if label == "ours-sqlite":
            server = Ours(workdir, label, f"sqlite:///{workdir / 'bench.db'}")
        elif label == "ours-pg":
            database = postgres_database()
            if database is None:
                for cleanup in cleanups:
                    cleanup()
                return None
            url, drop = database
            cleanups += [drop, leftover(f"pgdb {url.rsplit('/', 1)[1]}")]
            prefix = f"openplate-bench-{secrets.token_hex(4)}:"
            cleanups += [lambda: redis_cleanup(prefix), leftover(f"redis {prefix}")]
            server = Ours(workdir, label, url, redis=("redis://127.0.0.1:6379/0", prefix))
        elif label == "peer":
            server = Peer(workdir)
        else:
            raise SystemExit(f"unknown side {label!r}")
        cleanups.insert(0, server.cleanup)
        server.measure_startup()
        server.seed()
        assert server.target is not None
        grants: list[dict[str, Any]] = []
        oauth_grants: list[dict[str, Any]] = []
        if {"introspect", "me", "refresh"} & set(CONFIG.scenarios):
            started = time.perf_counter()
            grants = asyncio.run(make_grants(server.target, CONFIG.grants))
            log(f"{label}: {len(grants)} grants in {time.perf_counter() - started:.1f} s")
        if "refresh-oauth" in CONFIG.scenarios:
            started = time.perf_counter()
            oauth_grants = asyncio.run(make_grants(scoped(server.target, "refresh-oauth"),
                                                   CONFIG.grants))
            log(f"{label}: {len(oauth_grants)} grants for {flows.OAUTH_SCOPE!r} in "
                f"{time.perf_counter() - started:.1f} s")
        return Side(server, grants, oauth_grants, cleanups)
    except BaseException:
        for cleanup in cleanups:
            with contextlib.suppress(Exception):
                cleanup()
        raise


# --- the report ----------------------------------------------------------------------------

def _fmt(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "—"
    if value >= 100 or digits == 0:
        return f"{value:,.0f}"
    return f"{value:,.{digits}f}"


def _ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or b == 0:
        return "—"
    return f"{a / b:.2f}×"


def _row_values(data: dict[str, Any]) -> dict[str, float | None]:
    ops_per_s = data["ops"] / data["duration"]
    return {
        "ops": ops_per_s, "req": data["requests"] / data["duration"], "p50": data["p50_ms"],
        "p99": data["p99_ms"], "errors": data["errors"], "cpu": data["cpu_s"],
        "cpu_op": data["cpu_s"] * 1000 / data["ops"] if data["ops"] else None,
        "rss": data["rss_mib"], "db": data.get("db_cpu_s"),
        "noise": noise(data),
    }


def table(ours: dict[str, Any], peer: dict[str, Any] | None) -> str:
    with_db = ours["label"] == "ours-pg"
    head = ["scenario", "conc.", "side", "ops/s", "req/s", "p50 ms", "p99 ms", "errors",
            "server CPU s", "CPU ms/op", "peak RSS MiB", "noise %"]
    if with_db:
        head.append("PG+Redis CPU s")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    keys = ["ops", "req", "p50", "p99", "errors", "cpu", "cpu_op", "rss"]
    digits = {"ops": 0, "req": 0, "p50": 2, "p99": 2, "errors": 0, "cpu": 2, "cpu_op": 3, "rss": 1}
    for name in SCENARIOS:
        if name not in ours["scenarios"]:
            continue
        for c, data in ours["scenarios"][name].items():
            mine = _row_values(data)
            theirs_data = (peer or {}).get("scenarios", {}).get(name, {}).get(c)
            theirs = _row_values(theirs_data) if theirs_data else None
            title = SCENARIOS[name]
            rows = [("ours", mine)] + ([("peer", theirs)] if theirs else [])
            for side, values in rows:
                cells = [title, str(c), side] + [_fmt(values[k], digits[k]) for k in keys]
                cells.append(_fmt(values["noise"], 0))
                if with_db:
                    cells.append(_fmt(values["db"], 2) if side == "ours" else "—")
                lines.append("| " + " | ".join(cells) + " |")
                title = ""
            if theirs:
                cells = ["", "", "**ours/peer**"] + [
                    "—" if k == "errors" else f"**{_ratio(mine[k], theirs[k])}**" for k in keys]
                cells.append("")
                if with_db:
                    cells.append("—")
                lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def startup_table(sides: list[dict[str, Any]]) -> str:
    lines = ["| side | first start (fresh database) s | restart s | RSS after start MiB |",
             "|---|---|---|---|"]
    for side in sides:
        s = side["startup"]
        lines.append(f"| {side['label']} | {s['first_s']:.3f} | {s['restart_s']:.3f} | "
                     f"{s['rss_mib']:.1f} |")
    return "\n".join(lines)


def _version(cmd: list[str]) -> str:
    try:
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=False)
        return (result.stdout or result.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.SubprocessError):
        return "?"


def source_fingerprint() -> str:
    """A digest of Openplate's source (the work tree changes under a long run: compare)."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "openplate").rglob("*")):
        if path.is_file() and path.suffix in (".py", ".html", ".ini") and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def machine() -> dict[str, str]:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = re.search(r"model name\s*:\s*(.*)", cpuinfo)
    mem = re.search(r"MemTotal:\s*(\d+)", Path("/proc/meminfo").read_text())
    peer_pkg = json.loads((PEER_DIR / "node_modules" / "oidc-provider" / "package.json").read_text())
    return {
        "nproc": str(os.cpu_count()), "cpu": model.group(1) if model else "?",
        "memory": f"{int(mem.group(1)) / 1024 / 1024:.1f} GiB" if mem else "?",
        "kernel": platform.release(), "python": platform.python_version(),
        "openplate": _version([str(OPENPLATE), "--version"]).removeprefix("openplate ")
        + f" (source {source_fingerprint()})",
        "node": _version(["node", "--version"]),
        "oidc-provider": peer_pkg["version"],
        "wrk": _version(["wrk", "--version"]).split(" [")[0].removeprefix("wrk "),
    }


def report(sides: list[dict[str, Any]], info: dict[str, str], started: str) -> str:
    peer = next((s for s in sides if s["label"] == "peer"), None)
    parts = [
        "# Openplate vs oidc-provider: benchmark results", "",
        f"Run {started} (UTC) with `bash benchmarks/run.sh`: warm-up {CONFIG.warmup} s, measured "
        f"{CONFIG.duration} s per run, concurrency {', '.join(map(str, CONFIG.concurrency))}, "
        f"{CONFIG.grants} pre-created grants.", "",
        "Machine: " + ", ".join(f"{k} {v}" for k, v in info.items()), "",
        "The tables list every scenario at every concurrency: ours, the peer, and the ratio "
        "ours/peer of each figure (for ops/s, above 1× is better for ours; for latency, CPU per "
        "operation and memory, below 1× is).", "",
        "Each server alone on core 0 (`taskset -c 0`), wrk on core 1 (one connection per "
        "thread). The sides take turns scenario by scenario (the idle ones SIGSTOPped), so the "
        "figures compared were measured minutes apart at most. ops/s counts finished operations "
        "(a token, a sign-in, a whole browser flow); req/s all HTTP requests. Latencies are per "
        "request, except scenario 7: per whole flow. "
        "errors = unexpected answers (wrong status or body) + socket errors. Server CPU = "
        "utime+stime of the server process (and children) during the measured run; peak RSS = "
        "VmHWM during the measured run (reset just before it); noise = CPU that other "
        "processes took on the server's core during the run, in % of it.", "",
        "## Start-up time (to the first answered request)", "", startup_table(sides), "",
    ]
    for side in sides:
        if side["kind"] != "ours":
            continue
        backend = "SQLite" if side["label"] == "ours-sqlite" else "PostgreSQL + Redis"
        parts += [f"## Openplate on {backend} vs oidc-provider (in-memory)", "",
                  table(side, peer), ""]
        if side["label"] == "ours-pg":
            parts += ["PG+Redis CPU s: CPU time of the PostgreSQL backends serving the benchmark's "
                      "database, PostgreSQL's shared background processes and Redis during the run "
                      "(not pinned; not in Openplate's own figure).", ""]
    if peer is not None and not any(s["kind"] == "ours" for s in sides):
        parts += ["## oidc-provider alone", "", table({**peer, "label": "peer"}, None), ""]
    notes = ["| side | scenario | conc. | calibration ms | wrk CPU s | core 0 busy s | core 1 busy s |"
             " others on core 0 s | others in all s | duration s | attempts | note |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for side in sides:
        for name, by_c in side["scenarios"].items():
            for c, data in by_c.items():
                note = ""
                if "ops_most_connection" in data:
                    note = (f"ops per connection {data['ops_fewest_connection']}–"
                            f"{data['ops_most_connection']}; ")
                if name in CODE_SCENARIOS:
                    note += (f"{data['codes_minted']} codes minted; "
                            f"{data['connections_out_of_codes']} connections ran dry")
                if name in REFRESH_SCENARIOS:
                    note += f"{data['grants_left']} grants still live after the run"
                if name == "flow":
                    note += (f"per-request p50 {data['request_p50_ms']:.1f} ms, "
                            f"p99 {data['request_p99_ms']:.1f} ms")
                notes.append(f"| {side['label']} | {name} | {c} | {data['calibration_ms']:.0f} | "
                             f"{data['loadgen_cpu_s']:.1f} | "
                             f"{data['core0_busy_s']:.1f} | {data['core1_busy_s']:.1f} | "
                             f"{data['core0_others_s']:.1f} | {data['others_s']:.1f} | "
                             f"{data['duration']:.1f} | {data.get('attempts', 1)} | {note} |")
    for side in sides:
        if side.get("failure"):
            parts += [f"## {side['label']} stopped answering", "", "```", side["failure"], "```", ""]
    parts += ["## Run conditions", "",
              "calibration = CPU ms of a fixed pure-Python loop on core 0 just before the scenario "
              "(same number, same machine speed). During each measured run: wrk's CPU, how busy "
              "each core was, the CPU other processes took on the server's core (core 0 busy time "
              "less the server and, for ours-pg, less all of PostgreSQL's and Redis's CPU), and on "
              "the whole machine (both cores less the server, its database, wrk and the harness). "
              f"A run with more than {CONFIG.max_noise:g}% of core 0 taken by others was run again "
              f"(at most {CONFIG.retries} times) and the quietest attempt kept.", "",
              *notes, ""]
    return "\n".join(parts)


CONFIG = Config()


def main() -> int:
    global PIDFILE
    CONFIG.results.mkdir(parents=True, exist_ok=True)
    PIDFILE = CONFIG.results / ".pids"

    def on_signal(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M")
    info = machine()
    log(f"config: {CONFIG}")
    # Each side is set up in turn (the others paused), then the scenarios run interleaved: for
    # each scenario and concurrency, every side in turn, the others paused (SIGSTOP), so that
    # the figures compared were taken minutes apart at most, on a machine whose speed drifts.
    live: list[Side] = []
    rates: dict[tuple[str, str, int], float] = {}
    try:
        for label in CONFIG.sides:
            side = setup_side(label)
            if side is not None:
                side.pause()
                live.append(side)
        for name in [s for s in RUN_ORDER if s in CONFIG.scenarios]:
            for c in CONFIG.concurrency:
                for side in live:
                    if side.failure is not None:
                        continue
                    side.resume()
                    try:
                        side.run(name, c, rates)
                    except Exception as error:
                        # A server that died is a finding: report it and go on with the others.
                        if side.alive():
                            raise
                        side.failure = side.died(f"{name} at {c} connections") + (
                            f"\n(the harness saw: {type(error).__name__}: {error})")
                        log(side.failure)
                    finally:
                        side.pause()
    finally:
        for side in live:
            side.cleanup()
        stop_all()
        with contextlib.suppress(OSError):
            PIDFILE.unlink()
        with contextlib.suppress(OSError):
            (PIDFILE.parent / ".leftovers").unlink()
    sides = [side.summary() for side in live]
    if CONFIG.sides != ["peer"] and source_fingerprint() not in info["openplate"]:
        info["openplate"] += f"; WARNING: the source changed during the run (now {source_fingerprint()})"
        log("warning: Openplate's source changed during the run; servers started before it ran "
            "the old code")
    text = report(sides, info, started)
    (CONFIG.results / "latest.md").write_text(text + "\n")
    (CONFIG.results / "latest.json").write_text(json.dumps(
        {"started": started, "machine": info, "config": {k: str(v) for k, v in asdict(CONFIG).items()},
         "sides": sides}, indent=1, default=str))
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
