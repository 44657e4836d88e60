#!/usr/bin/env bash
# ejabberd as a benchmark peer of Rounds: Debian's package, run from a work directory on
# loopback only, with the contract in README.md (domain bench.local, users u0..u{N-1},
# XMPP over WebSocket at ws://127.0.0.1:5280/xmpp-websocket, room fanout@conference.bench.local,
# every message archived in SQLite).
#
#   ejabberd.sh install | start N | stop | info
#
# Run as root (apt-get, and ejabberdctl switches to the ejabberd user).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=common.sh
source "$here/common.sh"

work="$(peer_workdir ejabberd)"
readonly work
readonly node=bench-ejabberd@localhost
readonly ws_port=5280
readonly lite_schema=/usr/share/ejabberd/sql/lite.sql
# WAL is recorded in the database file, so creating the file in WAL mode is how ejabberd (which
# sets no PRAGMA) gets it; EJABBERD_JOURNAL_MODE=delete keeps SQLite's default rollback journal.
readonly journal_mode="${EJABBERD_JOURNAL_MODE:-wal}"

# As the ejabberd user, switched to here rather than by ejabberdctl: it would switch with su, whose
# PAM session resets the open-file limit to 1,024, and ejabberd then refused every socket past
# about 1,000 ("Failed TCP accept: too many open files"). setpriv keeps the limit cmd_start raised.
ctl() {
  HOME=/var/lib/ejabberd setpriv --reuid=ejabberd --regid=ejabberd --init-groups -- ejabberdctl --config-dir "$work" --config "$work/ejabberd.yml" --ctl-config "$work/ejabberdctl.cfg" \
    --logs "$work/logs" --spool "$work/spool" --node "$node" "$@"
}

is_running() {
  [ -f "$work/ejabberdctl.cfg" ] && ctl status >/dev/null 2>&1
}

write_ctl_config() {
  cat >"$work/ejabberdctl.cfg" <<EOF
# Written by bench/peers/ejabberd.sh.
POLL=true
# One Erlang port per socket: as many as the file descriptor limit allows.
ERL_MAX_PORTS=$(ulimit -Hn)
ERL_PROCESSES=1000000
ERL_MAX_ETS_TABLES=10000
# Erlang distribution (ejabberdctl talks to the node through it) on loopback only.
INET_DIST_INTERFACE=127.0.0.1
ERL_EPMD_ADDRESS=127.0.0.1
EJABBERD_PID_PATH=$work/ejabberd.pid
EJABBERD_BYPASS_WARNINGS=true
EOF
  # ejabberdctl points Erlang's resolver at CONFIG_DIR/inetrc.
  echo '{lookup, [file, native]}.' >"$work/inetrc"
}

write_config() {
  cat >"$work/ejabberd.yml" <<EOF
# Written by bench/peers/ejabberd.sh: a benchmark peer, loopback only, not for production.
hosts:
  - $PEER_DOMAIN
loglevel: warning
hide_sensitive_log_data: true

default_db: sql
sql_type: sqlite
sql_database: "$work/ejabberd.db"
sql_pool_size: 1          # ejabberd warns that sqlite with more than one connection races
new_sql_schema: false     # lite.sql, the schema the start script loads
auth_method: [sql]
auth_password_format: plain
auth_use_cache: true

acl:
  local:
    user_regexp: ""
access_rules:
  local:
    allow: local
  c2s:
    allow: all
  muc_create:
    allow: local
  muc:
    allow: all

# Benchmark: no traffic shaping (the stock config limits c2s to 1000 B/s), no per-user session cap.
shaper: {}
shaper_rules:
  c2s_shaper: none
  s2s_shaper: none
  max_user_sessions: 100000
  max_user_offline_messages: 5000
max_fsm_queue: 1000000

listen:
  -
    port: $ws_port
    ip: "127.0.0.1"
    module: ejabberd_http
    backlog: 4096
    request_handlers:
      /xmpp-websocket: ejabberd_http_ws

modules:
  mod_disco: {}
  mod_roster: {}
  mod_offline: {}
  mod_mam:
    db_type: sql
    default: always                   # archive every 1:1 message of every user
    request_activates_archiving: false
    assume_mam_usage: true
  mod_muc:
    host: "$PEER_MUC"
    db_type: sql
    access: muc
    access_create: muc_create
    access_persistent: muc_create
    max_users: 100000
    max_users_admin_threshold: 100000
    max_user_conferences: 1000
    history_size: 20
    default_room_options:
      persistent: true
      public: true
      mam: true                       # archive every groupchat message
      max_users: 100000
  mod_muc_admin: {}                   # create_room, used once by the start script
EOF
}

