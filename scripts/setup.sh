#!/usr/bin/env bash
# Installs exactly what Rounds needs that this Debian 12 machine is missing, and any further
# Debian packages named as arguments (scripts/fuzz.sh asks for clang).
# Idempotent and quiet when everything is already there. Uses sudo when not root.
set -euo pipefail

packages=(
  build-essential cmake pkg-config ccache git
  libboost1.81-dev libsqlite3-dev sqlite3 libsodium-dev nlohmann-json3-dev
  libcli11-dev libexpected-dev libtomlplusplus-dev libhyperscan-dev libgtest-dev libgmock-dev
  libbenchmark-dev libssl-dev
  nodejs npm chromium wrk curl
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
fi
