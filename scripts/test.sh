#!/usr/bin/env bash
# The whole test suite from a clean clone: set-up (venv, tursodb, promtool), lint, type-check,
# then pytest.
# Extra arguments go to pytest.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash scripts/setup.sh --server
export SYNCTUNE_TURSODB
SYNCTUNE_TURSODB=$(ls "$root"/.tools/turso/node_modules/@tursodatabase/cli-*/tursodb | head -n1)
.venv/bin/ruff check .
.venv/bin/python -m mypy
exec .venv/bin/python -m pytest "$@"
