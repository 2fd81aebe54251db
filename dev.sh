#!/usr/bin/env bash
# Starts the whole MDM server on this machine for development: installs the system packages
# the build needs when they are missing (Debian/Ubuntu: cmake for pingora's zlib-ng, the OpenSSL
# headers, pkg-config), builds every binary in release mode, then runs `mdmctl dev` with the
# arguments given (e.g. --data-dir, --device-port 0). Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")"

packages=(cmake libssl-dev pkg-config)
if command -v dpkg-query >/dev/null; then
    missing=()
    for p in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if ((${#missing[@]})); then
        sudo=()
        if [ "$(id -u)" -ne 0 ]; then sudo=(sudo); fi
        echo "dev.sh: installing ${missing[*]}"
        "${sudo[@]}" apt-get update -qq
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
else
    echo "dev.sh: not a Debian-based system; the build needs ${packages[*]} (or your system's equivalents)" >&2
fi

cargo build --release --bins
exec "${CARGO_TARGET_DIR:-target}/release/mdmctl" dev "$@"
