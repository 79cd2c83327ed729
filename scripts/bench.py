#!/usr/bin/env python3
# SPDX-License-Identifier: MPL-2.0
"""Runs volley's perf tools and the same tools built against libzmq,
alternately, several runs each, and prints a Markdown table of medians
(with min-max) and the volley/libzmq ratio. Saves the table to
<build>/results.md and every raw figure to <build>/results.json.

Each tool prints libzmq's output ("average latency: X [us]",
"mean throughput: N [msg/s]"); the figures are parsed from there.
"""
import argparse
import json
import pathlib
import re
import statistics
import subprocess
import sys

SIZES = [1, 64, 1024, 65536]

# (tool, unit, better, size -> count argument, targets {size: (op, ratio)})
TOOLS = [
    ("inproc_lat", "us", "lower", lambda size: 10000, {1: ("<=", 0.2), 64: ("<=", 0.2)}),
    ("inproc_thr", "msg/s", "higher", lambda size: 200000 if size >= 65536 else 2000000, {64: (">=", 2.0)}),
]

PATTERNS = {
    "us": re.compile(r"average latency: ([0-9.]+) \[us\]"),
    "msg/s": re.compile(r"mean throughput: ([0-9]+) \[msg/s\]"),
}


def run_tool(path, args, unit, timeout):
    cmd = [str(path)] + [str(a) for a in args]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"{' '.join(cmd)}: no result within {timeout} s")
    match = PATTERNS[unit].search(out.stdout)
    if out.returncode != 0 or not match:
        raise RuntimeError(f"{' '.join(cmd)} failed (exit {out.returncode}): {out.stdout.strip()} {out.stderr.strip()}")
    return float(match.group(1))


def fmt(value, unit):
    if unit == "us":
        return f"{value:.2f} us"
    return f"{value / 1e6:.2f} M msg/s"


def summary(values, unit):
    return f"{fmt(statistics.median(values), unit)} ({fmt(min(values), unit)} - {fmt(max(values), unit)})"


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--build", default="build/bench", help="build directory with perf/ and perf/zmq/")
    ap.add_argument("--runs", type=int, default=5, help="runs per tool, size and library")
    ap.add_argument("--timeout", type=int, default=300, help="seconds one run may take")
    args = ap.parse_args()

    build = pathlib.Path(args.build)
    raw = {}
    for run in range(1, args.runs + 1):
        print(f"run {run}/{args.runs} ...", file=sys.stderr, flush=True)
        for tool, unit, _, count, _ in TOOLS:
            for size in SIZES:
                # Alternate libraries within each run, so drift hits both alike.
                for lib, path in (("volley", build / "perf" / tool), ("libzmq", build / "perf" / "zmq" / f"zmq_{tool}")):
                    value = run_tool(path, [size, count(size)], unit, args.timeout)
                    raw.setdefault(f"{tool}/{size}/{lib}", []).append(value)

    lines = [
        f"| tool | size [B] | volley median (min - max) | libzmq median (min - max) | volley/libzmq | target |",
        "|---|---:|---|---|---:|---|",
    ]
    results = []
    for tool, unit, better, count, targets in TOOLS:
        for size in SIZES:
            v = raw[f"{tool}/{size}/volley"]
            z = raw[f"{tool}/{size}/libzmq"]
            ratio = statistics.median(v) / statistics.median(z)
            target = ""
            met = None
            if size in targets:
                op, bound = targets[size]
                met = ratio <= bound if op == "<=" else ratio >= bound
                target = f"{op} {bound} {'met' if met else 'MISSED'}"
            lines.append(f"| {tool} | {size} | {summary(v, unit)} | {summary(z, unit)} | {ratio:.3f} | {target} |")
            results.append({"tool": tool, "size": size, "unit": unit, "better": better, "count": count(size),
                             "volley": v, "libzmq": z, "ratio": ratio, "target_met": met})
    note = (f"\n{args.runs} runs each, volley and libzmq alternating; latency is one-way (half the round trip), "
            f"lower is better; throughput higher is better. Ratio = volley median / libzmq median.\n")
    table = "\n".join(lines) + "\n" + note
    (build / "results.md").write_text(table)
    (build / "results.json").write_text(json.dumps({"runs": args.runs, "results": results}, indent=2) + "\n")
    print(table)
    print(f"saved {build / 'results.md'} and {build / 'results.json'}", file=sys.stderr)


if __name__ == "__main__":
    main()
