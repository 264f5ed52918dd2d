"""Summarise a py-spy raw profile (``py-spy record --format raw``): where the samples went.

    .venv/bin/python benchmarks/profile_summary.py benchmarks/results/profiles/ours-sqlite-cc-c64.txt

Prints self time by package, the top functions by self time, and the top Openplate,
SQLAlchemy, driver and framework functions by inclusive time (a function counts once per sample
even when it recurses). BENCH_PROFILE=1 bash benchmarks/run.sh writes such profiles.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

_INTERESTING = re.compile(r"openplate/|sqlalchemy/|aiosqlite/|asyncpg/|starlette/|fastapi/|uvicorn/|"
                          r"argon2|cryptography|joserfc|jinja2|redis/|pydantic")


_LOCATION = re.compile(r"\(([^/():]+)(/[^():]*)?(?:\.py)?:\d+\)$")


def package(frame: str) -> str:
    """The top-level package (or stdlib module) a frame's code lives in."""
    if frame.startswith("Runner.run (asyncio/runners.py"):
        return "event loop (uvloop and httptools, in C)"
    match = _LOCATION.search(frame)
    if not match:
        return "other"
    name = match.group(1)
    return name[:-3] if name.endswith(".py") else name


def summarise(path: Path, top: int) -> str:
    self_time: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = [f for f in stack.split(";") if not f.startswith(("process ", "thread "))]
        if not frames:
            continue
        total += n
        self_time[frames[-1]] += n
        packages[package(frames[-1])] += n
        for frame in set(frames):
            inclusive[frame] += n
    if not total:
        return f"{path}: no samples"
    out = [f"{path}: {total} samples (threads holding the CPU; uvloop runs the event loop in C, "
           "so a coroutine's stack starts at the outermost Python frame it resumed)"]
    out += ["", "self time by package:"]
    out += [f"  {100 * n / total:5.1f}%  {p}" for p, n in packages.most_common(15)]
    out += ["", f"top {top} by self time:"]
    out += [f"  {100 * n / total:5.1f}%  {f}" for f, n in self_time.most_common(top)]
    out += ["", f"top {top} by inclusive time (project, database and framework code):"]
    picked = [(f, n) for f, n in inclusive.most_common() if _INTERESTING.search(f)][:top]
    out += [f"  {100 * n / total:5.1f}%  {f}" for f, n in picked]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("profiles", nargs="+", type=Path)
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()
    for path in args.profiles:
        print(summarise(path, args.top))
        print()


if __name__ == "__main__":
    main()
