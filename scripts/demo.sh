#!/usr/bin/env bash
# The main job on its built-in default: set-up, then the strategy comparison.
# Extra arguments go to `synctune compare`.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash scripts/setup.sh
exec .venv/bin/synctune compare --scenario web --duration 10800 --freshness 30 --strategies periodic:60,on-write,periodic:60+on-write,seed-rule,adaptive,oracle "$@"
