#!/usr/bin/env bash
# The unit tests of the layers that run threads (core, store, app, transport) under
# ThreadSanitizer: the store's writer and its readers, the audit service's checkpoint,
# verification and witness threads, the page cache, the retention job, the HTTP and WebSocket
# server. Any report fails the run. Builds build-tsan/ first (scripts/build.sh --tsan).
# Usage: scripts/tsan.sh
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/build.sh --tsan
cd build-tsan
# die_after_fork=0: some tests fork a child that opens the store (a process of its own).
export TSAN_OPTIONS="halt_on_error=1 die_after_fork=0 second_deadlock_stack=1"

# One test binary (or one of two halves of app_test) with its output kept in a log; the log is
# printed when it fails.
run() {
  local log=$1
  shift
  if "$@" --gtest_brief=1 > "$log" 2>&1; then
    echo "   $log: $(grep -E '^\[  PASSED  \]' "$log" | tail -1)"
  else
    echo "   $log failed:"
    grep -E -A40 'WARNING: ThreadSanitizer|\[  FAILED  \]|Failure' "$log" | head -200
    return 1
  fi
}

# Two at a time (two cores): the small binaries, then half of app_test, beside its other half.
( run tsan-core.log ./core_test && run tsan-store.log ./store_test &&
  run tsan-transport.log ./transport_test &&
  GTEST_TOTAL_SHARDS=2 GTEST_SHARD_INDEX=0 run tsan-app-0.log ./app_test ) &
first=$!
status=0
GTEST_TOTAL_SHARDS=2 GTEST_SHARD_INDEX=1 run tsan-app-1.log ./app_test || status=1
wait "$first" || status=1
exit "$status"
