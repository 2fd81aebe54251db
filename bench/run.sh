#!/usr/bin/env bash
# The system benchmark: builds release binaries, then starts the whole stack (proxy, enroll-svc,
# command-svc, push-svc and the mock APNs as processes) on a fresh PostgreSQL database
# (127.0.0.1:5432, trust auth; override with MDM_TEST_POSTGRES) and drives it with simulated
# devices. Named scenarios (all by default): enroll N devices; command cycles with N devices,
# closed-loop (`cycle`) and at a fixed rate (`rate`); one command pushed to M devices (`fanout`).
#   bench/run.sh --devices 1000 --commands 5 --fanout 10000 [--concurrency 64] [--rate 640]
#       [--new-connections 1.0] [--resume-tls] [--enroll-by preissued|profile|ota] [--scenarios enroll,cycle]
#       [--signature] [--sqlite] [--json]
# `target/release/mdm-devsim bench` is the same load generator against any running server.
set -euo pipefail
cd "$(dirname "$0")/.."
export MDM_TEST_POSTGRES="${MDM_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/postgres}"
cargo build --release --workspace --bins --examples
# Cargo puts its output in CARGO_TARGET_DIR when that is set.
exec "${CARGO_TARGET_DIR:-target}/release/examples/bench" "$@"
