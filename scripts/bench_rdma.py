#!/usr/bin/env python3
# SPDX-License-Identifier: MPL-2.0
"""scripts/bench --rdma-vm: volley's rdma:// perf tools next to perftest's
raw verbs on the same Soft-RoCE device, in one VM run (tests/rdma/run-in-vm.sh).

The VM's absolute figures mean little (qemu TCG, no KVM); the ratio does:
- latency, 64 B: volley local_lat/remote_lat (REQ/REP, one-way = half the
  round trip, average) against ib_send_lat's t_avg (RC send, one-way);
- throughput, 1 MiB: volley local_thr/remote_thr (PUSH/PULL) MB/s against
  ib_write_bw's average MB/s.
The runs alternate volley and verbs. On the host, run() boots the VM with
this script's --inside mode and reads back the figures it wrote.
"""
import json
import os
import pathlib
import re
import subprocess
import sys
import time

LAT_SIZE, THR_SIZE = 64, 1048576
LAT_COUNT, THR_COUNT = 5000, 300
VERBS_LAT_COUNT, VERBS_THR_COUNT = 2000, 200
ROOT = pathlib.Path(__file__).resolve().parent.parent


def _pair(server, client, timeout, settle=1.0):
    """Starts `server`, then `client` once the server had `settle` s; returns both outputs."""
    s = subprocess.Popen(server, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        time.sleep(settle)
        c = subprocess.run(client, capture_output=True, text=True, timeout=timeout)
        out_s, _ = s.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        s.kill()
        raise RuntimeError(f"{' '.join(client)}: no result within {timeout} s")
    if c.returncode != 0 or s.returncode != 0:
        raise RuntimeError(f"{' '.join(server)} / {' '.join(client)} failed: {out_s.strip()} {c.stdout.strip()} "
                           f"{c.stderr.strip()}")
    return out_s, c.stdout


def _number(pattern, text, what):
    m = re.search(pattern, text, re.M)
    if not m:
        raise RuntimeError(f"{what} printed no figure: {text.strip()}")
    return float(m.group(1))


def inside(build, runs, out, timeout):
    """In the guest: the figures, alternating volley and verbs, into `out` (JSON)."""
    perf = pathlib.Path(build) / "perf"
    addr, dev, gid = os.environ["RDMA_ADDR"], os.environ["RDMA_DEV"], os.environ["RDMA_GID_INDEX"]
    verbs = ["-d", dev, "-x", gid]
    fig = {"lat": {"volley": [], "verbs": []}, "thr": {"volley": [], "verbs": []}}
    failures = []
    port = 20000
    for run in range(runs):
        steps = [
            ("lat", "volley", lambda p: _number(r"average latency: ([0-9.]+)", _pair(
                [str(perf / "local_lat"), f"rdma://{addr}:{p}", str(LAT_SIZE), str(LAT_COUNT)],
                [str(perf / "remote_lat"), f"rdma://{addr}:{p}", str(LAT_SIZE), str(LAT_COUNT)], timeout)[1],
                "remote_lat")),
            ("lat", "verbs", lambda p: _number(r"^\s*%d\s+\d+\s+[0-9.]+\s+[0-9.]+\s+[0-9.]+\s+([0-9.]+)" % LAT_SIZE,
                _pair(["ib_send_lat", *verbs, "-p", str(p), "-s", str(LAT_SIZE), "-n", str(VERBS_LAT_COUNT)],
                      ["ib_send_lat", *verbs, "-p", str(p), "-s", str(LAT_SIZE), "-n", str(VERBS_LAT_COUNT), addr],
                      timeout)[1], "ib_send_lat")),
            ("thr", "volley", lambda p: _number(r"mean throughput: ([0-9.]+) \[Mb/s\]", _pair(
                [str(perf / "local_thr"), f"rdma://{addr}:{p}", str(THR_SIZE), str(THR_COUNT)],
                [str(perf / "remote_thr"), f"rdma://{addr}:{p}", str(THR_SIZE), str(THR_COUNT)], timeout)[0],
                "local_thr") / 8),
            ("thr", "verbs", lambda p: _number(r"^\s*%d\s+\d+\s+[0-9.]+\s+([0-9.]+)" % THR_SIZE,
                _pair(["ib_write_bw", *verbs, "-p", str(p), "-s", str(THR_SIZE), "-n", str(VERBS_THR_COUNT)],
                      ["ib_write_bw", *verbs, "-p", str(p), "-s", str(THR_SIZE), "-n", str(VERBS_THR_COUNT), addr],
                      timeout)[1], "ib_write_bw")),
        ]
        for kind, who, step in steps:
            port += 1
            try:
                value = step(port)
                fig[kind][who].append(value)
                print(f"rdma-vm run {run + 1}/{runs}: {kind} {who}: {value:.2f}", file=sys.stderr, flush=True)
            except RuntimeError as e:
                failures.append(f"run {run + 1}, rdma {kind} {who}: {e}")
                print(f"rdma-vm: run failed, left out: {e}", file=sys.stderr, flush=True)
    pathlib.Path(out).write_text(json.dumps({"figures": fig, "failures": failures}) + "\n")


def run(build, runs, timeout):
    """On the host: runs inside() in the VM. Returns (figures, failures), or None with the reason
    when the VM cannot run here."""
    runner = ROOT / "tests" / "rdma" / "run-in-vm.sh"
    check = subprocess.run([str(runner), "--check"], capture_output=True, text=True)
    if check.returncode != 0:
        return None, (check.stdout + check.stderr).strip() or f"run-in-vm.sh --check exit {check.returncode}"
    build = pathlib.Path(build).resolve()
    out = build / "rdma_vm.json"
    out.unlink(missing_ok=True)
    cmd = (f"/usr/bin/python3 {ROOT / 'scripts' / 'bench_rdma.py'} --inside {build} {runs} {out} {timeout}")
    subprocess.run([str(runner), "--rw", str(build), "--timeout", str(timeout * runs * 4 + 120), "--", cmd],
                   check=False)
    if not out.exists():
        return None, "the VM run wrote no figures (see its output above)"
    data = json.loads(out.read_text())
    return data["figures"], data["failures"]


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--inside":
        inside(sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]))
    else:
        sys.exit(__doc__)
