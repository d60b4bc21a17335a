#!/usr/bin/env bash
# `make load`: one load scenario against API_URL (a deployed API), or against the local stack,
# which it starts for the run and stops afterwards unless it was up already. Arguments after the
# scenario go to the load generator (`target/debug/load --help`). On the local stack, the
# emulators' and the function path's own ceilings are measured after the run
# (`measure ceilings`, LOAD_CEILINGS=0 to skip), so that the run can be read against them.
set -euo pipefail
cd "$(dirname "$0")/.."
scenario=${1:-mixed}
shift || true
started=
if [[ -z ${API_URL:-} && ! -f .devstack/env ]]; then
  # With the settings the scenarios ask of the stack, unless the caller gives them.
  scripts/stack.sh up $(target/debug/load "$scenario" --stack-settings)
  started=1
fi
trap '[[ -z $started ]] || scripts/stack.sh down >/dev/null' EXIT
status=0
target/debug/load "$scenario" "$@" || status=$?
if [[ -z ${API_URL:-} && ${LOAD_CEILINGS:-1} != 0 ]]; then
  target/debug/measure ceilings "${LOAD_CEILING_CLIENTS:-500}" "${LOAD_CEILING_SECS:-10}"
fi
exit "$status"
