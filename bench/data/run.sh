#!/usr/bin/env bash
# History read and search over a large database, on loopback, bounded in time (about 4 minutes
# with the defaults, most of it seeding).
#
#   1. rounds-bench-seed fills a temporary data folder: users, spaces (half under the default
#      internal-community template, whose reads are audited, half under announcements, whose are
#      not) and N messages (default 1,000,000) of Zipf-distributed words and clinical terms.
#   2. `rounds serve` starts on it; some users sign in for bearer tokens.
#   3. wrk reads a page of 50 messages from random spaces with random users' tokens, once over the
#      PHI-bearing spaces and once over the others.
#      Then the same reads go to rounds-bare-http serving one of those pages from memory with
#      nothing behind it, on Rounds' I/O threads alone and through a pool as Rounds' API does: the
#      ceiling a history read is measured against.
#   4. wrk runs searches of each kind of term (common, mid-frequency, rare, clinical, two words,
#      prefix), one client at a time for latency, then all kinds mixed with several clients.
#   5. The history reads again, shorter, on the server restarted with no kept pages.
#
# Builds nothing: build the `rounds`, `rounds-bench-seed` and `rounds-bare-http` targets first
# (scripts/build.sh does).
#
# Usage: bench/data/run.sh [BUILD_DIR] [--json FILE] [--messages N] [--seconds S] [--keep]
#   BUILD_DIR   default $ROUNDS_BUILD_DIR or build/
#   --json      also write the figures as JSON to FILE
#   --messages  messages to seed (default 1000000)
#   --seconds   length of each history-read run (default 15; search runs take a third of it each)
#   --keep      leave the data folder in place (its path is printed)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${ROUNDS_BUILD_DIR:-$repo/build}
json_out=""
messages=1000000
seconds=15
keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --json) json_out=$2; shift 2 ;;
    --messages) messages=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "unknown option: $1" >&2; exit 2 ;;
    *) build=$1; shift ;;
  esac
done
build=$(cd "$build" && pwd)
seeder=$build/bench/data/rounds-bench-seed
bare_http=$build/bench/ceilings/rounds-bare-http
for tool in "$build/rounds" "$seeder" "$bare_http"; do
  [ -x "$tool" ] || { echo "missing $tool: build the rounds, rounds-bench-seed and rounds-bare-http targets first" >&2; exit 1; }
done
for tool in wrk jq curl; do
  command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 1; }
done
if [ -n "$json_out" ]; then
  json_out=$(cd "$(dirname "$json_out")" && pwd)/$(basename "$json_out")
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/rounds-bench-data.XXXXXX")
server_pid=""
bare_pid=""
cleanup() {
  for pid in "$server_pid" "$bare_pid"; do
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      kill "$pid"
      wait "$pid" 2>/dev/null || true
    fi
  done
  if [ "$keep" = 1 ]; then echo "data folder kept: $work/data"; else rm -rf "$work"; fi
}
trap cleanup EXIT

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# ---- 1. Seed -----------------------------------------------------------------------------------
echo "seeding $messages messages into $work/data ..."
t0=$(now)
"$seeder" --data-dir "$work/data" --manifest "$work/manifest.json" --messages "$messages"
seed_seconds=$(elapsed "$t0")
db_bytes=$(du -cb "$work/data"/rounds.db* | tail -1 | cut -f1)
printf 'seeded in %.1f s, database %d MiB\n' "$seed_seconds" $((db_bytes / 1048576))

