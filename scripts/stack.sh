#!/usr/bin/env bash
# Starts (up) or stops (down) the local stack in the background. See README, "Local stack".
# `up NAME=VALUE...` gives settings the caller's clients ask for, unless the environment has them.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=.devstack
PID_FILE=$DIR/pid
READY_TIMEOUT=${DEVSTACK_READY_TIMEOUT:-900}

running() { [[ -f $PID_FILE ]] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null; }

# Settings a caller may ask of the stack through the environment (the messaging backend, and
# every flow setting topology.json gives a local value); a running stack started with other
# values is restarted rather than silently reused.
mapfile -t SETTINGS < <(python3 -c 'import json; print("\n".join(["DEVSTACK_MESSAGING", *json.load(open("infrastructure/topology.json")).get("settings", {})]))')

# The first setting the caller asks for that the running stack does not have, as one line.
mismatch() {
  local name asked had
  for name in "${SETTINGS[@]}"; do
    asked=${!name:-}
    [[ -n $asked ]] || continue
    had=$(sed -n "s/^$name=//p" "$DIR/env" 2>/dev/null)
    if [[ $asked != "$had" ]]; then
      echo "$name=${had:-?}, and this needs $name=$asked"
      return 0
    fi
  done
  return 1
}

kill_group() { # $1 = process group id
  kill -TERM -- "-$1" 2>/dev/null || return 0
  for _ in $(seq 1 50); do kill -0 -- "-$1" 2>/dev/null || return 0; sleep 0.2; done
  kill -KILL -- "-$1" 2>/dev/null || true
}

up() {
  if running; then
    local differs
    if differs=$(mismatch); then
      echo "restarting the local stack: it runs with $differs"
      down >/dev/null
    else
      echo "local stack already running (pid $(cat "$PID_FILE"))"; cat "$DIR/env"; return 0
    fi
  fi
  mkdir -p "$DIR/logs"
  rm -f "$DIR/env"
  # devstack runs the functions' builds from target/debug (optimized: see Cargo.toml's dev
  # profile). Every target at once, as `make test` builds them: a narrower build would unify other
  # features and relink what the tests have just built.
  [[ -n ${DEVSTACK_PREBUILT:-} ]] || cargo build --workspace --all-targets --quiet
  local started=$SECONDS
  setsid target/debug/devstack serve >"$DIR/logs/devstack.log" 2>&1 </dev/null &
  echo $! >"$PID_FILE"
  until [[ -f $DIR/env ]]; do
    if ! running; then
      echo "local stack failed to start; last lines of $DIR/logs/devstack.log:" >&2
      tail -n 30 "$DIR/logs/devstack.log" >&2
      down >/dev/null
      return 1
    fi
    if (( SECONDS - started > READY_TIMEOUT )); then
      echo "local stack not ready after ${READY_TIMEOUT}s; see $DIR/logs/" >&2
      down >/dev/null
      return 1
    fi
    sleep 0.5
  done
  echo "local stack ready in $((SECONDS - started))s (logs in $DIR/logs/):"
  sed 's/^/  /' "$DIR/env"
}

down() {
  if [[ -f $PID_FILE ]]; then
    kill_group "$(cat "$PID_FILE")"
    rm -f "$PID_FILE"
  fi
  rm -f "$DIR/env"
  echo "local stack stopped"
}

# `up NAME=VALUE...`: settings a client asks of the stack (`load SCENARIO --stack-settings`,
# `demo all --stack-settings`), each unless the environment gives it.
defaults() {
  local setting name
  for setting in "$@"; do
    name=${setting%%=*}
    [[ -n ${!name:-} ]] || export "$setting"
  done
}

case "${1:-}" in
  up) shift; defaults "$@"; up ;;
  down) down ;;
  *) echo "usage: $0 up [NAME=VALUE...] | down" >&2; exit 2 ;;
esac
