#!/usr/bin/env bash
# The Openplate vs npm oidc-provider benchmark, in one command (see docs/performance.md):
#
#   bash benchmarks/run.sh
#
# Installs what it needs (Debian's wrk, the peer's npm packages from its lock file, the project's
# virtualenv if missing), then runs benchmarks/bench.py on core 1, which starts each server on
# core 0 in turn. Writes benchmarks/results/latest.md (and latest.json) and prints the tables.
# A quick smoke run: BENCH_WARMUP=1 BENCH_DURATION=3 BENCH_GRANTS=200 bash benchmarks/run.sh
# Not part of the test suite. Stops everything it started when it ends or is interrupted.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(nproc)" -lt 2 ]; then
  echo "error: the benchmark pins the server to core 0 and the load to core 1: it needs 2 cores" >&2
  exit 1
fi

if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "installing Debian's wrk" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
  else
    echo "error: the benchmark needs wrk: sudo apt-get install -y wrk" >&2
    exit 1
  fi
fi
for tool in node npm taskset; do
  command -v "$tool" >/dev/null || { echo "error: the benchmark needs $tool" >&2; exit 1; }
done

# The peer: exactly the versions in benchmarks/peer/package-lock.json.
if ! cmp -s benchmarks/peer/package-lock.json benchmarks/peer/node_modules/.bench-lock 2>/dev/null; then
  echo "installing the peer (npm ci in benchmarks/peer)" >&2
  (cd benchmarks/peer && npm ci --no-audit --no-fund --loglevel=error)
  cp benchmarks/peer/package-lock.json benchmarks/peer/node_modules/.bench-lock
fi

if [ ! -x .venv/bin/openplate ]; then
  echo "installing Openplate into .venv" >&2
  [ -x .venv/bin/python ] || python3 -m venv .venv
  .venv/bin/python -m pip install --quiet .
fi
# The server as `pip install .` leaves it: byte-compiled. Under PYTHONDONTWRITEBYTECODE=1 (set on
# some machines, this one included) an editable install, as the test suite's, would otherwise
# compile every module of openplate/ from source at each start (about 12% of a restart's work).
.venv/bin/python -m compileall -q openplate
if [ "${BENCH_PROFILE:-}" = "1" ] && [ ! -x .venv/bin/py-spy ]; then
  .venv/bin/python -m pip install --quiet py-spy
fi

# PostgreSQL and Redis for the second table (started if installed but stopped).
bash scripts/services.sh || true

# One benchmark at a time on this machine: two would share its two cores, and each would measure
# the other.
exec 9>/tmp/openplate-benchmark.lock
if ! flock -n 9; then
  echo "error: another benchmark run is in progress on this machine; wait for it to finish" >&2
  exit 1
fi

results=${BENCH_RESULTS:-benchmarks/results}
mkdir -p "$results"
bench_pid=""
cleanup() {
  trap - EXIT INT TERM
  if [ -n "$bench_pid" ] && kill -0 "$bench_pid" 2>/dev/null; then
    kill -TERM "$bench_pid" 2>/dev/null || true
    for _ in $(seq 1 30); do kill -0 "$bench_pid" 2>/dev/null || break; sleep 1; done
    kill -KILL "$bench_pid" 2>/dev/null || true
  fi
  # Anything bench.py started and could not stop itself (it keeps this list up to date).
  if [ -f "$results/.pids" ]; then
    while read -r pid; do
      [ -n "$pid" ] && { kill -CONT -- "-$pid"; kill -TERM -- "-$pid"; } 2>/dev/null || true
    done < "$results/.pids"
    sleep 1
    while read -r pid; do
      [ -n "$pid" ] && kill -KILL -- "-$pid" 2>/dev/null || true
    done < "$results/.pids"
    rm -f "$results/.pids"
  fi
  # … and the database, Redis keys and folders it made (bench.py keeps this list up to date too).
  if [ -f "$results/.leftovers" ]; then
    while read -r kind what; do
      case "$kind" in
        pgdb) psql -h 127.0.0.1 -U postgres -d postgres -qc "DROP DATABASE IF EXISTS \"$what\" WITH (FORCE)" \
                >/dev/null 2>&1 || true ;;
        redis) redis-cli -h 127.0.0.1 --scan --pattern "$what*" 2>/dev/null \
                 | xargs -r redis-cli -h 127.0.0.1 del >/dev/null 2>&1 || true ;;
        dir) case "$what" in /tmp/openplate-bench-*) rm -rf "$what" ;; esac ;;
      esac
    done < "$results/.leftovers"
    rm -f "$results/.leftovers"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

taskset -c 1 .venv/bin/python benchmarks/bench.py "$@" &
bench_pid=$!
wait "$bench_pid"
