#!/usr/bin/env bash
# `make contract`: schemathesis against docs/openapi.json (every operation; server errors,
# status codes, content types and response schemas checked), then the hostile-input probes of
# scripts/contract/hostile.py. Against API_URL, or the local stack, which it starts for the run
# and stops afterwards unless it was up already. Reports in target/contract/.
#   CONTRACT_EXAMPLES   test cases per operation and phase (default 100)
#   CONTRACT_SEED       a seed to repeat a run (default: a new one each run, printed)
#   CONTRACT_PREBUILT=1 the caller has just built the binaries (skips the stack's own build)
set -euo pipefail
cd "$(dirname "$0")/.."
out=target/contract
mkdir -p "$out"
started=
if [[ -z ${API_URL:-} && ! -f .devstack/env ]]; then
  DEVSTACK_PREBUILT=${CONTRACT_PREBUILT:-} scripts/stack.sh up >/dev/null
  started=1
fi
trap '[[ -z $started ]] || scripts/stack.sh down >/dev/null' EXIT
api=${API_URL:-$(sed -n 's/^API_URL=//p' .devstack/env)}
# On the local stack every request authenticates as its route's scheme says, with the stack's own
# credentials (scripts/contract/local_auth.py); against API_URL the run sends what it is given.
local=()
if [[ -z ${API_URL:-} ]]; then
  export SCHEMATHESIS_HOOKS=scripts.contract.hooks PYTHONPATH=$PWD
  local=(--local)
fi

seed=()
[[ -z ${CONTRACT_SEED:-} ]] || seed=(--seed "$CONTRACT_SEED")
status=0
.venv/bin/st run docs/openapi.json --url "$api" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --max-examples "${CONTRACT_EXAMPLES:-100}" "${seed[@]}" \
  --workers 2 --request-timeout 30 --output-truncate true \
  --report junit --report-junit-path "$out/schemathesis.xml" \
  >"$out/schemathesis.txt" 2>&1 || status=$?
# The run's own summary: operations, test cases, failures, the seed to repeat it.
sed -n '/^=* SUMMARY =*$/,$p' "$out/schemathesis.txt"
if [[ $status != 0 ]]; then
  sed -n '/^=* FAILURES =*$/,/^=* SUMMARY/p' "$out/schemathesis.txt" | head -n 200
  echo "contract: schemathesis failed; the whole output is in $out/schemathesis.txt" >&2
fi
.venv/bin/python scripts/contract/hostile.py "$api" "${local[@]}" --report "$out/hostile.json" || status=1
exit "$status"
