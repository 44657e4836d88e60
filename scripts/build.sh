#!/usr/bin/env bash
# Builds the server, its tests and the web app. Usage: scripts/build.sh [--sanitize]
# The normal build goes to build/; --sanitize builds an ASan+UBSan variant in build-asan/.
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir=build
cmake_args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
if [ "${1:-}" = "--sanitize" ]; then
  build_dir=build-asan
  cmake_args=(-DCMAKE_BUILD_TYPE=Debug -DROUNDS_SANITIZE=ON)
fi

jobs=$(nproc)
# Beast translation units need ~0.8 GB each; cap the parallelism on small machines.
[ "$jobs" -gt 4 ] && jobs=4

export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
cmake -S . -B "$build_dir" "${cmake_args[@]}" >/dev/null
cmake --build "$build_dir" -j"$jobs" 2>&1 | grep -vE '^\[ *[0-9]+%\]|^-- |Consolidate compiler' || true
# grep swallowed cmake's status: check the build really finished.
cmake --build "$build_dir" -j"$jobs" >/dev/null

if [ "$build_dir" = build ] && [ -f web/package.json ]; then
  (cd web && { [ -d node_modules ] && [ node_modules -nt package-lock.json ] || npm ci --no-audit --no-fund --loglevel=error; } && npm run --silent build >/dev/null)
fi
