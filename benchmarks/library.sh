#!/usr/bin/env bash
# The library benchmark (see docs/performance.md, "Library"):
#
#   bash benchmarks/library.sh                      # 100,000 demo maps, SQLite and PostgreSQL
#   bash benchmarks/library.sh --maps 2000 --requests 100 --warmup 10 --uploads 2   # a smoke run
#
# Installs Openplate into .venv if it is missing (as run.sh does), starts PostgreSQL and Redis
# with scripts/services.sh when they are installed but stopped, then runs benchmarks/library.py,
# which seeds each database with `openplate demo`, serves it from one process pinned to core 0
# and measures from core 1. Writes benchmarks/results/library-latest.md and .json. Not part of
# the test suite; one benchmark at a time on a machine (a lock); it stops what it started and
# drops the database it made, also when interrupted.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/openplate ]; then
  echo "installing Openplate into .venv" >&2
  [ -x .venv/bin/python ] || python3 -m venv .venv
  .venv/bin/python -m pip install --quiet .
fi
.venv/bin/python -m compileall -q openplate
bash scripts/services.sh || true
exec .venv/bin/python benchmarks/library.py "$@"
