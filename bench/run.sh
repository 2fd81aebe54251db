#!/usr/bin/env bash
# The system benchmark: builds release binaries, then starts the whole stack (proxy, enroll-svc,
# command-svc, push-svc, admin-svc and the mock APNs as processes) on fresh PostgreSQL databases
# (127.0.0.1:5432, trust auth; override with MDM_TEST_POSTGRES) and drives it with simulated
# devices. Named scenarios (all by default): enroll N devices; command cycles with N devices,
# closed-loop (`cycle`) and at a fixed rate (`rate`); a declaration set to the N devices until each
# reports it active (`ddm`); one command pushed to M devices (`fanout`);
# the web console's requests against the N devices, one at a time (`console`).
# Each scenario reports latency per message type, CPU per process (cores, and milliseconds per
# device request) and PostgreSQL transactions per device request; docs/benchmarks.md explains
# every flag and figure, and how to profile a run.
#   bench/run.sh --devices 1000 --commands 5 --fanout 10000 [--concurrency 64] [--rate 640]
#       [--new-connections 1.0] [--resume-tls] [--enroll-by preissued|profile|ota] [--scenarios enroll,cycle]
#       [--history 1000] [--no-outbox] [--signature] [--sqlite] [--json]
# --history N gives every device N past commands (written straight into command-svc's
# database) before `cycle` and `rate`: the cycle should cost the same with a long history.
# --no-outbox: command-svc records no command events, the baseline of what the outbox costs.
# `target/release/mdm-devsim bench` is the same load generator against any running server.
set -euo pipefail
cd "$(dirname "$0")/.."
export MDM_TEST_POSTGRES="${MDM_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/postgres}"
cargo build --release --workspace --bins --examples
# Cargo puts its output in CARGO_TARGET_DIR when that is set.
exec "${CARGO_TARGET_DIR:-target}/release/examples/bench" "$@"
