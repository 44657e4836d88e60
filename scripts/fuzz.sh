#!/usr/bin/env bash
# Coverage-guided fuzzing of the targets in fuzz/ with libFuzzer, under ASan and UBSan.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     (default: 60 seconds, every target)
#
# Builds build-fuzz/ with clang (installed if missing), then runs each target for the time given,
# starting from its committed inputs (fuzz/corpus/<target>/). What adds coverage is kept in
# build-fuzz/corpus/<target>/; an input that breaks a target is written to
# build-fuzz/crashes/<target>/ and the script stops with its name. Once the cause is fixed, copy
# the input into fuzz/corpus/<target>/: fuzz_test, part of scripts/test.sh, replays it from then on.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
[ $# -gt 0 ] && shift
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(phi_scan phi_split patient_index request_body message_json policy_template search_text audit_checkpoint)

scripts/setup.sh clang libclang-rt-14-dev
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DROUNDS_SANITIZE=ON \
  -DROUNDS_FUZZ=ON >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target "${targets[@]/#/fuzz_}" 2>&1 | grep -E 'error|warning:' || true
cmake --build build-fuzz -j"$(nproc)" --target "${targets[@]/#/fuzz_}" >/dev/null

for target in "${targets[@]}"; do
  corpus=build-fuzz/corpus/$target
  crashes=build-fuzz/crashes/$target
  mkdir -p "$corpus" "$crashes"
  echo "== $target, $seconds s"
  if ! ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1 \
      "build-fuzz/fuzz/fuzz_$target" -max_total_time="$seconds" -max_len=4096 -timeout=10 \
      -artifact_prefix="$crashes/" -print_final_stats=1 "$corpus" "fuzz/corpus/$target" \
      2>"build-fuzz/fuzz-$target.log"; then
    tail -40 "build-fuzz/fuzz-$target.log" >&2
    echo "fuzz: $target broke; the input is in $crashes/" >&2
    exit 1
  fi
  grep -E '^stat::(number_of_executed_units|new_units_added)' "build-fuzz/fuzz-$target.log" || true
done
echo "== no target broke"
