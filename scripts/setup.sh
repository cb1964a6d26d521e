#!/usr/bin/env bash
# Idempotent set-up from a clean clone: .venv with synctune and all extras; with --server also the
# tursodb sync server (npm turso@0.6.0), promtool (Debian's prometheus) and redis-server (Debian's
# redis-server; the tests start a private instance, never the system service) used by the tests.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv" >&2
  "$python" -m venv .venv
fi
stamp=.venv/.synctune-deps
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "setup: installing synctune and its dependencies into .venv" >&2
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip >&2
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[all,dev]" >&2
  touch "$stamp"
fi

if [ "${1:-}" = "--server" ]; then
  tursodb=.tools/turso/node_modules/@tursodatabase/cli-linux-x64-gnu/tursodb
  if ! [ -x "$(ls .tools/turso/node_modules/@tursodatabase/cli-*/tursodb 2>/dev/null | head -n1)" ]; then
    echo "setup: installing the tursodb sync server (npm turso@0.6.0)" >&2
    mkdir -p .tools/turso
    npm install --silent --no-audit --no-fund --prefix .tools/turso turso@0.6.0 >&2
  fi
  if ! command -v promtool >/dev/null 2>&1; then
    echo "setup: installing promtool (Debian package prometheus)" >&2
    sudo_=""; [ "$(id -u)" -eq 0 ] || sudo_="sudo"
    $sudo_ apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq prometheus >/dev/null
  fi
  if ! command -v redis-server >/dev/null 2>&1; then
    echo "setup: installing redis-server (Debian package redis-server)" >&2
    sudo_=""; [ "$(id -u)" -eq 0 ] || sudo_="sudo"
    $sudo_ apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq redis-server >/dev/null
  fi
fi
