#!/usr/bin/env bash
# Runs the workspace's tests and ends with one plain total line: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# The binaries first: the local-stack test runs `devstack serve`, which runs the functions.
# Built together with the tests, so that they are built once, with the features the tests
# unify (dev-dependencies included); `cargo test` below then finds everything up to date.
cargo build --workspace --all-targets --quiet
# The bounded contract run (`make contract` is the long one): a fixed seed, so that a red run
# repeats; it starts and stops its own local stack, before the tests start theirs.
contract=0
if [[ ${CONTRACT:-1} != 0 ]]; then
  CONTRACT_PREBUILT=1 CONTRACT_EXAMPLES=${CONTRACT_EXAMPLES:-10} CONTRACT_SEED=${CONTRACT_SEED:-1} \
    scripts/contract.sh || contract=$?
fi
cargo test --workspace "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
if [[ $contract != 0 ]]; then
  echo "contract run failed (see target/contract/)" >&2
  status=$contract
fi
totals=$(grep -E '^test result:' "$log" | awk '{p += $4; f += $6} END {printf "%d passed, %d failed", p, f}')
echo
echo "tests: $totals"
exit "$status"
