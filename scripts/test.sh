#!/usr/bin/env bash
# Install everything the test suite needs, then run it. Usage: bash scripts/test.sh [pytest args]
#
# The suite has a virtual environment of its own, .venv-test, so that it never touches the
# README's quick start, which may be serving from .venv at this very moment: reinstalling the
# package there (as this script once did) pulls the templates and the lazily imported modules
# from under a running server. Nothing here writes to .venv, to the quick start's openplate.db
# or openplate-secret.key, or to its port (every test server takes a free port of its own);
# tests/test_quick_start.py runs the two README commands in both orders to keep it so.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=.venv-test
if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
# Install again only when the dependencies or the interpreter changed since the last install
# (the package itself is installed editable): a second run starts at once.
STAMP="$VENV/.openplate-installed"
WANT="$("$VENV/bin/python" --version 2>&1) $PWD $(cksum < pyproject.toml)"
if [ "$(cat "$STAMP" 2>/dev/null)" != "$WANT" ]; then
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
  "$VENV/bin/python" -m pip install --quiet -e '.[test]'
  echo "$WANT" > "$STAMP"
fi

# Browser tests drive Debian's Chromium through Playwright (never `playwright install`).
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "installing Debian's chromium package for the browser tests" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "error: the browser tests need Debian's chromium package (/usr/bin/chromium):" >&2
    echo "       sudo apt-get install -y chromium" >&2
    exit 1
  fi
fi

# The browser tests check pages with axe-core, pinned in tests/browser/axe (package-lock.json).
AXE=tests/browser/axe
if ! node -e "const d = process.argv[1];
  const want = require(d + '/package.json').dependencies['axe-core'];
  process.exit(require(d + '/node_modules/axe-core/package.json').version === want ? 0 : 1)" \
    "$PWD/$AXE" 2>/dev/null; then
  if ! command -v npm >/dev/null; then
    echo "error: the browser tests need Node.js and npm to install axe-core ($AXE)" >&2
    exit 1
  fi
  (cd "$AXE" && npm ci --no-audit --no-fund --loglevel=error)
fi

# Every test configures the servers it starts. Settings exported for a server of your own
# (OPENPLATE_DATABASE_URL, say) must not reach them; OPENPLATE_TEST_* are the suite's own.
while IFS= read -r name; do
  unset "$name"
done < <(compgen -e | grep '^OPENPLATE_' | grep -v '^OPENPLATE_TEST_' || true)

# Two test processes by default (pytest-xdist, a file's tests kept together): most tests wait on
# a server, so two keep both cores of a small machine busy. OPENPLATE_TEST_WORKERS=1 runs one;
# an explicit -n wins. More than a few would exhaust PostgreSQL's 100 connections.
PARALLEL=()
WORKERS=${OPENPLATE_TEST_WORKERS:-2}
if [ "$WORKERS" != "1" ] && ! printf '%s\n' "$@" | grep -qE '^(-n|--numprocesses)'; then
  PARALLEL=(-n "$WORKERS" --dist loadfile)
fi

# The slowest tests are listed at the end (the suite must stay well under 15 minutes); a
# --durations of your own wins.
exec "$VENV/bin/python" -m pytest "${PARALLEL[@]}" --durations=25 "$@"
