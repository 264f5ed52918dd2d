#!/usr/bin/env bash
# Install everything the test suite needs, then run it. Usage: bash scripts/test.sh [pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
# Install again only when the dependencies or the interpreter changed since the last install
# (the package itself is installed editable): a second run starts at once.
STAMP=.venv/.openplate-installed
WANT="$(.venv/bin/python --version 2>&1) $(cksum < pyproject.toml)"
if [ "$(cat "$STAMP" 2>/dev/null)" != "$WANT" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e '.[test]'
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

exec .venv/bin/python -m pytest "$@"
