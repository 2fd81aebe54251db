#!/usr/bin/env bash
# Installs the Debian packages named as arguments that are not installed yet (with sudo when not
# root). On a system without dpkg it only says what the caller needs. Shared by dev.sh, test.sh
# and CI so that each names its packages and none repeats how to install them.
set -euo pipefail
if ! command -v dpkg-query >/dev/null; then
    echo "not a Debian-based system: install $* (or your system's equivalents)" >&2
    exit 0
fi
missing=()
for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
((${#missing[@]})) || exit 0
sudo=()
if [ "$(id -u)" -ne 0 ]; then sudo=(sudo); fi
echo "installing ${missing[*]}"
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
