#!/usr/bin/env python3
# SPDX-License-Identifier: MPL-2.0
"""Runs volley's perf tools and the same tools built against libzmq,
alternately, several runs each, and prints a Markdown table of medians
(with min-max) and the volley/libzmq ratio. Saves the table to
<build>/results.md, every raw figure to <build>/results.json (with the
machine and the date), and plots of them to <build>/latency.png,
throughput.png and fanout.png (scripts/bench_plot.py; skipped, with one line
saying why, where matplotlib is missing).

inproc runs the one-process tools (inproc_lat, inproc_thr). ipc and tcp run
libzmq's network tools in pairs: local_* binds, remote_* connects, in two
processes; latency is printed by remote_lat, throughput by local_thr.
remote_* is started once local_* listens (seen in /proc/net), so that
remote_lat's clock does not include a reconnect interval; both libraries
tolerate connecting first anyway. mixed runs volley's local_thr against
libzmq's zmq_remote_thr over tcp, with volley on both ends as the baseline.

Each tool prints libzmq's output ("average latency: X [us]",
"mean throughput: N [msg/s]"); the figures are parsed from there.
A run that fails or times out is reported and left out of its row; the
table is still printed and saved, and the script then exits with an error
naming every failed run.

--rdma-vm adds the rdma section: volley's tools over rdma:// inside the
Soft-RoCE VM, beside perftest's ib_send_lat and ib_write_bw on the same
device in the same VM run, as ratios of raw verbs (scripts/bench_rdma.py).
With --only rdma it runs alone.

--ab BUILD compares volley with volley: the tools of --build against those
of another build (an earlier commit's), in the same alternating runs, in
place of libzmq; the mixed section is left out. That is the A/B a change of
the data path is judged by.
"""
import argparse
import datetime
import json
import os
import pathlib
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import bench_plot
import bench_rdma

INPROC_SIZES = [1, 64, 1024, 65536]
NET_SIZES = [1, 64, 1024, 65536, 1048576]
TRANSPORTS = ["inproc", "ipc", "tcp", "mixed", "pub", "router", "rdma"]
FAN_TRANSPORTS = ["inproc", "tcp"]
PUB_SUBSCRIBERS = [1, 4, 16]
ROUTER_CLIENTS = [1, 4]

KIB = 1024


def inproc_lat_count(size):
    return 10000


def inproc_thr_count(size):
    return 200000 if size >= 64 * KIB else 2000000


# Counts for the network tools: a libzmq run takes roughly 0.2-1 s on the 2-vCPU VM they were tuned on.
def net_lat_count(size):
    return 10000 if size <= 1024 else 2000 if size <= 64 * KIB else 500


def pub_count(subscribers):
    # Two million deliveries in all, whatever the number of subscribers.
    return 2000000 // subscribers


def router_count(clients):
    return 400000 // clients


def net_thr_count(size):
    # About 0.5-1 s a run for libzmq. 1 MiB runs 3000 messages: at the default HWM of 1000
    # the first ~1 GiB of bodies is fresh memory for both libraries (page faults), so a
    # shorter run measures mostly that start-up, not the steady state.
    return 2000000 if size <= 64 else 500000 if size <= 1024 else 20000 if size <= 64 * KIB else 3000


# size -> (op, bound) for the ratio volley median / libzmq median.
INPROC_LAT_TARGETS = {1: ("<=", 0.2), 64: ("<=", 0.2)}
INPROC_THR_TARGETS = {64: (">=", 2.0)}
NET_LAT_TARGETS = {1: ("<=", 0.5), 64: ("<=", 0.35)}
NET_THR_TARGETS = {64: (">=", 3.0), 65536: (">=", 1.5), 1048576: (">=", 1.0)}
FAN_TARGETS = {64: (">=", 1.5)}
# rdma (in the VM): volley / raw verbs.
RDMA_TARGETS = {"lat": ("<=", 1.5), "thr": (">=", 0.8)}


