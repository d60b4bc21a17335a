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
# The bounded chaos run (`make chaos` is the whole suite): two faults at once on one stack, a
# small load.
chaos=0
if [[ ${CHAOS:-1} != 0 ]]; then
  CHAOS_PREBUILT=1 CHAOS_FAULTS=${CHAOS_FAULTS:-duplicate+kill} CHAOS_USERS=${CHAOS_USERS:-6} \
    CHAOS_RUN_TIME=${CHAOS_RUN_TIME:-10} scripts/chaos.sh || chaos=$?
fi
cargo test --workspace "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
if [[ $contract != 0 ]]; then
  echo "contract run failed (see target/contract/)" >&2
  status=$contract
fi
if [[ $chaos != 0 ]]; then
  echo "chaos run failed (see target/chaos/)" >&2
  status=$chaos
fi
totals=$(grep -E '^test result:' "$log" | awk '{p += $4; f += $6} END {printf "%d passed, %d failed", p, f}')
echo
echo "tests: $totals"
exit "$status"
