#!/usr/bin/env bash
# The README's second command: installs what is missing, builds, and runs every test —
# unit tests and the store contract suite (ctest), integration tests against the real binary
# (HTTP + WebSocket), the web app's unit tests, browser tests in Debian's Chromium, then the unit tests again under
# ASan+UBSan, and those of the layers that run threads under ThreadSanitizer (scripts/tsan.sh).
# Set ROUNDS_SKIP_SANITIZE=1 to leave out the sanitizer passes.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)

scripts/setup.sh
scripts/build.sh

echo "== unit and contract tests"
(cd build && ctest --output-on-failure -j2 --timeout 300)

echo "== web app unit tests"
(cd web && npm run --silent test)

echo "== integration and browser tests"
(cd tests && { [ -d node_modules ] && [ node_modules -nt package-lock.json ] || npm ci --no-audit --no-fund --loglevel=error; })
(cd tests && ROUNDS_BINARY="$PWD/../build/rounds" node --test --test-concurrency=1 integration/ e2e/)

if [ "${ROUNDS_SKIP_SANITIZE:-0}" != 1 ]; then
  echo "== unit and contract tests under ASan+UBSan"
  scripts/build.sh --sanitize
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j2 --timeout 600)
  echo "== unit tests of the layers that run threads under ThreadSanitizer"
  scripts/tsan.sh
fi

echo "== all tests passed in $(( $(date +%s) - start )) s"
