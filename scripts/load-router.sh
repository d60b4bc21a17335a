#!/usr/bin/env bash
# `make load-router`: serves the API router with in-memory ports (target/load/memory-api) and
# drives the formulas scenario at it with unique bodies and Idempotency-Keys; arguments go to
# the load generator. Nothing is processed behind the router, so the invariants are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
addr=127.0.0.1:${ROUTER_PORT:-3900}
target/load/memory-api "$addr" >/dev/null &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do curl -s -o /dev/null "http://$addr/" && break; sleep 0.1; done
target/load/load formulas --host "http://$addr" --skip-invariants --out target/load/router "$@"
