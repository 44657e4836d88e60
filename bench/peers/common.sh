# Shared by ejabberd.sh and prosody.sh: installing a Debian package without leaving its
# service running, and the users and work directory the load generator expects.
# Sourced, not run.
# shellcheck shell=bash

# shellcheck disable=SC2034  # used by the scripts that source this file
PEER_DOMAIN=bench.local
PEER_MUC=conference.bench.local
PEER_ROOM=fanout
PEER_PASSWORD=bench-password

# Work directories are under bench/results/tmp/, which git ignores; some peers drop privileges
# to their own system user, so the directory is made readable and writable by that user.
peer_workdir() {
  local name=$1
  echo "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/results/tmp/peers/$name"
}

peer_is_installed() {
  local pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || return 1
  done
}

# Installs the packages if any is missing. A policy-rc.d that refuses every start (exit 101) keeps
# the package's maintainer scripts from starting the system service; the one Docker images ship is
# kept, otherwise a temporary one is put in place for the install only.
peer_install() {
  local service=$1
  shift
  if peer_is_installed "$@"; then
    echo "installed already: $*"
  else
    local guard=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
      chmod 755 /usr/sbin/policy-rc.d
      guard=/usr/sbin/policy-rc.d
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      -o DPkg::Lock::Timeout=600 "$@"
    local rc=$?
    [ -n "$guard" ] && rm -f "$guard"
    [ $rc -eq 0 ] || return $rc
  fi
  peer_disable_service "$service"
}

# The benchmark starts its own instance on loopback; the system one must neither hold the ports
# now nor start at the next boot. `systemctl disable` edits unit links even where systemd is not
# running (containers); `--now` also stops the unit where it is.
peer_disable_service() {
  local unit
  for unit in "$@"; do
    if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
      systemctl disable --now "$unit" >/dev/null 2>&1 || true
      continue
    fi
    command -v systemctl >/dev/null && { systemctl disable "$unit" >/dev/null 2>&1 || true; }
    if [ -x "/etc/init.d/$unit" ]; then
      "/etc/init.d/$unit" stop >/dev/null 2>&1 || true
      update-rc.d "$unit" disable >/dev/null 2>&1 || true
    fi
  done
}

# Fails if something listens on 127.0.0.1:PORT already (a peer left running, or another server):
# waiting for the port would otherwise succeed against the wrong process.
peer_require_free_port() {
  local port=$1
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "127.0.0.1:$port is in use already" >&2
    return 1
  fi
}

# Waits until something listens on 127.0.0.1:PORT, up to SECONDS.
peer_wait_port() {
  local port=$1 seconds=${2:-30} i
  for ((i = 0; i < seconds * 10; i++)); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "nothing listens on 127.0.0.1:$port after ${seconds}s" >&2
  return 1
}

# The command line both scripts share: each defines cmd_install, cmd_start N, cmd_stop, cmd_info.
peer_main() {
  case "${1:-}" in
    install) cmd_install ;;
    start) cmd_start "${2:-}" ;;
    stop) cmd_stop ;;
    info) cmd_info ;;
    *)
      echo "usage: $0 install | start N | stop | info" >&2
      exit 2
      ;;
  esac
}
