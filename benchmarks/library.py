"""The library benchmark: lists, search, one map, its page and pictures, and an upload, on a library
filled by ``openplate demo``, on SQLite and on PostgreSQL (with Redis when it answers).

Run it through ``bash benchmarks/library.sh`` (see docs/performance.md, "Library"). Not part of
the test suite.

For each database: a fresh database is migrated and filled with ``openplate demo --maps N``
(timed apart), an app is registered, and one ``openplate serve`` process is started, pinned to
core 0 with ``taskset`` (when there are 2 cores or more; this harness then keeps to core 1).
Then one client sends the requests of each scenario one after another (keep-alive, no
concurrency) and times each from send to last byte: the figures are latencies on one core,
not throughput. Every answer is checked (status, and for the pictures their type); anything
else counts as an error. The server's CPU time per request is read from /proc.

Fixtures come over HTTP before anything is timed: the first pages of ``GET /maps``, a sample of
public maps (ids, slugs, titles, tags), and an access token through the real code flow
(flows.py). Every map starts without pictures (``openplate demo`` draws none), so a "cold"
request is the first of its map and a "warm" one repeats maps already drawn.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import platform
import random
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import flows  # noqa: E402  (benchmarks/ is not a package)

REDIRECT_URI = "http://127.0.0.1:9/cb"
PASSWORD = "bench-library-" + secrets.token_hex(6)
HIGH = "100000000"
LOCK = Path("/tmp/openplate-benchmark.lock")
#: The issue's targets, in ms (p95) or s (upload).
TARGETS = {"list": 50.0, "search": 50.0, "page": 30.0, "upload_s": 1.0}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@dataclass
class Figures:
    name: str
    what: str
    target_ms: float | None
    requests: int = 0
    errors: int = 0
    p50: float = 0.0
    p95: float = 0.0
    p99: float = 0.0
    mean: float = 0.0
    max: float = 0.0
    server_cpu_ms: float = 0.0
    samples: list[float] = field(default_factory=list, repr=False)

    def finish(self, cpu_seconds: float) -> None:
        ordered = sorted(self.samples)
        if ordered:
            def at(share: float) -> float:
                return ordered[min(len(ordered) - 1, int(share * len(ordered)))]
            self.p50, self.p95, self.p99 = at(0.50), at(0.95), at(0.99)
            self.mean, self.max = statistics.fmean(ordered), ordered[-1]
        self.requests = len(ordered)
        self.server_cpu_ms = 1000 * cpu_seconds / max(1, self.requests)


# --- processes ----------------------------------------------------------------------------

#: Pin the server to core 0 and this harness to core 1: decided once, before this process pins
#: itself (from then on it sees one core).
PIN = len(os.sched_getaffinity(0)) >= 2 and shutil.which("taskset") is not None


def pinned(command: list[str]) -> list[str]:
    return ["taskset", "-c", "0", *command] if PIN else command


def cpu_seconds(pid: int) -> float:
    with contextlib.suppress(OSError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return 0.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Side:
    """One database, its demo library and its server."""

    def __init__(self, label: str, python: str, database_url: str, workdir: Path,
                 redis_prefix: str | None) -> None:
        self.label, self.python, self.database_url, self.workdir = label, python, database_url, workdir
        self.redis_prefix = redis_prefix
        self.secret_key = secrets.token_urlsafe(48)
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OPENPLATE_")}
        env.update({"OPENPLATE_DATABASE_URL": self.database_url,
                    "OPENPLATE_SECRET_KEY": self.secret_key,
                    "OPENPLATE_SIGNIN_FAILURES_PER_IP": HIGH,
                    "OPENPLATE_SIGNIN_FAILURES_PER_ACCOUNT": HIGH,
                    "OPENPLATE_TOKEN_FAILURES_PER_IP": HIGH,
                    "OPENPLATE_TOKEN_FAILURES_PER_CLIENT": HIGH})
        if self.redis_prefix is not None:
            env["OPENPLATE_REDIS_URL"] = "redis://127.0.0.1:6379/0"
            env["OPENPLATE_REDIS_PREFIX"] = self.redis_prefix
        return env

    def cli(self, *args: str, stdin: str | None = None, timeout: float = 7200) -> str:
        done = subprocess.run([self.python, "-m", "openplate.cli", *args], env=self.environment(),
                              cwd=self.workdir, input=stdin, capture_output=True, text=True,
                              timeout=timeout, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"openplate {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout

    def start(self) -> None:
        log_file = (self.workdir / "server.log").open("ab")
        self.proc = subprocess.Popen(
            pinned([self.python, "-m", "openplate.cli", "serve", "--port", str(self.port),
                    "--log-level", "warning"]),
            env=self.environment(), cwd=self.workdir, stdout=log_file, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True)
        log_file.close()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("the server exited while starting: "
                                   + (self.workdir / "server.log").read_text()[-2000:])
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.base_url + "/openapi.json", timeout=5).status_code == 200:
                    return
            time.sleep(0.05)
        raise RuntimeError("the server did not answer within 120 s")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def server_cpu(self) -> float:
        assert self.proc is not None
        return cpu_seconds(self.proc.pid)


# --- fixtures -----------------------------------------------------------------------------

@dataclass
class Fixtures:
    newest_pages: list[str]
    maps: list[dict[str, Any]]
    token: str


def gather(side: Side, client: httpx.Client, sample: int) -> Fixtures:
    pages: list[str] = []
    found: list[dict[str, Any]] = []
    url: str | None = "/maps?limit=100"
    while url is not None and len(found) < sample:
        answer = client.get(url)
        answer.raise_for_status()
        body = answer.json()
        found.extend(body["maps"])
        url = body["next"]
    url = "/maps"
    while url is not None and len(pages) < 10:
        pages.append(url)
        url = client.get(url).json()["next"]
    random.Random(5).shuffle(found)
    return Fixtures(pages, found, token(side))


def token(side: Side) -> str:
    """An access token of demo-amara (scope account maps), through the real code flow."""
    import asyncio

    app = json.loads(side.cli("app", "create", "--owner", "demo-amara", "--name", "bench-library",
                              "--redirect-uri", REDIRECT_URI, "--json", timeout=120))
    target = flows.Target("ours", side.base_url, app["client_id"], app["client_secret"],
                          REDIRECT_URI, "demo-amara", "demo-amara@demo.example", PASSWORD,
                          scope=flows.OAUTH_SCOPE)

    async def work() -> str:
        async with flows.new_browser(target) as browser:
            await flows.establish(browser, target)
            code = await flows.silent_code(browser, target)
            grant = await flows.redeem(browser, target, code)
        return str(grant["access_token"])

    return asyncio.run(work())


# --- measuring ----------------------------------------------------------------------------

def timed(client: httpx.Client, method: str, url: str, **kwargs: Any) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    answer = client.request(method, url, **kwargs)
    return (time.perf_counter() - started) * 1000, answer


def run_scenario(side: Side, client: httpx.Client, name: str, what: str, urls: Iterator[str],
                 count: int, warmup: int, target_ms: float | None,
                 check: Callable[[httpx.Response], bool] | None = None) -> Figures:
    figures = Figures(name, what, target_ms)
    for _ in range(warmup):
        client.get(next(urls))
    cpu_before = side.server_cpu()
    for _ in range(count):
        elapsed, answer = timed(client, "GET", next(urls))
        figures.samples.append(elapsed)
        if answer.status_code != 200 or (check is not None and not check(answer)):
            figures.errors += 1
    figures.finish(side.server_cpu() - cpu_before)
    log(f"  {name}: p50 {figures.p50:.1f} ms, p95 {figures.p95:.1f} ms, p99 {figures.p99:.1f} ms"
        f"{f', {figures.errors} errors' if figures.errors else ''}")
    return figures


def cycle(items: list[str]) -> Iterator[str]:
    while True:
        yield from items


def once_each(items: list[str]) -> Iterator[str]:
    yield from items
    raise RuntimeError("the sample ran out of maps: ask for fewer requests or more maps")


def is_png(answer: httpx.Response) -> bool:
    return answer.headers.get("content-type") == "image/png" and answer.content[:4] == b"\x89PNG"


def is_svg(answer: httpx.Response) -> bool:
    return answer.headers.get("content-type") == "image/svg+xml" and b"<svg" in answer.content[:200]


def scenarios(side: Side, client: httpx.Client, fx: Fixtures, count: int,
              warmup: int) -> list[Figures]:
    from openplate.cli.demo_words import ENGLISH, TOPIC_TAGS, USERS

    maps = fx.maps
    common = [w for w in ENGLISH.words[:40]]
    common += [f"{a} {b}" for a, b in zip(ENGLISH.words[40:60], ENGLISH.words[60:80], strict=False)]
    rare = [m["title"] for m in maps[:200]]
    tags = list(TOPIC_TAGS)
    authors = [name for name, _ in USERS]
    page_of = {m["id"]: m["url"].split("/", 3)[3] for m in maps}  # "mindmaps/id/slug"
    # Disjoint slices of the sample: each cold scenario sees maps nobody asked for before.
    warm = maps[:50]
    cold_pages, cold_thumbs, cold_svgs = (maps[50 + i * (count + warmup):50 + (i + 1) * (count + warmup)]
                                          for i in range(3))
    for m in warm:  # draw their pictures once (not timed)
        client.get("/" + page_of[m["id"]])
        client.get(f"/mindmaps/{m['id']}/files/thumbnail.png")
        client.get(f"/maps/{m['id']}/export?format=svg")
    lists = TARGETS["list"]
    search = TARGETS["search"]
    page = TARGETS["page"]
    q = quote
    return [
        run_scenario(side, client, "list-newest", "GET /maps, pages 1 to 10 (newest first)",
                     cycle(fx.newest_pages), count, warmup, lists),
        run_scenario(side, client, "search-common", "GET /maps?q= a common English word, or two",
                     cycle([f"/maps?q={q(w)}" for w in common]), count, warmup, search),
        run_scenario(side, client, "search-rare", "GET /maps?q= a map's whole title (few matches)",
                     cycle([f"/maps?q={q(t)}" for t in rare]), count, warmup, search),
        run_scenario(side, client, "filter-tag", "GET /maps?tag=",
                     cycle([f"/maps?tag={q(t)}" for t in tags]), count, warmup, lists),
        run_scenario(side, client, "filter-author", "GET /maps?author= (one prolific, five fewer)",
                     cycle([f"/maps?author={a}" for a in authors]), count, warmup, lists),
        run_scenario(side, client, "map-json", "GET /maps/{id}",
                     cycle([f"/maps/{m['id']}" for m in maps]), count, warmup, lists),
        run_scenario(side, client, "page-warm", "GET /mindmaps/{id}/{slug}, picture drawn before",
                     cycle(["/" + page_of[m["id"]] for m in warm]), count, warmup, page),
        run_scenario(side, client, "page-cold", "GET /mindmaps/{id}/{slug}, first view of the map",
                     once_each(["/" + page_of[m["id"]] for m in cold_pages]), count, warmup, None),
        run_scenario(side, client, "thumbnail-warm", "GET …/files/thumbnail.png, drawn before",
                     cycle([f"/mindmaps/{m['id']}/files/thumbnail.png" for m in warm]), count,
                     warmup, None, is_png),
        run_scenario(side, client, "thumbnail-cold", "GET …/files/thumbnail.png, first of the map",
                     once_each([f"/mindmaps/{m['id']}/files/thumbnail.png" for m in cold_thumbs]),
                     count, warmup, None, is_png),
        run_scenario(side, client, "svg-warm", "GET /maps/{id}/export?format=svg, drawn before",
                     cycle([f"/maps/{m['id']}/export?format=svg" for m in warm]), count, warmup,
                     None, is_svg),
        run_scenario(side, client, "svg-cold", "GET /maps/{id}/export?format=svg, first of the map",
                     once_each([f"/maps/{m['id']}/export?format=svg" for m in cold_svgs]), count,
                     warmup, None, is_svg),
    ]


def big_map(seed: int, topics: int) -> tuple[str, bytes]:
    """A generated XMind workbook of ``topics`` topics (English and Japanese titles)."""
    from openplate.cli import demo_words
    from openplate.cli.demo_files import xmind_workbook
    from openplate.cli.demo_maps import Words, outline

    rng = random.Random(f"bench-upload/{seed}")
    language = demo_words.JAPANESE if seed % 2 else demo_words.ENGLISH
    words = Words(rng, language)
    title = f"Benchmark upload {seed}"
    return title, xmind_workbook([outline(rng, words, topics, title)], title)


def uploads(side: Side, client: httpx.Client, token: str, times: int) -> dict[str, Any]:
    """Upload a 5,000-topic map ``times`` times: the POST (parse and store), then the first
    SVG of it (drawn and kept), then its page."""
    rows: list[dict[str, float]] = []
    for n in range(times):
        title, content = big_map(n, 5_000)
        post_ms, answer = timed(client, "POST", "/maps", headers={"Authorization": f"Bearer {token}"},
                                data={"title": title, "tags": "benchmark"},
                                files={"map": ("big.xmind", content, "application/octet-stream")})
        if answer.status_code != 201:
            raise RuntimeError(f"the upload answered {answer.status_code}: {answer.text[:300]}")
        created = answer.json()
        svg_ms, svg = timed(client, "GET", f"/maps/{created['id']}/export?format=svg")
        page_ms, shown = timed(client, "GET", created["url"])
        if not (is_svg(svg) and shown.status_code == 200):
            raise RuntimeError("the uploaded map's picture or page did not answer")
        rows.append({"bytes": len(content), "upload_ms": post_ms, "first_svg_ms": svg_ms,
                     "first_page_ms": page_ms, "total_s": (post_ms + svg_ms) / 1000})
        log(f"  upload {n + 1}: POST {post_ms:.0f} ms, first SVG {svg_ms:.0f} ms, "
            f"page {page_ms:.0f} ms")
    return {"runs": rows,
            "median_upload_ms": statistics.median(r["upload_ms"] for r in rows),
            "median_first_svg_ms": statistics.median(r["first_svg_ms"] for r in rows),
            "median_total_s": statistics.median(r["total_s"] for r in rows),
            "max_total_s": max(r["total_s"] for r in rows)}


# --- sides --------------------------------------------------------------------------------

def postgres_database(name: str) -> str | None:
    base = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-qc"]
    try:
        subprocess.run([*base, f'CREATE DATABASE "{name}"'], check=True, timeout=60,
                       capture_output=True)
    except (OSError, subprocess.SubprocessError) as error:
        log(f"PostgreSQL is not available ({error}); skipping it")
        return None
    return f"postgresql://postgres@127.0.0.1:5432/{name}"


def drop_postgres(name: str) -> None:
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-qc",
                    f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'], check=False, timeout=60,
                   capture_output=True)


def redis_answers() -> bool:
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        return subprocess.run(["redis-cli", "-h", "127.0.0.1", "ping"], capture_output=True,
                              text=True, timeout=10, check=False).stdout.strip() == "PONG"
    return False


def forget_redis(prefix: str) -> None:
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        keys = subprocess.run(["redis-cli", "-h", "127.0.0.1", "--scan", "--pattern", prefix + "*"],
                              capture_output=True, text=True, timeout=60, check=False).stdout.split()
        for start in range(0, len(keys), 500):
            subprocess.run(["redis-cli", "-h", "127.0.0.1", "del", *keys[start:start + 500]],
                           capture_output=True, timeout=60, check=False)


def measure_side(label: str, args: argparse.Namespace) -> dict[str, Any] | None:
    workdir = Path(tempfile.mkdtemp(prefix=f"openplate-bench-library-{label}-"))
    undo: list[Callable[[], None]] = [lambda: shutil.rmtree(workdir, ignore_errors=True)]
    try:
        redis_prefix = None
        if label == "sqlite":
            url = f"sqlite:///{workdir / 'library.db'}"
        else:
            name = f"openplate_bench_library_{os.getpid()}"
            found = postgres_database(name)
            if found is None:
                return None
            url = found
            undo.append(lambda: drop_postgres(name))
            if redis_answers():
                redis_prefix = f"openplate-bench-library-{secrets.token_hex(4)}:"
                undo.append(lambda: forget_redis(redis_prefix or ""))
        side = Side(label, args.python, url, workdir, redis_prefix)
        undo.insert(0, side.stop)
        side.cli("migrate", timeout=600)
        log(f"{label}: openplate demo --maps {args.maps} …")
        started = time.monotonic()
        seeded = json.loads(side.cli("demo", "--maps", str(args.maps), "--seed", str(args.seed),
                                     "--password-stdin", "--json", stdin=PASSWORD + "\n"))
        seeding_s = time.monotonic() - started
        log(f"{label}: {seeded['maps']} maps, {seeded['topics']} topics in {seeding_s:.0f} s")
        side.start()
        with httpx.Client(base_url=side.base_url, timeout=120) as client:
            needed = 50 + 3 * (args.requests + args.warmup) + 1
            fx = gather(side, client, max(needed, 250))
            log(f"{label}: measuring ({args.requests} requests a scenario)")
            figures = scenarios(side, client, fx, args.requests, args.warmup)
            upload = uploads(side, client, fx.token, args.uploads)
        return {"label": label, "database": "SQLite" if label == "sqlite" else
                "PostgreSQL" + (" + Redis" if redis_prefix else ""),
                "seeding_s": round(seeding_s, 1), "seeded": seeded,
                "scenarios": [{k: v for k, v in asdict(f).items() if k != "samples"}
                              for f in figures],
                "upload": upload}
    finally:
        for step in undo:
            with contextlib.suppress(Exception):
                step()


# --- report -------------------------------------------------------------------------------

def verdict(value: float, target: float | None) -> str:
    if target is None:
        return ""
    return "yes" if value < target else "**no**"


def report(results: list[dict[str, Any]], conditions: dict[str, Any]) -> str:
    lines = [f"Library benchmark, {conditions['when']}: {conditions['maps']} demo maps, "
             f"{conditions['requests']} requests a scenario, one at a time; server pinned to "
             f"{conditions['server_core']}; {conditions['machine']}. Load average before: "
             f"{conditions['load_before']}, after: {conditions['load_after']}.", ""]
    for side in results:
        lines += [f"### {side['database']} ({side['seeded']['maps']} maps, "
                  f"{side['seeded']['topics']} topics, seeded in {side['seeding_s']} s)", "",
                  "| scenario | p50 ms | p95 ms | p99 ms | max ms | server CPU ms/req | errors "
                  "| p95 target met |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
        for f in side["scenarios"]:
            target = f"{verdict(f['p95'], f['target_ms'])} (< {f['target_ms']:g})" \
                if f["target_ms"] else ""
            lines.append(f"| {f['name']}: {f['what']} | {f['p50']:.1f} | {f['p95']:.1f} | "
                         f"{f['p99']:.1f} | {f['max']:.1f} | {f['server_cpu_ms']:.1f} | "
                         f"{f['errors']} | {target} |")
        up = side["upload"]
        lines += ["", f"Upload of a 5,000-topic XMind map ({len(up['runs'])} runs, medians): "
                      f"POST {up['median_upload_ms']:.0f} ms, first SVG {up['median_first_svg_ms']:.0f} ms; "
                      f"upload and first picture {up['median_total_s']:.2f} s (worst "
                      f"{up['max_total_s']:.2f} s; target < 1 s: "
                      f"{verdict(up['max_total_s'], TARGETS['upload_s'])}).", ""]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--maps", type=int, default=100_000, help="demo maps (default 100000)")
    parser.add_argument("--sides", nargs="+", default=["sqlite", "pg"], choices=["sqlite", "pg"])
    parser.add_argument("--requests", type=int, default=500, help="per scenario (default 500)")
    parser.add_argument("--warmup", type=int, default=50, help="per scenario (default 50)")
    parser.add_argument("--uploads", type=int, default=5, help="5,000-topic uploads (default 5)")
    parser.add_argument("--seed", type=int, default=1)
    default_python = ROOT / ".venv" / "bin" / "python"
    parser.add_argument("--python", default=str(default_python) if default_python.exists()
                        else sys.executable, help="the interpreter that runs openplate")
    parser.add_argument("--results", type=Path, default=HERE / "results")
    args = parser.parse_args()
    if args.maps < 300 + 3 * (args.requests + args.warmup):
        parser.error("--maps must leave enough public maps for the cold scenarios: at least "
                     f"{300 + 3 * (args.requests + args.warmup)} for these --requests/--warmup")
    lock = LOCK.open("w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print("error: another benchmark run is in progress on this machine", file=sys.stderr)
        return 1
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if PIN:
        os.sched_setaffinity(0, {1})
    conditions = {"when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "maps": args.maps,
                  "requests": args.requests, "load_before": " ".join(
                      f"{x:.1f}" for x in os.getloadavg()),
                  "server_core": "core 0 (taskset), the client on core 1" if PIN else "no core",
                  "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs",
                  "python": platform.python_version()}
    results = [found for label in args.sides if (found := measure_side(label, args)) is not None]
    conditions["load_after"] = " ".join(f"{x:.1f}" for x in os.getloadavg())
    text = report(results, conditions)
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "library-latest.md").write_text(text + "\n")
    (args.results / "library-latest.json").write_text(
        json.dumps({"conditions": conditions, "sides": results}, indent=2) + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
