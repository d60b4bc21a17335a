#!/usr/bin/env python3
"""`make performance-doc`: writes docs/performance.md from the last runs' reports.

Reads what the measuring commands left under target/:
  target/load/<scenario>/report.json + latency.svg   make load (one per scenario run)
  target/load/ceilings/report.json                   measure ceilings (run by make load)
  target/load/router/report.json                     make load-router
  target/footprint/report.json                       make footprint
Charts are copied to docs/performance/<scenario>.svg. Everything in docs/performance.md after
the line `<!-- notes -->` is kept as it is: the reading of the figures, written by a person.
"""
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOAD = os.path.join(ROOT, "target", "load")
DOC = os.path.join(ROOT, "docs", "performance.md")
CHARTS = os.path.join(ROOT, "docs", "performance")
NOTES = "<!-- notes -->"

def scenarios():
    """The load tool's scenarios, as it lists them when refusing an unknown one (mixed last)."""
    tool = os.path.join(ROOT, "target", "debug", "load")
    try:
        refused = subprocess.run([tool, "?", "--stack-settings"], capture_output=True, text=True).stderr
        return refused.split("one of ", 1)[1].strip().split(", ")
    except (OSError, IndexError):
        # Not built: whatever reports the runs left.
        found = sorted(d for d in os.listdir(LOAD) if os.path.isfile(os.path.join(LOAD, d, "report.json"))) if os.path.isdir(LOAD) else []
        return [d for d in found if d != "mixed"] + (["mixed"] if "mixed" in found else [])


SCENARIOS = scenarios()


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def modified(path):
    t = os.path.getmtime(path)
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def machine():
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
            mem = f", {kb / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return f"{os.cpu_count()} vCPU ({model}){mem}, Linux {platform.release()}"


def ms(v):
    return f"{v:,.1f} ms" if v < 100 else f"{v:,.0f} ms"


def load_section(out):
    rows, charts, hops = [], [], []
    for name in SCENARIOS:
        path = os.path.join(LOAD, name, "report.json")
        r = load(path)
        # A report without its command line predates this document's format: rerun it.
        if not r or "command" not in r:
            continue
        errors = ", ".join(f"{n} × {k}" for k, n in r["errors"].items()) or "0"
        checks = "; ".join(
            f"{c['name']}: {c['checked']} checked, {len(c['failures'])} failed" for c in r["invariants"]
        ) or "—"
        o = r.get("offered")
        offered = (
            f"{o['requests_per_second']:,.0f} req/s ({r['users']} × {o['per_user']:g}/s, {o['late']} late)"
            if o
            else "closed loop (a ceiling)"
        )
        rows.append(
            f"| {name} | `{r.get('command', '?')}` | {modified(path)} | {r['users']} | {offered} | "
            f"{r['requests_per_second']:,.0f} | {ms(r['p50_ms'])} | {ms(r['p95_ms'])} | "
            f"{ms(r['p99_ms'])} | {ms(r['max_ms'])} | {errors} | {checks} |"
        )
        svg = os.path.join(LOAD, name, "latency.svg")
        if os.path.exists(svg):
            os.makedirs(CHARTS, exist_ok=True)
            shutil.copyfile(svg, os.path.join(CHARTS, f"{name}.svg"))
            charts.append(f"{name}, {r['users']} users:\n\n![{name}](performance/{name}.svg)\n")
        if r.get("hops"):
            hops.append((name, r))
    out.append("## `make load` on the local stack\n")
    if not rows:
        out.append("No run yet: `make load LOAD_SCENARIO=reads`.\n")
        return {}
    out.append(
        "| scenario | command | when | users | offered | req/s | p50 | p95 | p99 | max | errors | invariants |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|"
    )
    out.extend(rows)
    out.append("")
    out.extend(charts)
    if hops:
        out.append("### Where the CPU went, per hop\n")
        out.append(
            "CPU time of each process group during the attack (from `/proc`), per request. On two\n"
            "shared cores, CPU is what a hop costs; \"ours\" is devstack and the functions.\n"
        )
        names = [h["hop"] for h in hops[0][1]["hops"]]
        out.append("| scenario | " + " | ".join(names) + " | ours |")
        out.append("|---" * (len(names) + 2) + "|")
        for name, r in hops:
            by = {h["hop"]: h for h in r["hops"]}
            cells = [
                f"{by[n]['cpu_ms_per_request']:.2f} ms ({by[n]['share'] * 100:.0f} %)" if n in by else "—"
                for n in names
            ]
            ours = sum(h["share"] for h in r["hops"] if h["hop"].startswith(("devstack", "functions")))
            out.append(f"| {name} | " + " | ".join(cells) + f" | {ours * 100:.0f} % |")
        out.append("")
    return {name: load(os.path.join(LOAD, name, "report.json")) for name in SCENARIOS}


