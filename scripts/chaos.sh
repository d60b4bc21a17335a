#!/usr/bin/env bash
# `make chaos`: the mixed load scenario (every flow's load scenario together) once per
# fault, each on a local stack of its own, then the load's invariants (every accepted item done,
# once, in its client's order; notifications and nudges exact; stock never oversold; analytics
# and stats counted once) and the dead-letter queues (no accepted work in them). A table of fault
# × invariant with counts is printed and written to target/chaos/table.md.
#
#   CHAOS_FAULTS      which faults (default: all of those below)
#   CHAOS_USERS       load clients per run (default 20)
#   CHAOS_RUN_TIME    seconds of load per run (default 30)
#   CHAOS_SETTLE      seconds accepted work may take to be done afterwards (default 300)
#
# Faults (FAULT+FAULT: several in one run, on one stack): baseline (none), duplicate (every SQS and stream batch delivered twice, at once),
# kill (2 % of consumer invocations lose an instance mid-batch, the relay between publishing
# and checkpointing included), dynamodb (20 % of transactions cancelled, 5 % of calls throttled,
# 2 % answered 500 and 2 % done but answered 500 as if the answer was lost, through the fault
# proxy), notify (the notification service answers 20 % with
# 503 and holds 5 % past the client's timeout after taking them), deploy (every consumer's
# instances restarted every 10 s, as a deploy does, until the invariants are checked).
set -euo pipefail
cd "$(dirname "$0")/.."
faults=${CHAOS_FAULTS:-baseline duplicate kill dynamodb notify deploy}
users=${CHAOS_USERS:-20}
run_time=${CHAOS_RUN_TIME:-30}
settle=${CHAOS_SETTLE:-300}
out=target/chaos
mkdir -p "$out"
# The consumers' binaries (every function of topology.json but the API's), which a deploy restarts.
mapfile -t consumers < <(python3 -c 'import json; print("\n".join("target/debug/" + f["name"] for f in json.load(open("infrastructure/topology.json"))["functions"] if f["name"] != "api-handler"))')
if [[ -f .devstack/env ]]; then
  echo "chaos: the local stack is up; each run starts its own, so stop it first (make down)" >&2
  exit 2
fi
trap 'scripts/stack.sh down >/dev/null 2>&1 || true' EXIT

one_fault_env() { # the stack's environment for fault $1, as VAR=value or nothing
  case $1 in
    baseline|deploy) ;;
    duplicate) echo "DEVSTACK_CHAOS=duplicate=1" ;;
    kill) echo "DEVSTACK_CHAOS=kill=0.02" ;;
    dynamodb) echo "DEVSTACK_DYNAMODB_FAULTS=conflict=0.2,throttle=0.05,server_error=0.02,lost_answer=0.02" ;;
    notify) echo "DEVSTACK_CHAOS=notify_unavailable=0.2,notify_timeout=0.05" ;;
    *) echo "chaos: unknown fault $1" >&2; return 2 ;;
  esac
}

env_of() { # the stack's environment for $1: a fault, or faults joined by + (one run, all at once)
  local -A merged=()
  local part line
  for part in ${1//+/ }; do
    line=$(one_fault_env "$part") || return 2
    [[ -z $line ]] || merged[${line%%=*}]+=${merged[${line%%=*}]:+,}${line#*=}
  done
  for var in "${!merged[@]}"; do echo -n "$var=${merged[$var]} "; done
}

status=0
for fault in $faults; do
  vars=$(env_of "$fault") || exit 2
  echo "== chaos: $fault ${vars:+($vars)}"
  # The settings the scenarios ask of the stack, as in `make load`.
  env $vars DEVSTACK_PREBUILT=${CHAOS_PREBUILT:-} \
    scripts/stack.sh up $(target/debug/load mixed --stack-settings) >/dev/null
  deployer=
  if [[ +$fault+ == *+deploy+* ]]; then
    # Restarts go on until the invariants are checked: through the load and the settling after.
    : >"$out/deploy.log"
    ( while sleep 10; do
        touch "${consumers[@]}"
        echo "deploy at $(date +%T)" >>"$out/deploy.log"
      done ) &
    deployer=$!
  fi
  # The table below is the verdict: it counts every failed request apart from a 503 (the API's
  # "not accepted, try again"), so the load itself is not stopped by an error budget.
  run=0
  target/debug/load mixed --users "$users" --run-time "$run_time" --settle-secs "$settle" \
    --error-budget 1 --out "$out/$fault" >"$out/$fault.log" 2>&1 || run=$?
  [[ -z $deployer ]] || { kill "$deployer" 2>/dev/null; wait "$deployer" 2>/dev/null || true; }
  sink=$(sed -n 's/^NOTIFY_URL=//p' .devstack/env)
  curl -fsS "$sink/chaos" >"$out/$fault.chaos.json" 2>/dev/null || echo '{}' >"$out/$fault.chaos.json"
  target/debug/ops dlq >"$out/$fault.dlq.txt" 2>&1 || true
  scripts/stack.sh down >/dev/null
  grep -E '^  (ok  |FAIL)' "$out/$fault.log" || true
  [[ $run == 0 ]] || { status=1; echo "chaos: $fault FAILED (see $out/$fault.log)"; }
done
python3 scripts/chaos_table.py "$out" $faults >"$out/table.md" || status=1
cat "$out/table.md"
exit "$status"
