#!/usr/bin/env bash
# Prosody as a benchmark peer of Rounds: Debian's package, run from a work directory on loopback
# only, with the contract in README.md (domain bench.local, users u0..u{N-1}, XMPP over WebSocket
# at ws://127.0.0.1:5290/xmpp-websocket, room fanout@conference.bench.local, every message
# archived in SQLite).
#
#   prosody.sh install | start N | stop | info
#
# Run as root (apt-get, and the server is started as the prosody user).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=common.sh
source "$here/common.sh"

work="$(peer_workdir prosody)"
readonly work
readonly http_port=5290
readonly database="$work/prosody.sqlite"
# WAL is recorded in the database file, so creating the file in WAL mode is how Prosody (which
# sets no PRAGMA) gets it; PROSODY_JOURNAL_MODE=delete keeps SQLite's default rollback journal.
readonly journal_mode="${PROSODY_JOURNAL_MODE:-wal}"

is_running() {
  [ -f "$work/prosody.pid" ] && kill -0 "$(cat "$work/prosody.pid")" 2>/dev/null
}

write_config() {
  cat >"$work/prosody.cfg.lua" <<EOF
-- Written by bench/peers/prosody.sh: a benchmark peer, loopback only, not for production.
data_path = "$work/data"
log = { { levels = { min = "warn" }, to = "file", filename = "$work/prosody.log" } }
network_backend = "epoll"

-- No mod_limits (no c2s rate limits), no s2s, no TLS: WebSocket on loopback only.
modules_enabled = { "roster", "saslauth", "disco", "ping", "mam", "websocket" }
modules_disabled = { "s2s", "tls" }
interfaces = { "127.0.0.1" }
c2s_ports = { }
s2s_ports = { }
component_ports = { }
http_ports = { $http_port }
http_interfaces = { "127.0.0.1" }
https_ports = { }
http_default_host = "$PEER_DOMAIN"
consider_websocket_secure = true
cross_domain_websocket = true
c2s_require_encryption = false
allow_unencrypted_plain_auth = true
authentication = "internal_plain"

storage = "sql"
sql = { driver = "SQLite3", database = "$database" }
default_archive_policy = true     -- archive every 1:1 message of every user
archive_expires_after = "never"
max_history_messages = 20

VirtualHost "$PEER_DOMAIN"

Component "$PEER_MUC" "muc"
  modules_enabled = { "muc_mam" }
  restrict_room_creation = false
  muc_room_locking = false          -- a room created by a join is usable at once
  muc_room_default_persistent = true
  muc_room_default_public = true
  muc_log_all_rooms = true          -- archive every groupchat message
  muc_log_by_default = true
  muc_log_expires_after = "never"
EOF
}

# Users u0..u{N-1}: prosodyctl registers u0, which also makes Prosody create its tables; the
# others are copies of u0's rows under their own names, in one transaction (one prosodyctl call
# per user costs about a second each).
add_users() {
  local count=$1
  as_prosody prosodyctl --config "$work/prosody.cfg.lua" register u0 "$PEER_DOMAIN" "$PEER_PASSWORD"
  as_prosody sqlite3 -cmd ".timeout 10000" "$database" <<EOF >/dev/null
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < $count)
INSERT INTO prosody (host, user, store, key, type, value)
  SELECT p.host, 'u' || n.i, p.store, p.key, p.type, p.value FROM n, prosody AS p
  WHERE p.host = '$PEER_DOMAIN' AND p.user = 'u0';
COMMIT;
EOF
}

# Runs a command as the prosody user; setpriv execs it (no child process in between).
as_prosody() {
  setpriv --reuid=prosody --regid=prosody --init-groups "$@"
}

cmd_install() {
  peer_install prosody prosody lua-dbi-sqlite3 sqlite3
}

cmd_start() {
  local count=${1:?usage: prosody.sh start N}
  if is_running; then
    echo "prosody peer is running already; run: $0 stop" >&2
    return 1
  fi
  peer_require_free_port "$http_port"
  rm -rf "$work"
  mkdir -p "$work/data" "$work/certs"
  write_config
  chown -R prosody:prosody "$work"
  as_prosody sqlite3 "$database" "PRAGMA journal_mode=$journal_mode" >/dev/null
  add_users "$count" >>"$work/prosody.out" 2>&1
  ulimit -n "$(ulimit -Hn)"
  # Not through as_prosody: a function in the background runs in a subshell, and $! must be the
  # server itself (setpriv execs it).
  setpriv --reuid=prosody --regid=prosody --init-groups \
    prosody -F --config "$work/prosody.cfg.lua" </dev/null >>"$work/prosody.out" 2>&1 &
  echo $! >"$work/prosody.pid"
  if ! peer_wait_port "$http_port" 30; then
    echo "prosody did not start; see $work/prosody.out and $work/prosody.log" >&2
    return 1
  fi
  echo "prosody: ws://127.0.0.1:$http_port/xmpp-websocket, $count users u0..u$((count - 1)), room $PEER_ROOM@$PEER_MUC (created by the first join)"
}

cmd_stop() {
  if is_running; then
    local pid i
    pid=$(cat "$work/prosody.pid")
    kill -TERM "$pid"
    for ((i = 0; i < 100; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  fi
  rm -f "$work/prosody.pid"
  echo "prosody peer stopped"
}

cmd_info() {
  local mode="(no database yet: run start)"
  [ -f "$database" ] && mode=$(sqlite3 "$database" "PRAGMA journal_mode")
  echo "server=prosody $(dpkg-query -W -f='${Version}' prosody 2>/dev/null), network_backend epoll"
  echo "storage=sqlite (storage sql, driver SQLite3 via lua-dbi-sqlite3) at $database"
  echo "journal_mode=$mode (set when the script creates the file; Prosody sets no PRAGMA)"
  echo "synchronous=FULL (SQLite's default, 2; Prosody sets no PRAGMA)"
  echo "commit=one transaction per archived message, no group commit; the server is single-threaded and waits for each"
  echo "archive=MAM on (mod_mam default_archive_policy true) for 1:1; mod_muc_mam muc_log_all_rooms for MUC"
  echo "delivery waits for archive=yes (muc-add-history stores before the room broadcasts; 1:1 stored in the routing path)"
  echo "auth=internal_plain in sql; SASL PLAIN over ws:// on loopback (consider_websocket_secure)"
  echo "limits=mod_limits not loaded (no c2s rate limits), no MUC occupant cap, c2s_stanza_size_limit default 256 KiB"
}

peer_main "$@"