def perf_tool(build, lib, name):
    """Path of tool `name` (e.g. "local_thr") in the volley or libzmq build."""
    if lib == "volley":
        return build / "perf" / name
    return build / "perf" / "zmq" / f"zmq_{name}"


def benches(build):
    """Every comparison: transport, kind, sizes, count, targets and the two
    variants (label, local tool, remote tool or None). The ratio is first
    variant / second variant."""
    out = []
    for kind, count, targets in (("lat", inproc_lat_count, INPROC_LAT_TARGETS),
                                 ("thr", inproc_thr_count, INPROC_THR_TARGETS)):
        out.append({"transport": "inproc", "kind": kind, "tool": f"inproc_{kind}", "sizes": INPROC_SIZES,
                    "count": count, "targets": targets,
                    "variants": [(lib, perf_tool(build, lib, f"inproc_{kind}"), None) for lib in ("volley", "libzmq")]})
    for transport in ("ipc", "tcp"):
        for kind, count, targets in (("lat", net_lat_count, NET_LAT_TARGETS), ("thr", net_thr_count, NET_THR_TARGETS)):
            out.append({"transport": transport, "kind": kind, "tool": f"local_{kind} + remote_{kind}",
                        "sizes": NET_SIZES, "count": count, "targets": targets,
                        "variants": [(lib, perf_tool(build, lib, f"local_{kind}"), perf_tool(build, lib, f"remote_{kind}"))
                                     for lib in ("volley", "libzmq")]})
    for section, tool, peers, count in (("pub", "pub_thr", PUB_SUBSCRIBERS, pub_count),
                                        ("router", "router_thr", ROUTER_CLIENTS, router_count)):
        for transport in FAN_TRANSPORTS:
            for n in peers:
                out.append({"section": section, "transport": transport, "kind": "fan",
                            "tool": f"{tool} ({n} {'subscribers' if section == 'pub' else 'clients'})",
                            "peers": n, "sizes": [64], "count": (lambda size, n=n, c=count: c(n)),
                            "targets": FAN_TARGETS,
                            "variants": [(lib, perf_tool(build, lib, tool), None) for lib in ("volley", "libzmq")]})
    out.append({"transport": "mixed", "kind": "thr", "tool": "local_thr + zmq_remote_thr", "sizes": [64, 65536],
                "count": net_thr_count, "targets": {},
                "variants": [("mixed", perf_tool(build, "volley", "local_thr"), perf_tool(build, "libzmq", "remote_thr")),
                             ("volley", perf_tool(build, "volley", "local_thr"), perf_tool(build, "volley", "remote_thr"))]})
    return out


UNITS = {"lat": "us", "thr": "msg/s", "fan": "msg/s"}
PATTERNS = {
    "lat": re.compile(r"average latency: ([0-9.]+) \[us\]"),
    "thr": re.compile(r"mean throughput: ([0-9]+) \[msg/s\]"),
    "fan": re.compile(r"mean throughput: ([0-9]+) \[msg/s\]"),
}


def run_tool(path, args, kind, timeout):
    cmd = [str(path)] + [str(a) for a in args]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"{' '.join(cmd)}: no result within {timeout} s")
    match = PATTERNS[kind].search(out.stdout)
    if out.returncode != 0 or not match:
        raise RuntimeError(f"{' '.join(cmd)} failed (exit {out.returncode}): {out.stdout.strip()} {out.stderr.strip()}")
    return float(match.group(1))


ipc_serial = 0


def new_endpoint(transport):
    """A fresh endpoint: a tcp port free right now, or an ipc path unique to this run."""
    global ipc_serial
    if transport == "ipc":
        ipc_serial += 1
        return f"ipc:///tmp/volley-bench-{os.getpid()}-{ipc_serial}.ipc"
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return f"tcp://127.0.0.1:{s.getsockname()[1]}"