# ---- 2. Serve ----------------------------------------------------------------------------------
log="$work/server.log"
# Starts `rounds serve` on the data folder with the environment given ("VAR=value" ...), and sets
# server_pid and base.
start_server() {
  : >"$log"
  env "$@" "$build/rounds" serve --data-dir "$work/data" --port 0 --log-file "$log" >"$work/server.out" 2>&1 &
  server_pid=$!
  port=""
  for _ in $(seq 1 300); do
    port=$(grep -h '"event":"listening"' "$log" 2>/dev/null | tail -1 | jq -r '.port // empty' || true)
    [ -n "$port" ] && break
    kill -0 "$server_pid" 2>/dev/null || { echo "server exited:" >&2; cat "$work/server.out" >&2; exit 1; }
    sleep 0.1
  done
  [ -n "$port" ] || { echo "server did not start listening" >&2; exit 1; }
  base="http://127.0.0.1:$port"
  echo "server pid $server_pid on $base"
}
stop_server() {
  kill "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}
start_server

password=$(jq -r .password "$work/manifest.json")
: >"$work/tokens"
for user in $(jq -r '.users[:32][]' "$work/manifest.json"); do
  jq -n --arg u "$user" --arg p "$password" '{username: $u, password: $p, bearer: true}' |
    curl -sf -H 'content-type: application/json' --data-binary @- "$base/api/v1/auth/login" |
    jq -r .token >>"$work/tokens"
done
echo "$(wc -l <"$work/tokens") users signed in"

# Runs wrk over the paths in $1 with the tokens; writes wrk's JSON summary to $2. $6 is the server
# (default: Rounds).
run_wrk() {
  local paths=$1 out=$2 threads=$3 connections=$4 duration=$5 target=${6:-$base}
  ROUNDS_PATHS=$paths ROUNDS_TOKENS=$work/tokens ROUNDS_WRK_OUT=$out \
    wrk -t"$threads" -c"$connections" -d"${duration}s" --timeout 10s -s "$here/requests.lua" "$target" >"$out.txt"
  jq '. + {rps: (.requests / (.duration_us / 1e6))}' "$out" >"$out.tmp" && mv "$out.tmp" "$out"
}

# Prints one line of figures: LABEL: req/s, latency p50 and p99, failed requests.
report() {
  jq -r --arg name "$1" '"\($name): \(.rps | floor) req/s, latency p50 \(.latency_us.p50 / 1000) ms, p99 \(.latency_us.p99 / 1000) ms, failed \(.errors.status + .errors.timeout + .errors.read + .errors.connect)"' "$2"
}

# A request that must answer 200 before it is measured.
check() {
  local path=$1 filter=$2
  local token
  token=$(head -1 "$work/tokens")
  curl -sf -H "Authorization: Bearer $token" "$base$path" | jq -e "$filter" >/dev/null ||
    { echo "check failed: GET $path" >&2; exit 1; }
}

# ---- 3. History read ---------------------------------------------------------------------------
# Nothing is posted meanwhile, so after the warm-up every read is served from the kept pages
# (app/page_cache.hpp). After the searches (5.) the same reads run again, shorter, on the server
# restarted with no kept pages: every page read from SQLite and rendered, as after every change to
# a space.
history_run() {
  local kind=$1 name=$2 duration=$3 what=$4
  run_wrk "$work/history-$kind.paths" "$work/warm.json" 2 16 3
  run_wrk "$work/history-$kind.paths" "$work/$name.json" 2 32 "$duration"
  if [ "$kind" = phi ]; then label="PHI-bearing spaces, every read audited"; else label="spaces without PHI"; fi
  report "history read, $label, $what (32 clients)" "$work/$name.json"
}
for kind in phi plain; do
  jq -r ".${kind}_spaces[] | \"/api/v1/spaces/\\(.)/messages?limit=50\"" "$work/manifest.json" >"$work/history-$kind.paths"
  check "$(head -1 "$work/history-$kind.paths")" '.items | length == 50'
  history_run "$kind" "history-$kind" "$seconds" "pages kept"
done
# The ceiling: one of those pages, served from memory by a bare HTTP server with nothing behind it,
# on two I/O threads as Rounds runs (`--pool 0`), then handed to a pool and back first as Rounds
# hands every API request to its blocking pool (`--pool 64`). Same paths, tokens and wrk.
curl -sf -H "Authorization: Bearer $(head -1 "$work/tokens")" "$base$(head -1 "$work/history-plain.paths")" >"$work/page.json"
page_bytes=$(wc -c <"$work/page.json")
for pool in 0 64; do
  "$bare_http" --body "$work/page.json" --port 0 --threads 2 --pool "$pool" >"$work/bare-http.out" 2>&1 &
  bare_pid=$!
  bare_base=""
  for _ in $(seq 1 100); do
    bare_base=$(sed -n 's|^rounds-bare-http listening on \(http://[0-9.:]*\)/.*|\1|p' "$work/bare-http.out")
    [ -n "$bare_base" ] && break
    sleep 0.05
  done
  [ -n "$bare_base" ] || { echo "rounds-bare-http did not start:" >&2; cat "$work/bare-http.out" >&2; exit 1; }
  run_wrk "$work/history-plain.paths" "$work/warm.json" 2 16 1 "$bare_base"
  run_wrk "$work/history-plain.paths" "$work/bare-http-pool$pool.json" 2 32 "$seconds" "$bare_base"
  kill -INT "$bare_pid"
  wait "$bare_pid" 2>/dev/null || true
  bare_pid=""
  report "ceiling: the same page ($page_bytes bytes) from a bare HTTP server, pool $pool (32 clients)" "$work/bare-http-pool$pool.json"
done

# ---- 4. Search ---------------------------------------------------------------------------------
search_seconds=$(( seconds / 3 > 3 ? seconds / 3 : 3 ))
classes=$(jq -r '.queries | keys_unsorted[]' "$work/manifest.json")
: >"$work/search-all.paths"
for class in $classes; do
  jq -r ".queries.$class[] | @uri \"/api/v1/search?q=\\(.)&limit=20\"" "$work/manifest.json" >"$work/search-$class.paths"
  cat "$work/search-$class.paths" >>"$work/search-all.paths"
  check "$(head -1 "$work/search-$class.paths")" '.messages | type == "array"'
  run_wrk "$work/search-$class.paths" "$work/warm.json" 1 1 1
  run_wrk "$work/search-$class.paths" "$work/search-$class.json" 1 1 "$search_seconds"
  report "search, $class terms (1 client)" "$work/search-$class.json"
done
run_wrk "$work/search-all.paths" "$work/search-all-1.json" 1 1 "$seconds"
report "search, every kind mixed (1 client)" "$work/search-all-1.json"
run_wrk "$work/search-all.paths" "$work/search-all-8.json" 2 8 "$seconds"
report "search, every kind mixed (8 clients)" "$work/search-all-8.json"

# ---- 5. History read with no pages kept --------------------------------------------------------
# Last, so that the searches run on the server that has been up since the start, as the reads did.
stop_server
start_server ROUNDS_PAGE_CACHE_BYTES=0
unkept_seconds=$(( seconds / 3 > 3 ? seconds / 3 : 3 ))
for kind in phi plain; do
  history_run "$kind" "history-$kind-unkept" "$unkept_seconds" "no pages kept"
done

# ---- Result ------------------------------------------------------------------------------------
if [ -n "$json_out" ]; then
  search_json="{}"
  for class in $classes; do
    search_json=$(jq --arg c "$class" --slurpfile r "$work/search-$class.json" '. + {($c): $r[0]}' <<<"$search_json")
  done
  jq -n \
    --arg build "$build" \
    --argjson messages "$(jq .messages "$work/manifest.json")" \
    --argjson seed_seconds "$seed_seconds" \
    --argjson seeder "$(jq '{seconds, redrawn_after_phi_finding, users: (.users | length), phi_spaces: (.phi_spaces | length), plain_spaces: (.plain_spaces | length)}' "$work/manifest.json")" \
    --argjson db_bytes "$db_bytes" \
    --slurpfile phi "$work/history-phi.json" \
    --slurpfile plain "$work/history-plain.json" \
    --slurpfile phi_unkept "$work/history-phi-unkept.json" \
    --slurpfile plain_unkept "$work/history-plain-unkept.json" \
    --slurpfile bare0 "$work/bare-http-pool0.json" \
    --slurpfile bare64 "$work/bare-http-pool64.json" \
    --argjson page_bytes "$page_bytes" \
    --argjson search "$search_json" \
    --slurpfile mixed1 "$work/search-all-1.json" \
    --slurpfile mixed8 "$work/search-all-8.json" \
    --argjson seconds "$seconds" \
    '{benchmark: "bench/data", messages: $messages,
      seed: {seconds: $seed_seconds, database_bytes: $db_bytes, detail: $seeder},
      history_read: {page: 50, wrk: "-t2 -c32", seconds: $seconds, phi_bearing: $phi[0], not_phi_bearing: $plain[0],
        no_pages_kept: {seconds: '"$unkept_seconds"', phi_bearing: $phi_unkept[0], not_phi_bearing: $plain_unkept[0]},
        ceiling_bare_http: {page_bytes: $page_bytes, io_threads_only: $bare0[0], through_pool_of_64: $bare64[0]}},
      search: {limit: 20, per_kind_one_client: $search, mixed_one_client: $mixed1[0], mixed_eight_clients: $mixed8[0]},
      cores: '"$(nproc)"'}' >"$json_out"
  echo "wrote $json_out"
fi
