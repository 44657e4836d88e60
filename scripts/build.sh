#!/usr/bin/env bash
# Builds the server, its tests and the web app. Usage: scripts/build.sh [--sanitize|--tsan]
# The normal build goes to build/; --sanitize builds an ASan+UBSan variant in build-asan/;
# --tsan a ThreadSanitizer variant of the unit tests of the layers that run threads
# (core, store, app, transport) in build-tsan/.
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir=build
cmake_args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
targets=()
if [ "${1:-}" = "--sanitize" ]; then
  build_dir=build-asan
  cmake_args=(-DCMAKE_BUILD_TYPE=Debug -DROUNDS_SANITIZE=ON)
elif [ "${1:-}" = "--tsan" ]; then
  build_dir=build-tsan
  cmake_args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DROUNDS_TSAN=ON)
  targets=(--target core_test store_test app_test transport_test)
fi

jobs=$(nproc)
# Beast translation units need ~0.8 GB each; cap the parallelism on small machines.
[ "$jobs" -gt 4 ] && jobs=4

export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
cmake -S . -B "$build_dir" "${cmake_args[@]}" >/dev/null
cmake --build "$build_dir" -j"$jobs" "${targets[@]}" 2>&1 | grep -vE '^\[ *[0-9]+%\]|^-- |Consolidate compiler' || true
# grep swallowed cmake's status: check the build really finished.
cmake --build "$build_dir" -j"$jobs" "${targets[@]}" >/dev/null

if [ "$build_dir" = build ] && [ -f web/package.json ]; then
  (cd web && { [ -d node_modules ] && [ node_modules -nt package-lock.json ] || npm ci --no-audit --no-fund --loglevel=error; } && npm run --silent build >/dev/null)
fi