def listening(endpoint):
    """True when something listens at `endpoint`, or when /proc/net cannot tell."""
    try:
        if endpoint.startswith("tcp://"):
            port = int(endpoint.rsplit(":", 1)[1])
            for table in ("/proc/net/tcp", "/proc/net/tcp6"):
                with open(table) as f:
                    for line in f.readlines()[1:]:
                        fields = line.split()
                        if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                            return True
            return False
        path = endpoint[len("ipc://"):]
        with open("/proc/net/unix") as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if len(fields) >= 8 and fields[7] == path and int(fields[3], 16) & 0x10000:
                    return True
        return False
    except OSError:
        return True


def run_pair(local, remote, kind, transport, size, count, timeout):
    """One run of local (binds) and remote (connects); returns the figure
    printed by local_thr or remote_lat. Kills both on failure or timeout."""
    endpoint = new_endpoint("tcp" if transport == "mixed" else transport)
    args = [endpoint, str(size), str(count)]
    cmds = {"local": [str(local)] + args, "remote": [str(remote)] + args}
    procs, outs = {}, {}
    deadline = time.monotonic() + timeout

    def output(role):
        outs[role].seek(0)
        return outs[role].read().decode(errors="replace").strip()

    def describe():
        return "; ".join(f"{' '.join(cmds[r])} exit {procs[r].returncode}: {output(r)}" for r in procs)

    def kill_all():
        for p in procs.values():
            if p.poll() is None:
                p.kill()
            p.wait()

    try:
        for role in ("local", "remote"):
            outs[role] = tempfile.TemporaryFile()
            procs[role] = subprocess.Popen(cmds[role], stdout=outs[role], stderr=subprocess.STDOUT)
            if role == "local":
                # Connecting first is tolerated, but would put a reconnect interval on remote_lat's clock.
                settle = time.monotonic() + 5
                while procs["local"].poll() is None and not listening(endpoint):
                    if time.monotonic() > settle:
                        print(f"bench: {cmds['local'][0]} not seen listening at {endpoint} after 5 s; "
                              f"starting the remote side anyway", file=sys.stderr)
                        break
                    time.sleep(0.001)
        while any(p.poll() is None for p in procs.values()):
            if any(p.returncode not in (None, 0) for p in procs.values()):
                kill_all()
                raise RuntimeError(f"{transport} {kind} pair failed: {describe()}")
            if time.monotonic() > deadline:
                kill_all()
                raise RuntimeError(f"{transport} {kind} pair: no result within {timeout} s: {describe()}")
            time.sleep(0.005)
        if any(p.returncode != 0 for p in procs.values()):
            raise RuntimeError(f"{transport} {kind} pair failed: {describe()}")
        match = PATTERNS[kind].search(output("remote" if kind == "lat" else "local"))
        if not match:
            raise RuntimeError(f"{transport} {kind} pair printed no figure: {describe()}")
        return float(match.group(1))
    finally:
        kill_all()
        for f in outs.values():
            f.close()
        if endpoint.startswith("ipc://"):
            pathlib.Path(endpoint[len("ipc://"):]).unlink(missing_ok=True)


def scaled(values, kind):
    """Median and (min - max) in one scale: "12.34 us (12.01 - 13.50)"; one value alone: "12.34 us"."""
    med, lo, hi = statistics.median(values), min(values), max(values)
    if kind == "lat":
        return f"{med:.2f} us" + (f" ({lo:.2f} - {hi:.2f})" if len(values) > 1 else "")
    # thr and fan: messages (or requests) per second
    scale, prefix = (1e6, "M ") if med >= 1e6 else (1e3, "k ") if med >= 1e3 else (1, "")
    spread = f" ({lo / scale:.2f} - {hi / scale:.2f})" if len(values) > 1 else ""
    return f"{med / scale:.2f} {prefix}msg/s{spread}"


def bandwidth(msgs_per_s, size):
    b = msgs_per_s * size
    return f"{b / 1e9:.2f} GB/s" if b >= 1e9 else f"{b / 1e6:.0f} MB/s"


def cell(values, kind, size):
    if not values:
        return "-"
    text = scaled(values, kind)
    if kind == "thr" and size >= 64 * KIB:
        text += f", {bandwidth(statistics.median(values), size)}"
    return text


