#!/usr/bin/env bash
# Runs every test, as CI does: installs what the tests need when it is missing (Debian/Ubuntu:
# the build's cmake, OpenSSL headers and pkg-config; the openssl CLI and micromdm's scep client
# that the enrollment tests interoperate with; Chromium, ChromeDriver and npm for the console's
# browser tests, and axe-core from admin-svc/tests/browser/package-lock.json), builds the
# binaries the tests start, then runs the suites with cargo-nextest. Arguments go to nextest
# (e.g. `./test.sh -p admin-svc`). PostgreSQL on 127.0.0.1:5432 with trust auth runs the
# PostgreSQL half; `MDM_TEST_POSTGRES=off` skips it.
set -euo pipefail
cd "$(dirname "$0")"

scripts/need-packages.sh cmake libssl-dev pkg-config openssl scep chromium chromium-driver
# npm may come with a Node.js that is not Debian's: install Debian's only when there is none.
command -v npm >/dev/null || scripts/need-packages.sh npm
if [ ! -f admin-svc/tests/browser/node_modules/axe-core/axe.min.js ]; then
    npm ci --prefix admin-svc/tests/browser --no-audit --no-fund
fi
export MDM_TEST_POSTGRES="${MDM_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/postgres}"
cargo build --workspace --bins --locked
cargo nextest run --workspace --locked --no-fail-fast "$@"
