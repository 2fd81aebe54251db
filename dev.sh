#!/usr/bin/env bash
# Starts the whole MDM server on this machine for development: installs the system packages
# the build needs when they are missing (Debian/Ubuntu: cmake for pingora's zlib-ng, the OpenSSL
# headers, pkg-config), builds every binary in release mode, then runs `mdmctl dev` with the
# arguments given (e.g. --data-dir, --device-port 0). Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")"

scripts/need-packages.sh cmake libssl-dev pkg-config

cargo build --release --bins
exec "${CARGO_TARGET_DIR:-target}/release/mdmctl" dev "$@"
