#!/usr/bin/env bash
# The benchmark suite in one command: installs what is missing, builds, then measures on this
# machine, one after another with the same parameters and the same load generator:
#   1. the physical ceilings (disk sync, SQLite commits, loopback, a bare WebSocket broadcaster for
#      fan-out and 1:1; after Rounds, the same broadcaster syncing every frame before it sends it,
#      at Rounds' half-load rates);
#   2. Rounds (durable: it acknowledges a post only after its commit; PHI scan and audit on):
#      group fan-out, 1:1, idle connections, reconnect storm, history read and search;
#   3. ejabberd and Prosody from Debian (bench/peers/), archiving every message to SQLite:
#      group fan-out, 1:1 and idle connections over XMPP on WebSocket.
# Writes bench/results/latest.{json,md,png} (and keeps the raw runs in bench/results/tmp/); a
# --quick run writes its results to bench/results/tmp/ instead.
# Loopback only. About 20 minutes on a 2-core machine (25 when it installs the peers); --quick is a 3-minute smoke run.
#
# Usage: bench/run.sh [--quick] [--no-peers] [--no-data] [--no-build]   (as root, for apt-get)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
build=${ROUNDS_BUILD_DIR:-$repo/build}
quick=0 peers=1 data=1 do_build=1
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1 ;;
    --no-peers) peers=0 ;;
    --no-data) data=0 ;;
    --no-build) do_build=0 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option: $arg" >&2; exit 2 ;;
  esac
done

# Parameters shared by every server.
members=100          # group fan-out: members of the one space / room
direct_users=1000    # 1:1: online users, in pairs
idle=10000           # idle signed-in connections
rounds_idle=$idle
storm=5000           # reconnect storm (Rounds only: XMPP has no cursor to resume from)
step_seconds=5       # each ramp step
ramp_steps=10        # doubling the offered rate each step, stopping at saturation (at most this many)
ramp_refine=2        # then halving the interval saturation lies in, twice (to within 25%)
half_runs=3          # runs at half of saturation; the median p99 is reported
if [ "$quick" = 1 ]; then
  members=20 direct_users=100 idle=1000 rounds_idle=500 storm=200 step_seconds=3 ramp_steps=3
fi

out=$repo/bench/results
tmp=$out/tmp/run
rm -rf "$tmp"
mkdir -p "$tmp"
runs=$tmp/runs.ndjson
: >"$runs"
# Each stage's header says how long the suite has run, so a run shows where its time goes.
log() { printf '\n== %s (at %dm%02ds)\n' "$*" $((SECONDS / 60)) $((SECONDS % 60)); }

# ---- install and build ---------------------------------------------------------------------------
log "installing what is missing"
need=()
for pkg in gnuplot-nox wrk sqlite3 jq curl; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
if [ "$peers" = 1 ]; then
  "$here/peers/ejabberd.sh" install
  "$here/peers/prosody.sh" install
fi
if [ "$do_build" = 1 ]; then
  log "building (RelWithDebInfo)"
  "$repo/scripts/setup.sh"
  "$repo/scripts/build.sh"
fi
loadgen=$build/bench/loadgen/rounds-loadgen
for bin in "$build/rounds" "$loadgen" "$build/bench/ceilings/rounds-bare-broadcaster"; do
  [ -x "$bin" ] || { echo "missing $bin: build first" >&2; exit 1; }
done
ulimit -n "$(ulimit -Hn)"

# The machine, recorded with the results.
node -e '
const os = require("os");
const cpu = os.cpus();
console.log(JSON.stringify({ kind: "machine", cpu: cpu[0].model, cores: cpu.length,
  memory_gib: Math.round(os.totalmem() / 2 ** 30), kernel: os.release(),
  commit: process.argv[1], date: new Date().toISOString(), quick: process.argv[2] === "1" }));
' "$(git -C "$repo" rev-parse --short HEAD)" "$quick" >>"$runs"

# Runs the load generator; its JSON lines go to the runs file with a label. A step past saturation
# ends with a backlog: verification waits up to 20 s for it to drain, so that what it reports
# missing was lost, not late (a step below saturation drains within milliseconds).
lg() {
  local label=$1
  shift
  "$loadgen" --label "$label" --json "$runs" --drain-seconds 20 "$@" || echo "rounds-loadgen: $label failed (status $?)" >&2
}

# The offered rate at half of a ramp's saturation: half the messages/s of the last step the load
# generator did not flag as saturated (or of the first step when every step was). Empty when the
# ramp produced no step at all; the half run is skipped then.
half_rate() {
  node -e '
const [file, label] = process.argv.slice(1);
const steps = require("fs").readFileSync(file, "utf8").trim().split("\n").map(JSON.parse).filter((r) => r.label === label);
if (steps.length === 0) process.exit(0);
const fine = steps.filter((s) => !s.saturated);
const best = fine.length ? fine[fine.length - 1] : steps[0];
console.log(Math.max(1, Math.round(best.messages_per_s / 2)));
' "$runs" "$1"
}