# The schema ejabberd would load itself from lite.sql, plus users u0..u{N-1} in one transaction
# (one ejabberdctl register per user costs about a second each).
create_database() {
  local count=$1
  sqlite3 "$work/ejabberd.db" <<EOF >/dev/null
PRAGMA journal_mode=$journal_mode;
.read $lite_schema
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < $count)
INSERT INTO users (username, password) SELECT 'u' || i, '$PEER_PASSWORD' FROM n;
COMMIT;
EOF
}

cmd_install() {
  peer_install ejabberd ejabberd erlang-p1-sqlite3 sqlite3
  # erlang-base enables epmd's units, and the package's scripts start epmd; a later start brings
  # up its own on loopback.
  peer_disable_service epmd.service epmd.socket
  epmd -names 2>/dev/null | grep -q name || epmd -kill >/dev/null 2>&1 || true
}

cmd_start() {
  local count=${1:?usage: ejabberd.sh start N}
  if is_running; then
    echo "ejabberd peer is running already; run: $0 stop" >&2
    return 1
  fi
  peer_require_free_port "$ws_port"
  rm -rf "$work"
  mkdir -p "$work/logs" "$work/spool"
  write_ctl_config
  write_config
  create_database "$count"
  chown -R ejabberd:ejabberd "$work"
  ulimit -n "$(ulimit -Hn)"
  ctl start
  if ! ctl started >/dev/null; then
    echo "ejabberd did not start; see $work/logs/ejabberd.log" >&2
    return 1
  fi
  ctl create_room "$PEER_ROOM" "$PEER_MUC" "$PEER_DOMAIN"
  peer_wait_port "$ws_port" 30
  echo "ejabberd: ws://127.0.0.1:$ws_port/xmpp-websocket, $count users u0..u$((count - 1)), room $PEER_ROOM@$PEER_MUC"
}

cmd_stop() {
  if is_running; then
    ctl stop >/dev/null
    ctl stopped >/dev/null || true
  fi
  epmd -names 2>/dev/null | grep -q name || epmd -kill >/dev/null 2>&1 || true
  echo "ejabberd peer stopped"
}

cmd_info() {
  local db="$work/ejabberd.db" mode="(no database yet: run start)"
  [ -f "$db" ] && mode=$(sqlite3 "$db" "PRAGMA journal_mode")
  echo "server=ejabberd $(dpkg-query -W -f='${Version}' ejabberd 2>/dev/null)"
  echo "storage=sqlite (sql_type sqlite, one connection: sql_pool_size 1) at $db"
  echo "journal_mode=$mode (set when the script creates the file; ejabberd sets no PRAGMA)"
  echo "synchronous=FULL (SQLite's default, 2; ejabberd sets no PRAGMA)"
  echo "commit=one autocommit transaction per archived message, no group commit"
  echo "archive=MAM on (mod_mam default: always, sql) for 1:1; room option mam: true for MUC"
  echo "delivery waits for archive=yes (the room process, and each c2s process for 1:1, stores through the SQL worker before routing)"
  echo "auth=sql, passwords plain; SASL PLAIN over ws:// on loopback"
  echo "limits=shapers none, max_fsm_queue 1000000, max_user_sessions 100000, muc max_users 100000, ERL_MAX_PORTS $(ulimit -Hn)"
}

peer_main "$@"
