#!/usr/bin/env python3
"""The chaos suite's table: fault x invariant, from target/chaos/<fault>/report.json (the load's
invariants), <fault>.chaos.json and the fault proxy's counts (what was injected) and
<fault>.dlq.txt (dead letters). Usage: chaos_table.py OUT_DIR FAULT..."""

import json
import re
import sys
from pathlib import Path

out = Path(sys.argv[1])
faults = sys.argv[2:]


def injected(fault, report):
    parts = []
    chaos = {}
    try:
        chaos = json.loads((out / f"{fault}.chaos.json").read_text())
    except (OSError, ValueError):
        pass
    names = {"duplicated_batches": "batches delivered twice", "killed_instances": "instances killed",
             "notify_unavailable": "notify 503s", "notify_timeouts": "notify timeouts"}
    parts += [f"{v} {names[k]}" for k, v in chaos.items() if v]
    for k, v in (report.get("injected_faults") or {}).items():
        if k != "forwarded" and v:
            parts.append(f"{v} DynamoDB {k.replace('_', ' ')}")
    if "deploy" in fault.split("+"):
        log = out / "deploy.log"
        n = len(log.read_text().splitlines()) if log.exists() else 0
        parts.append(f"{n} restarts of every consumer")
    return ", ".join(parts) or "none"


def dead_letters(fault):
    try:
        text = (out / f"{fault}.dlq.txt").read_text()
    except OSError:
        return None
    total = 0
    for line in text.splitlines():
        m = re.match(r"^\s{2}(\S+)\s+(\d+)\s", line)
        if m and m.group(1) != "queue":
            total += int(m.group(2))
    return total


violations = 0
print("| fault | injected | invariant | checked | violations |")
print("|---|---|---|---:|---:|")
for fault in faults:
    try:
        report = json.loads((out / fault / "mixed" / "report.json").read_text())
    except (OSError, ValueError):
        try:
            report = json.loads((out / fault / "report.json").read_text())
        except (OSError, ValueError):
            print(f"| {fault} | ? | the run left no report | - | - |")
            violations += 1
            continue
    what = injected(fault, report)
    requests = report.get("requests", 0)
    errors = sum(v for k, v in (report.get("errors") or {}).items() if k != "Ok")
    # A 503 is the API's "not accepted, try again" (storage unavailable after the SDK's
    # retries): nothing was accepted, so nothing is lost. Any other 5xx, a timeout or a broken
    # connection is a violation.
    refused = (report.get("statuses") or {}).get("503", 0)
    violations += errors - refused
    print(f"| {fault} | {what} | requests answered: no 5xx but 503, no timeout, no transport error | {requests} | {errors - refused} |")
    if refused:
        print(f"| {fault} | | requests refused with 503 (not accepted; the client retries) | {refused} | - |")
    for check in report.get("invariants", []):
        violations += len(check["failures"])
        print(f"| {fault} | | {check['name']} | {check['checked']} | {len(check['failures'])} |")
    dlq = dead_letters(fault)
    violations += 1 if dlq is None else dlq
    print(f"| {fault} | | accepted work in a dead-letter queue | all queues | {'?' if dlq is None else dlq} |")

sys.exit(1 if violations else 0)