# A half-load point is run three times at one rate, one connection set-up (a "ramp" whose factor is
# 1; it stops early if a run falls behind): its p99 is one slow moment in a few thousand, and it
# varied several-fold between identical single runs. The report takes the median run.
half_repeats=(--ramp --ramp-steps "$half_runs" --ramp-factor 1 --ramp-refine 0)

# fan-out ramp, its half-load point, 1:1 ramp, its half-load point
scenarios() {
  local server=$1 start_fanout=$2 start_direct=$3
  shift 3
  lg "$server fanout ramp" "$@" --scenario fanout --members "$members" --rate "$start_fanout" \
     --seconds "$step_seconds" --ramp --ramp-steps "$ramp_steps" --ramp-refine "$ramp_refine"
  local half
  half=$(half_rate "$server fanout ramp")
  [ -n "$half" ] && lg "$server fanout half" "$@" --scenario fanout --members "$members" --rate "$half" \
     --seconds $((step_seconds * 2)) "${half_repeats[@]}"
  lg "$server direct ramp" "$@" --scenario direct --users "$direct_users" --rate "$start_direct" \
     --seconds "$step_seconds" --ramp --ramp-steps "$ramp_steps" --ramp-refine "$ramp_refine"
  half=$(half_rate "$server direct ramp")
  [ -n "$half" ] && lg "$server direct half" "$@" --scenario direct --users "$direct_users" --rate "$half" \
     --seconds $((step_seconds * 2)) "${half_repeats[@]}"
  return 0
}

# ---- ceilings --------------------------------------------------------------------------------------
log "ceilings"
for c in fsync sqlite loopback; do
  dir_flag=(--dir "$tmp")  # the disk Rounds' database is on
  [ "$c" = loopback ] && dir_flag=()
  "$build/bench/ceilings/rounds-ceiling-$c" "${dir_flag[@]}" --seconds 3 | tee "$tmp/ceiling-$c.txt"
  tail -n 1 "$tmp/ceiling-$c.txt" | jq -c --arg c "$c" '{kind: "ceiling", ceiling: $c} + .' >>"$runs"
