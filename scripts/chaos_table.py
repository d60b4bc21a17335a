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
    if fault == "deploy":
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


rows = []
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
            continue
    what = injected(fault, report)
    requests = report.get("requests", 0)
    errors = sum(v for k, v in (report.get("errors") or {}).items() if k != "Ok")
    print(f"| {fault} | {what} | requests answered without transport error, timeout or 5xx | {requests} | {errors} |")
    for check in report.get("invariants", []):
        print(f"| {fault} | | {check['name']} | {check['checked']} | {len(check['failures'])} |")
    dlq = dead_letters(fault)
    print(f"| {fault} | | accepted work in a dead-letter queue | all queues | {'?' if dlq is None else dlq} |")
