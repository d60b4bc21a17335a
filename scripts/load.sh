#!/usr/bin/env bash
# `make load`: one load scenario against API_URL (a deployed API), or against the local stack,
# which it starts for the run and stops afterwards unless it was up already. Arguments after the
# scenario go to the load generator (`target/debug/load --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
scenario=${1:-mixed}
shift || true
started=
if [[ -z ${API_URL:-} && ! -f .devstack/env ]]; then
  scripts/stack.sh up
  started=1
fi
trap '[[ -z $started ]] || scripts/stack.sh down >/dev/null' EXIT
target/debug/load "$scenario" "$@"