done
# Starts the bare broadcaster with the flags given, logging to $1; sets bare_pid and bare (the load
# generator's flags for it) once it listens.
start_bare() {
  local log=$1
  shift
  "$build/bench/ceilings/rounds-bare-broadcaster" --port 9300 --threads 1 "$@" >"$log" 2>&1 &
  bare_pid=$!
  for _ in $(seq 100); do grep -q listening "$log" && break; sleep 0.1; done
  bare=(--adapter bare --url ws://127.0.0.1:9300/ --server-pid "$bare_pid")
}
# The bare broadcaster: what the same generator and sockets move with no server work at all, one
# room of members for fan-out and a room per pair for 1:1.
start_bare "$tmp/bare.log"
lg "bare fanout ramp" "${bare[@]}" --scenario fanout --members "$members" --rate 100 --seconds "$step_seconds" \
   --ramp --ramp-steps $((ramp_steps + 2)) --ramp-refine "$ramp_refine"
lg "bare direct ramp" "${bare[@]}" --scenario direct --users "$direct_users" --rate 1000 --seconds "$step_seconds" \
   --ramp --ramp-steps "$ramp_steps" --ramp-refine "$ramp_refine"
kill "$bare_pid"; wait "$bare_pid" 2>/dev/null || true

# ---- Rounds ------------------------------------------------------------------------------------------
log "Rounds"
rdata=$tmp/rounds-data
mkdir -p "$rdata"
admin_password=load-generator-root-2026
# Made plain so that the users below can be written with the sqlite3 tool, then encrypted at rest as
# a server creates its database.
printf '%s\n' "$admin_password" | ROUNDS_DATABASE_ENCRYPTION=false "$build/rounds" admin user add --data-dir "$rdata" \
  --username admin --display-name "Bench Admin" --admin --password-stdin >"$tmp/admin.log" 2>&1 || { cat "$tmp/admin.log" >&2; exit 1; }
# Users with a minimum-cost password hash, so that thousands sign in quickly.
"$loadgen" seed-sql --users $((direct_users > rounds_idle ? direct_users : rounds_idle)) --password bench-password | sqlite3 "$rdata/rounds.db"
"$build/rounds" admin database encrypt --data-dir "$rdata" >>"$tmp/admin.log" 2>&1 || { cat "$tmp/admin.log" >&2; exit 1; }
start_rounds() {
  : >"$tmp/rounds.log"
  "$build/rounds" serve --data-dir "$rdata" --port 0 --log-file "$tmp/rounds.log" >"$tmp/rounds.out" 2>&1 &
  rounds_pid=$!
  trap 'kill $rounds_pid 2>/dev/null || true' EXIT
  port=""
  for _ in $(seq 100); do
    port=$(grep -o '"event":"listening"[^}]*"port":[0-9]*' "$tmp/rounds.log" 2>/dev/null | tail -1 | grep -o '[0-9]*$' || true)
    [ -n "$port" ] && break
    sleep 0.2
  done
  [ -n "$port" ] || { echo "rounds did not start" >&2; cat "$tmp/rounds.out" >&2; exit 1; }
  rounds=(--adapter rounds --url "http://127.0.0.1:$port" --admin-password "$admin_password" --server-pid "$rounds_pid")
}
start_rounds
scenarios rounds 50 50 "${rounds[@]}"
kill "$rounds_pid"; wait "$rounds_pid" 2>/dev/null || true

# The durable ceiling at Rounds' own half-load rates: the bare broadcaster syncing every frame to
# the same disk before it sends it (group commit), and nothing else. Its p99 is what the disk's
# syncs alone cost a durable server at that rate.
start_bare "$tmp/bare-durable.log" --durable "$tmp"
half=$(half_rate "rounds fanout ramp")
[ -n "$half" ] && lg "bare-durable fanout half" "${bare[@]}" --scenario fanout --members "$members" --rate "$half" \
   --seconds $((step_seconds * 2)) "${half_repeats[@]}"
half=$(half_rate "rounds direct ramp")
[ -n "$half" ] && lg "bare-durable direct half" "${bare[@]}" --scenario direct --users "$direct_users" --rate "$half" \
   --seconds $((step_seconds * 2)) "${half_repeats[@]}"
kill "$bare_pid"; wait "$bare_pid" 2>/dev/null || true

# Idle memory is measured on a fresh process, for every server: one that ran the ramps has freed
# heap to reuse, and the sockets' own cost would hide in it.
start_rounds
lg "rounds idle" "${rounds[@]}" --scenario idle --connections "$rounds_idle" --connect-rate 200
lg "rounds reconnect" "${rounds[@]}" --scenario reconnect --clients "$storm" --rate 200 --seconds 10
kill "$rounds_pid"; wait "$rounds_pid" 2>/dev/null || true
trap - EXIT

if [ "$data" = 1 ]; then
  log "Rounds: history read and search"
  messages=1000000 seconds=15
  [ "$quick" = 1 ] && messages=50000 seconds=5
  "$here/data/run.sh" "$build" --messages "$messages" --seconds "$seconds" --json "$tmp/data.json"
  jq -c '{kind: "data"} + .' "$tmp/data.json" >>"$runs"
fi

# ---- peers ---------------------------------------------------------------------------------------------
if [ "$peers" = 1 ]; then
  for peer in ejabberd prosody; do
    log "$peer"
    ws_port=5280
    [ "$peer" = prosody ] && ws_port=5290
    "$here/peers/$peer.sh" stop >/dev/null 2>&1 || true
    "$here/peers/$peer.sh" start "$idle"
    "$here/peers/$peer.sh" info | jq -R -c --arg p "$peer" '{kind: "peer_setting", peer: $p, setting: .}' >>"$runs"
    pid=$(cat "$out/tmp/peers/$peer/$peer.pid" 2>/dev/null || pgrep -f "beam.*ejabberd" | head -1)
    # Paced connects: the peers sign in through their one SQL connection, behind whatever archive
    # backlog the previous ramp left.
    xmpp=(--adapter xmpp --url "ws://127.0.0.1:$ws_port/xmpp-websocket" --server-pid "$pid" --connect-rate 200)
    scenarios "$peer" 10 10 "${xmpp[@]}"
    "$here/peers/$peer.sh" stop
    "$here/peers/$peer.sh" start "$idle"
    pid=$(cat "$out/tmp/peers/$peer/$peer.pid" 2>/dev/null || pgrep -f "beam.*ejabberd" | head -1)
    xmpp=(--adapter xmpp --url "ws://127.0.0.1:$ws_port/xmpp-websocket" --server-pid "$pid" --connect-rate 200)
    lg "$peer idle" "${xmpp[@]}" --scenario idle --connections "$idle"
    "$here/peers/$peer.sh" stop
  done
fi

# ---- report ------------------------------------------------------------------------------------------
log "report"
# A quick run's figures are not comparable: they go beside the raw runs, and the committed
# results of the last full run stay as they are.
report_dir=$out
[ "$quick" = 1 ] && report_dir=$out/tmp
node "$here/report.mjs" "$runs" "$report_dir"
# The results name files relative to the repository, never this machine's folders.
sed -i "s|$repo/||g" "$report_dir/latest.md" "$report_dir/latest.json"
echo "results: $report_dir/latest.md, $report_dir/latest.json, $report_dir/latest.png"
printf 'suite: %dm%02ds\n' $((SECONDS / 60)) $((SECONDS % 60))
