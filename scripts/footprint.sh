#!/usr/bin/env bash
# `make footprint`: every function's release binary started as Lambda starts it and fed its
# sample event 1000 times against the local stack (started for the run unless it is up, and
# seeded); cold start, resident memory and zip size per function. Arguments go to
# `measure footprint` (the number of invocations).
set -euo pipefail
cd "$(dirname "$0")/.."
started=
if [[ ! -f .devstack/env ]]; then
  scripts/stack.sh up
  started=1
fi
trap '[[ -z $started ]] || scripts/stack.sh down >/dev/null' EXIT
target/debug/devstack seed >/dev/null
target/debug/measure footprint "$@"
