#!/usr/bin/env bash
# Installs exactly what Rounds needs that this Debian 12 machine is missing, and any further
# Debian packages named as arguments (scripts/fuzz.sh asks for clang).
# Idempotent and quiet when everything is already there. Uses sudo when not root.
set -euo pipefail

packages=(
  build-essential cmake pkg-config ccache git
  libboost1.81-dev libsqlite3-dev sqlite3 libsodium-dev nlohmann-json3-dev
  libcli11-dev libexpected-dev libtomlplusplus-dev libhyperscan-dev libgtest-dev libgmock-dev
  libbenchmark-dev libssl-dev zlib1g-dev unzip openssl
  nodejs npm chromium wrk curl
  clamav-daemon
  "$@"
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    # A package may be satisfied by a newer build already on the machine (node from another source).
    case "$p" in
      nodejs|npm) command -v "${p/nodejs/node}" >/dev/null 2>&1 && continue ;;
    esac
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 "${missing[@]}" >/dev/null
  # The tests start clamd themselves, with a signature database of their own. The system's own
  # daemon and its signature updater, installed here just now, stay off: they would fetch
  # signatures from the network. A server that scans uploads runs its organization's clamd.
  if [[ " ${missing[*]} " == *" clamav-daemon "* ]] && command -v systemctl >/dev/null 2>&1 &&
     [ -d /run/systemd/system ]; then
    $sudo systemctl disable --now clamav-daemon.socket clamav-daemon clamav-freshclam >/dev/null 2>&1 || true
  fi
fi