class Progress:
    """One line on stderr per measurement: how far the script is, what runs now, what it gave.

    [ 17/240  7%  0:42 spent, ~8:10 left] run 1/5: tcp lat 64 B, volley ... 5.23 us
    """

    def __init__(self, total):
        self.total, self.finished, self.began = total, 0, time.monotonic()

    def start(self, what):
        spent = time.monotonic() - self.began
        left = f", ~{clock(spent / self.finished * (self.total - self.finished))} left" if self.finished else ""
        width = len(str(self.total))
        print(f"[{self.finished + 1:{width}}/{self.total} {100 * self.finished // self.total:3}% "
              f"{clock(spent)} spent{left}] {what} ...", end=" ", file=sys.stderr, flush=True)

    def done(self, result):
        self.finished += 1
        print(result, file=sys.stderr, flush=True)


def clock(seconds):
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02}:{seconds % 60:02}" if seconds >= 3600 else \
        f"{seconds // 60}:{seconds % 60:02}"


def machine():
    """What the figures were measured on, for results.json and the plots' titles."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        pass
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    u = os.uname()
    return {"host": u.nodename, "cpu": cpu, "cpus": cpus, "os": f"{u.sysname} {u.release} {u.machine}"}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build/bench", help="build directory with perf/ and perf/zmq/")
    ap.add_argument("--runs", type=int, default=5, help="runs per tool, size and library")
    ap.add_argument("--timeout", type=int, default=300, help="seconds one run may take")
    ap.add_argument("--only", action="append", choices=TRANSPORTS,
                    help="run only this transport's section (repeatable); default: all")
    ap.add_argument("--libzmq-only", action="store_true",
                    help="leave volley's tools out (and the mixed section): for testing this script")
    ap.add_argument("--sizes", type=lambda v: [int(x) for x in v.split(",")],
                    help="comma-separated message sizes to run (default: each section's own)")
    ap.add_argument("--rdma-vm", action="store_true",
                    help="also run the rdma section inside the Soft-RoCE VM, against raw verbs (perftest)")
    ap.add_argument("--ab", metavar="BUILD",
                    help="compare with volley's tools in BUILD (another commit) instead of libzmq")
    args = ap.parse_args()

    build = pathlib.Path(args.build)
    selected = []
    for b in benches(build):
        if args.only and b.get("section", b["transport"]) not in args.only:
            continue
        if args.libzmq_only:
            if b["transport"] == "mixed":
                continue
            b["variants"] = [v for v in b["variants"] if v[0] == "libzmq"]
        if args.sizes:
            b["sizes"] = [n for n in b["sizes"] if n in args.sizes]
            if not b["sizes"]:
                continue
        if args.ab:
            if b["transport"] == "mixed":
                continue
            other = pathlib.Path(args.ab)
            mine = [v for v in b["variants"] if v[0] == "volley"]
            b["targets"] = {} # the targets are against libzmq
            b["variants"] = mine + [("before", *(None if t is None else perf_tool(other, "volley", t.name)
                                                  for t in mine[0][1:]))]
        selected.append(b)
    if not selected and not args.rdma_vm:
        sys.exit("bench: nothing to run")
    missing = sorted({str(path) for b in selected for _, *paths in b["variants"] for path in paths
                      if path is not None and not path.exists()})
    if missing:
        sys.exit(f"bench: missing tools (build {build} first): {', '.join(missing)}")

    began = datetime.datetime.now().astimezone()
    raw = {}
    # A run that fails (a tool that exits with an error or hangs past --timeout) is reported and
    # left out of its row's figures; the other runs go on, the table is printed and saved with
    # what was measured, and the script then exits with an error naming every failure.
    failures = []
    progress = Progress(args.runs * sum(len(b["sizes"]) * len(b["variants"]) for b in selected))
    for run in range(1, args.runs + 1):
        for b in selected:
            for size in b["sizes"]:
                count = b["count"](size)
                # Alternate the variants within each run, so drift hits both alike.
                for label, local, remote in b["variants"]:
                    progress.start(f"run {run}/{args.runs}: {b['transport']} {b['tool']} {size} B, {label}")
                    try:
                        if b["kind"] == "fan":
                            endpoint = (f"inproc://bench-{b['section']}" if b["transport"] == "inproc"
                                        else new_endpoint("tcp"))
                            value = run_tool(local, [endpoint, b["peers"], size, count], b["kind"], args.timeout)
                        elif remote is None:
                            value = run_tool(local, [size, count], b["kind"], args.timeout)
                        else:
                            value = run_pair(local, remote, b["kind"], b["transport"], size, count, args.timeout)
                    except RuntimeError as e:
                        failures.append(f"run {run}, {label}: {e}")
                        progress.done("FAILED")
                        print(f"bench: run failed, left out: {e}", file=sys.stderr, flush=True)
                        continue
                    progress.done(cell([value], b["kind"], size))
                    raw.setdefault((b["transport"], b["tool"], size, label), []).append(value)

    other = f"before ({args.ab})" if args.ab else "libzmq"
    main_lines = [
        f"| transport | tool | size [B] | volley median (min - max) | {other} median (min - max) "
        f"| volley/{'before' if args.ab else 'libzmq'} | target |",
        "|---|---|---:|---|---|---:|---|",
    ]
    mixed_lines = [
        "| transport | tool | size [B] | volley PULL, libzmq PUSH median (min - max) "
        "| volley PULL, volley PUSH median (min - max) | mixed/volley | target |",
        "|---|---|---:|---|---|---:|---|",
    ]
    results = []
    for b in selected:
        labels = tuple(v[0] for v in b["variants"])
        if len(labels) == 1:
            labels = ("volley", "libzmq")
        for size in b["sizes"]:
            first, second = (raw.get((b["transport"], b["tool"], size, label), []) for label in labels)
            ratio = statistics.median(first) / statistics.median(second) if first and second else None
            target, met = "", None
            if size in b["targets"]:
                op, bound = b["targets"][size]
                if ratio is None:
                    target = f"{op} {bound} -"
                else:
                    met = ratio <= bound if op == "<=" else ratio >= bound
                    target = f"{op} {bound} {'met' if met else 'MISSED'}"
            ratio_text = "-" if ratio is None else f"{ratio:.3f}"
            lines = mixed_lines if b["transport"] == "mixed" else main_lines
            lines.append(f"| {b['transport']} | {b['tool']} | {size} | {cell(first, b['kind'], size)} "
                         f"| {cell(second, b['kind'], size)} | {ratio_text} | {target} |")
            results.append({"transport": b["transport"], "tool": b["tool"], "kind": b["kind"], "size": size,
                            "section": b.get("section", b["transport"]), "peers": b.get("peers"),
                            "unit": UNITS[b["kind"]], "better": "lower" if b["kind"] == "lat" else "higher",
                            "count": b["count"](size), labels[0]: first, labels[1]: second,
                            "ratio": ratio, "target_met": met})

    rdma_note = ""
    if args.rdma_vm:
        print("bench: the rdma section, in the Soft-RoCE VM", file=sys.stderr, flush=True)
        figures, rdma_failures = bench_rdma.run(build, args.runs, args.timeout)
        if figures is None:
            rdma_note = f"\nrdma: not run: {rdma_failures}\n"
            failures.append(f"rdma: {rdma_failures}")
        else:
            failures.extend(rdma_failures)
            for kind, size, tool, verbs_tool in (("lat", bench_rdma.LAT_SIZE, "local_lat + remote_lat", "ib_send_lat"),
                                                 ("thr", bench_rdma.THR_SIZE, "local_thr + remote_thr", "ib_write_bw")):
                first, second = figures[kind]["volley"], figures[kind]["verbs"]
                ratio = statistics.median(first) / statistics.median(second) if first and second else None
                op, bound = RDMA_TARGETS[kind]
                met = None if ratio is None else (ratio <= bound if op == "<=" else ratio >= bound)
                target = f"{op} {bound} " + ("-" if met is None else "met" if met else "MISSED")
                unit = "us" if kind == "lat" else "MB/s"
                fmt = lambda v: (f"{statistics.median(v):.2f} {unit} ({min(v):.2f} - {max(v):.2f})" if v else "-")
                main_lines.append(f"| rdma (VM) | {tool} vs {verbs_tool} | {size} | {fmt(first)} | {fmt(second)} "
                                  f"| {'-' if ratio is None else f'{ratio:.3f}'} | {target} |")
                results.append({"transport": "rdma", "tool": f"{tool} vs {verbs_tool}", "kind": kind, "size": size,
                                "section": "rdma", "peers": None, "unit": unit,
                                "better": "lower" if kind == "lat" else "higher", "volley": first, "verbs": second,
                                "verbs_tool": verbs_tool, "ratio": ratio, "target_met": met})
            rdma_note = ("\nrdma (VM): inside qemu (TCG) with Soft-RoCE, volley over rdma:// against perftest on the "
                         "same device in the same VM run, alternating; the ratio is volley / verbs (latency: "
                         "remote_lat's average one-way against ib_send_lat's t_avg; throughput: MB/s against "
                         "ib_write_bw's average). The VM's absolute figures mean little.\n")

    sections = []
    if len(main_lines) > 2:
        sections.append("\n".join(main_lines))
    if len(mixed_lines) > 2:
        sections.append("mixed: volley local_thr (PULL, binds) fed by libzmq's zmq_remote_thr (PUSH, connects) "
                        "over tcp, against volley on both ends.\n\n" + "\n".join(mixed_lines))
    note = (f"\n{args.runs} runs each, the two columns alternating; latency is one-way (half the round trip), "
            f"lower is better; throughput higher is better (GB/s and MB/s are 10^9 and 10^6 bytes/s). "
            f"Ratio = first median / second median. The network latency tools use REQ/REP and the "
            f"inproc ones PAIR, in both libraries; throughput tools use PUSH/PULL. Every sender writes "
            f"each message's bytes before sending it, as applications do. pub_thr: one PUB, 1/4/16 SUBs "
            f"on threads of one process, messages delivered per second in all (high-water marks "
            f"unlimited: nothing dropped). router_thr: a ROUTER answering DEALER clients on threads, each "
            f"with 64 requests outstanding, requests answered per second in all.\n")
    note += rdma_note
    if args.libzmq_only:
        note += "\n--libzmq-only: volley's tools were not run.\n"
    if failures:
        note += "\nFailed runs, left out of the figures above:\n" + "".join(f"- {f}\n" for f in failures)
    table = "\n\n".join(sections) + "\n" + note
    (build / "results.json").write_text(json.dumps({
        "runs": args.runs, "libzmq_only": args.libzmq_only, "failures": failures,
        "date": began.strftime("%Y-%m-%d %H:%M %Z"), "machine": machine(),
        "labels": ["volley", "before" if args.ab else "libzmq"], "results": results}, indent=2) + "\n")
    plots, skipped = bench_plot.write_plots(build / "results.json")
    plot_list = (", ".join(f"[{p.name}]({p.name})" for p in plots) if plots
                 else f"none: {skipped}" if skipped else "none (nothing this run measured has one)")
    (build / "results.md").write_text(table + f"\nPlots, beside this file: {plot_list}.\n")
    print(table)
    print(f"saved {build / 'results.md'} and {build / 'results.json'}", file=sys.stderr)
    if skipped:
        print(f"bench: plots skipped: {skipped}", file=sys.stderr)
    else:
        print(f"plots: {', '.join(map(str, plots)) or 'none (nothing this run measured has one)'}", file=sys.stderr)
    if failures:
        sys.exit(f"bench: FAILED: {len(failures)} run(s) failed: " + "; ".join(failures))


if __name__ == "__main__":
    main()
