#!/usr/bin/env bash
# `make coverage`: line coverage of every test, and of the workspace's own binaries as the tests
# run them (devstack serving the functions, the demo and load clients against it), built
# instrumented in a target dir of their own (target/llvm-cov-target: the ordinary build stays as
# it is). The table per crate goes to stdout and target/coverage/; the run fails under
# COVERAGE_FLOOR (90) % of lines in all.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.tools/bin:$PATH"
# Clippy has its say in `make test`; here rustc builds instrumented code.
unset RUSTC_WORKSPACE_WRAPPER CLIPPY_ARGS
export CARGO_TARGET_DIR="$PWD/target/llvm-cov-target"
eval "$(cargo llvm-cov show-env --sh 2>/dev/null)"
cargo llvm-cov clean --workspace
cargo build --workspace --all-targets --quiet
cargo test --workspace --quiet
out=target/coverage
mkdir -p "$out"
cargo llvm-cov report --summary-only >"$out/files.txt"
cargo llvm-cov report --json --summary-only --output-path "$out/coverage.json"
python3 scripts/coverage.py "$out/coverage.json" "${COVERAGE_FLOOR:-90}" | tee "$out/crates.txt"
