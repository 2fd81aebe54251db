#!/usr/bin/env bash
# The system benchmark: builds release binaries, then starts the whole stack on a fresh
# PostgreSQL database (127.0.0.1:5432, trust auth; override with MDM_TEST_POSTGRES) and drives it
# with simulated devices. Scenarios: enroll N devices; command cycles with N devices; one command
# pushed to M devices. Extra flags go to the benchmark, e.g.
#   bench/run.sh --devices 1000 --commands 5 --fanout 10000 [--signature] [--sqlite] [--json]
# The queue and push benchmarks of single services are in README.md as well.
set -euo pipefail
cd "$(dirname "$0")/.."
export MDM_TEST_POSTGRES="${MDM_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/postgres}"
cargo build --release --workspace --bins --examples
exec target/release/examples/bench "$@"
