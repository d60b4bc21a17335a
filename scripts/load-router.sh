#!/usr/bin/env bash
# `make load-router`: serves the API router with in-memory ports (target/perf/memory-api) and
# drives POST /formulas at it with wrk, every request a new formula with its own
# Idempotency-Key. Nothing sits behind the router, so this is its own ceiling. Writes
# target/load/router/{wrk.txt,report.json,summary.txt}; fails on any error or non-2xx answer.
#   ROUTER_CONNECTIONS (500), ROUTER_DURATION (30s), ROUTER_THREADS (2), ROUTER_PORT (3900)
set -euo pipefail
cd "$(dirname "$0")/.."
addr=127.0.0.1:${ROUTER_PORT:-3900}
connections=${ROUTER_CONNECTIONS:-500}
duration=${ROUTER_DURATION:-30s}
out=target/load/router
mkdir -p "$out"

target/perf/memory-api "$addr" >/dev/null &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do curl -s -o /dev/null "http://$addr/" && break; sleep 0.1; done

wrk -t"${ROUTER_THREADS:-2}" -c"$connections" -d"$duration" --timeout 5s \
  -s scripts/load/router.lua "http://$addr" | tee "$out/wrk.txt"
# The CPU the router used over the run (utime and stime, in clock ticks).
read -r utime stime < <(awk '{ print $14, $15 }' "/proc/$server/stat")
tail -n 1 "$out/wrk.txt" >"$out/report.json"

python3 - "$out" "$connections" "$utime" "$stime" "$(getconf CLK_TCK)" <<'PY'
import json, sys
out, connections, utime, stime, tck = sys.argv[1], int(sys.argv[2]), *map(int, sys.argv[3:])
r = json.load(open(f"{out}/report.json"))
r.update(connections=connections, cpu_user_s=utime / tck, cpu_system_s=stime / tck)
r["cpu_us_per_request"] = (utime + stime) / tck / max(r["requests"], 1) * 1e6
json.dump(r, open(f"{out}/report.json", "w"), indent=2)
errors = r["connect_errors"] + r["read_errors"] + r["write_errors"] + r["timeouts"] + r["non_2xx"]
ok = errors == 0 and r["rps"] >= 40000 and r["p99_ms"] <= 25
line = (f"router: POST /formulas, {connections} connections, {r['requests']} requests in "
        f"{r['seconds']:.0f} s = {r['rps']:.0f} req/s; p50 {r['p50_ms']:.1f} ms, p90 {r['p90_ms']:.1f} ms, "
        f"p99 {r['p99_ms']:.1f} ms, max {r['max_ms']:.1f} ms; errors {errors}; router CPU "
        f"{r['cpu_us_per_request']:.0f} us/request ({r['cpu_user_s']:.1f} s user, {r['cpu_system_s']:.1f} s system); "
        f"target >= 40000 req/s, p99 <= 25 ms: {'met' if ok else 'NOT met'}")
open(f"{out}/summary.txt", "w").write(line + "\n")
print(line)
sys.exit(0 if errors == 0 else 1)
PY