def ceilings_section(out, runs):
    path = os.path.join(LOAD, "ceilings", "report.json")
    r = load(path)
    out.append("## The emulators' own ceilings\n")
    if not r:
        out.append("No run yet: `make load` measures them after its scenario (`measure ceilings`).\n")
        return
    out.append(f"`target/debug/measure ceilings` (run by `make load` after its scenario), {modified(path)}:\n")
    out.append("| call | clients | calls/s | p50 | p99 | errors |\n|---|---|---|---|---|---|")
    for c in r["ceilings"]:
        out.append(
            f"| {c['name']} | {c['clients']} | {c['calls_per_second']:,.0f} | {ms(c['p50_ms'])} | "
            f"{ms(c['p99_ms'])} | {c['errors']} |"
        )
    out.append("")
    reads = runs.get("reads")
    query = next((c for c in r["ceilings"] if c["name"].startswith("DynamoDB")), None)
    invoke = next((c for c in r["ceilings"] if c["name"].startswith("Invoke")), None)
    if reads and query and invoke:
        # The reads scenario makes two API calls per iteration, each one DynamoDB read.
        out.append(
            f"Ratios for the reads scenario ({reads['requests_per_second']:,.0f} req/s through the gateway): "
            f"{reads['requests_per_second'] / query['calls_per_second']:.2f} × DynamoDB Local's own query "
            f"ceiling, {reads['requests_per_second'] / invoke['calls_per_second']:.2f} × the Lambda path "
            f"without the gateway.\n"
        )


def router_section(out):
    path = os.path.join(LOAD, "router", "report.json")
    r = load(path)
    out.append("## The API router alone (`make load-router`)\n")
    if not r:
        out.append("No run yet: `make load-router`.\n")
        return
    errors = r["connect_errors"] + r["read_errors"] + r["write_errors"] + r["timeouts"] + r["non_2xx"]
    out.append(
        f"wrk, `POST /formulas` with unique bodies and Idempotency-Keys, {r['connections']} connections, "
        f"{modified(path)}: **{r['rps']:,.0f} req/s**, p50 {ms(r['p50_ms'])}, p90 {ms(r['p90_ms'])}, "
        f"p99 {ms(r['p99_ms'])}, max {ms(r['max_ms'])}, {errors} errors; the router used "
        f"{r['cpu_us_per_request']:.0f} µs of CPU per request ({r['cpu_user_s']:.1f} s user, "
        f"{r['cpu_system_s']:.1f} s system). Target: ≥ 40,000 req/s with p99 ≤ 25 ms.\n"
    )


def footprint_section(out):
    path = os.path.join(ROOT, "target", "footprint", "report.json")
    r = load(path)
    out.append("## Functions' footprint (`make footprint`)\n")
    if not r:
        out.append("No run yet: `make footprint`.\n")
        return
    out.append(
        f"Release builds (x86_64 for the timings, the arm64 zips for the size), each fed its sample event "
        f"{r['invocations']} times against the local stack, {modified(path)}. Init: process start to its "
        f"first request for an event; cold: process start to the first answer.\n"
    )
    out.append("| function | init | cold start | warm p50 | RSS after | peak RSS | zip | errors |\n|---|---|---|---|---|---|---|---|")
    for f in r["functions"]:
        zip_mb = f"{f['zip_mb']:.2f} MB" if f.get("zip_mb") is not None else "—"
        out.append(
            f"| {f['function']} | {ms(f['init_ms'])} | {ms(f['cold_start_ms'])} | {ms(f['warm_p50_ms'])} | "
            f"{f['rss_mb']:.1f} MB | {f['peak_rss_mb']:.1f} MB | {zip_mb} | {f['function_errors']} |"
        )
    out.append("\nTargets: cold start ≤ 20 ms, RSS after 1,000 invocations ≤ 24 MB, zip ≤ 4 MB.\n")


def main():
    notes = ""
    if os.path.exists(DOC):
        with open(DOC) as f:
            text = f.read()
        if NOTES in text:
            notes = text[text.index(NOTES):]
    out = [
        "# Performance\n",
        f"Generated by `make performance-doc` on {datetime.date.today().isoformat()} from the reports the "
        f"measuring commands left under `target/`; machine: {machine()}. The load generator, the "
        "emulators and the functions share its cores. Rerun a command, then `make performance-doc`, "
        "to bring a section up to date; each table says when its run was.\n",
    ]
    runs = load_section(out)
    ceilings_section(out, runs)
    router_section(out)
    footprint_section(out)
    text = "\n".join(out).rstrip() + "\n\n" + (notes or NOTES + "\n")
    with open(DOC, "w") as f:
        f.write(text)
    print(f"wrote {os.path.relpath(DOC, ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
