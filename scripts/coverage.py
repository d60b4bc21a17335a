"""Line coverage per crate from `cargo llvm-cov report --json`, and the verdict against a floor.

usage: coverage.py COVERAGE_JSON FLOOR_PERCENT
Prints a table (crate, lines, covered, %) and the total; exits 1 when the total is under FLOOR.
"""

import json
import os
import sys
from collections import defaultdict


def crate_of(path: str, root: str) -> str:
    rel = os.path.relpath(path, root)
    parts = rel.split(os.sep)
    if parts[0] == "crates" and len(parts) > 1:
        return parts[1]
    if parts[0] == "tests":
        return "integration-tests"
    return parts[0]


def main() -> int:
    report_path, floor = sys.argv[1], float(sys.argv[2])
    with open(report_path, encoding="utf-8") as f:
        data = json.load(f)["data"][0]
    root = os.getcwd()
    lines = defaultdict(lambda: [0, 0])
    for entry in data["files"]:
        summary = entry["summary"]["lines"]
        crate = lines[crate_of(entry["filename"], root)]
        crate[0] += summary["count"]
        crate[1] += summary["covered"]
    print(f"{'crate':<20} {'lines':>7} {'covered':>8} {'%':>6}")
    for name, (count, covered) in sorted(lines.items()):
        share = 100.0 * covered / count if count else 100.0
        print(f"{name:<20} {count:>7} {covered:>8} {share:>6.1f}")
    total = data["totals"]["lines"]
    share = total["percent"]
    print(f"{'total':<20} {total['count']:>7} {total['covered']:>8} {share:>6.1f}")
    if share < floor:
        print(f"line coverage {share:.1f} % is under the floor of {floor:.0f} %", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
