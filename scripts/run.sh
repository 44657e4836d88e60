#!/usr/bin/env bash
# The README's first command: installs what is missing, builds, and starts Rounds with demo data
# on http://127.0.0.1:8080 over an embedded SQLite database under ./data.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
mkdir -p data
exec build/rounds serve --demo --data-dir ./data --port "${ROUNDS_PORT:-8080}" "$@"
