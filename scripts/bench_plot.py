#!/usr/bin/env python3
# SPDX-License-Identifier: MPL-2.0
"""Draws the PNG plots of a scripts/bench.py run from its results.json, into
the same folder: latency.png and throughput.png (against message size, one
colour per transport, the first library solid and the second dashed, a
marker at each measured size, min-max as error bars when a size ran more than
once; log scales on both axes) and fanout.png (pub_thr and router_thr
against the number of peers), each only when the run measured its rows.

Throughput is drawn in messages/s at every size, the unit of the table and
of results.json; bytes/s is messages/s times the size, and the vertical gap
between the two libraries, their ratio, is the same in either unit.

matplotlib comes from Debian (python3-matplotlib), so it is there for
/usr/bin/python3 but not for a pyenv or virtualenv python3: when this
interpreter lacks it, the plots are drawn by running this file under
/usr/bin/python3. Plotting never fails the bench: write_plots() returns why
it drew nothing instead of raising.

Alone, it redraws the plots of a saved run:
    /usr/bin/python3 scripts/bench_plot.py build/bench/results.json
"""
import importlib.util
import json
import math
import os
import pathlib
import statistics
import subprocess
import sys

SYSTEM_PYTHON = "/usr/bin/python3"
NO_PLOTS = "bench_plot: no plots: "
PLOTS = ("latency.png", "throughput.png", "fanout.png")
TRANSPORTS = ("inproc", "ipc", "tcp")   # mixed (volley against libzmq in one pair) is left out
COLOURS = {"inproc": "tab:blue", "ipc": "tab:orange", "tcp": "tab:green"}
# First label of the comparison (volley) solid with filled markers, second (libzmq, or "before") dashed, hollow.
STYLES = ({"linestyle": "-", "markerfacecolor": None}, {"linestyle": "--", "markerfacecolor": "white"})


def write_plots(results_path):
    """Draws the plots of `results_path` beside it and returns (paths drawn, None),
    or ([], why nothing was drawn). Removes first the plots of an earlier run,
    so a plot this run has no rows for is not taken for one of this run."""
    results_path = pathlib.Path(results_path)
    for name in PLOTS:
        (results_path.parent / name).unlink(missing_ok=True)
    if importlib.util.find_spec("matplotlib") is None:
        if os.path.realpath(sys.executable) != os.path.realpath(SYSTEM_PYTHON) and os.path.exists(SYSTEM_PYTHON):
            return plot_with_system_python(results_path)
        return [], f"no matplotlib for {sys.executable}: install Debian's python3-matplotlib (scripts/setup)"
    try:
        return draw(results_path), None
    except Exception as e:  # a plot is a by-product: report, never fail the run
        return [], f"plotting failed: {type(e).__name__}: {e}"


def plot_with_system_python(results_path):
    # Without PYTHONPATH and PYTHONHOME, which may point at the other interpreter's packages.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    try:
        out = subprocess.run([SYSTEM_PYTHON, __file__, str(results_path)], capture_output=True, text=True,
                             timeout=120, env=env, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        return [], f"{SYSTEM_PYTHON} {__file__} did not run: {e}"
    if out.returncode != 0:
        why = (out.stderr.strip().splitlines() or [f"exit {out.returncode}"])[-1].removeprefix(NO_PLOTS)
        return [], f"{why} (under {SYSTEM_PYTHON}, as {sys.executable} has no matplotlib)"
    return [pathlib.Path(line) for line in out.stdout.splitlines() if line], None


def draw(results_path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = json.loads(results_path.read_text())
    rows = data["results"]
    labels = data.get("labels", ["volley", "libzmq"])
    # --libzmq-only leaves volley's lists empty: the title names what was measured.
    title = " vs ".join(label for label in labels if any(r.get(label) for r in rows)) or " vs ".join(labels)
    folder = results_path.parent
    drawn = []
    for kind, name, what, ylabel in (
            ("lat", "latency.png", "one-way latency (REQ/REP; inproc: PAIR)", "one-way latency [us]"),
            ("thr", "throughput.png", "throughput (PUSH/PULL) in messages/s", "throughput [msg/s]")):
        fig, ax = plt.subplots(figsize=(10, 6.2))
        if not lines(ax, rows, labels, kind, "size"):
            plt.close(fig)
            continue
        axes(ax, [r["size"] for r in plotted(rows, kind)], "message size [bytes]", ylabel, size_text)
        ax.set_title(f"{title}: {what}, by message size\n{machine_text(data)}", fontsize=10)
        fig.tight_layout()
        fig.savefig(folder / name, dpi=110)
        plt.close(fig)
        drawn.append(folder / name)

    fans = [(section, what, xlabel, ylabel) for section, what, xlabel, ylabel in (
        ("pub", "pub_thr: one PUB, N SUBs", "subscribers", "messages delivered, all SUBs [msg/s]"),
        ("router", "router_thr: one ROUTER, N DEALERs", "clients", "requests answered [msg/s]"))
        if any(r["kind"] == "fan" and r["section"] == section for r in rows)]
    if fans:
        fig, panes = plt.subplots(1, len(fans), figsize=(6.5 * len(fans) + 1, 5.6), squeeze=False)
        for ax, (section, what, xlabel, ylabel) in zip(panes[0], fans):
            lines(ax, rows, labels, "fan", "peers", section)
            axes(ax, [r["peers"] for r in plotted(rows, "fan", section)], xlabel, ylabel, lambda n: f"{n:g}")
            sizes = sorted({r["size"] for r in rows if r["kind"] == "fan" and r["section"] == section})
            ax.set_title(f"{what}, {', '.join(size_text(s) for s in sizes)} messages", fontsize=10)
        fig.suptitle(f"{title}: fan-out throughput by number of peers\n{machine_text(data)}",
                     fontsize=10)
        fig.tight_layout()
        fig.savefig(folder / "fanout.png", dpi=110)
        plt.close(fig)
        drawn.append(folder / "fanout.png")
    return drawn


def plotted(rows, kind, section=None):
    """The rows of one plot (or pane): its kind and section, transports in TRANSPORTS."""
    return [r for r in rows if r["kind"] == kind and r["transport"] in TRANSPORTS
            and (section is None or r["section"] == section)]


def lines(ax, rows, labels, kind, x_key, section=None):
    """One line per transport and label, median at each x, min-max bars, and the
    legend right of the plot; returns the legend's handles, empty when there was
    nothing to draw. Where there are bars, the two labels' points at one x are
    drawn a hair apart (1% of the axis each way), so that their bars do not
    hide each other."""
    from matplotlib.lines import Line2D

    rows = plotted(rows, kind, section)
    xs = [r[x_key] for r in rows]
    bars = any(len(r.get(label) or []) > 1 for r in rows for label in labels)
    nudge = 2 ** (0.01 * math.log2(max(xs) / min(xs))) if xs and bars else 1
    transports, used = [], []
    for transport in TRANSPORTS:
        for label, style, shift in zip(labels, STYLES, (1 / nudge, nudge)):
            points = sorted((r[x_key], statistics.median(r[label]), min(r[label]), max(r[label])) for r in rows
                            if r["transport"] == transport and r.get(label))
            if not points:
                continue
            x, med, lo, hi = zip(*points)
            x = [v * shift for v in x]
            spread = [[m - l for m, l in zip(med, lo)], [h - m for h, m in zip(hi, med)]]
            ax.errorbar(x, med, yerr=spread if any(map(any, spread)) else None, color=COLOURS[transport],
                        marker="o", markersize=5, linewidth=1.6, capsize=3, **style)
            transports += [transport] if transport not in transports else []
            used += [(label, style)] if (label, style) not in used else []
    handles = [Line2D([], [], color=COLOURS[t], linewidth=2.5, label=t) for t in transports]
    handles += [Line2D([], [], color="0.35", marker="o", markersize=5, label=label, **style) for label, style in used]
    if handles:
        ax.legend(handles=handles, fontsize=9, loc="upper left", bbox_to_anchor=(1.01, 1), borderaxespad=0)
    return handles


def axes(ax, xs, xlabel, ylabel, x_text):
    """Log scales on both axes; x ticks at the measured points, y at 1-2-5 steps
    (every digit within about a decade, decades alone over a wide range)."""
    from matplotlib import ticker

    ax.set_xscale("log")
    ax.set_yscale("log")
    xs = sorted(set(xs))
    ax.set_xticks(xs, [x_text(x) for x in xs])
    ax.xaxis.set_minor_locator(ticker.NullLocator())
    ax.margins(x=0.08)
    low, high = ax.get_ylim()
    decades = math.log10(high / low)
    subs = tuple(range(1, 10)) if decades <= 1.2 else (1, 2, 5) if decades <= 4 else (1,)
    ax.yaxis.set_major_locator(ticker.LogLocator(subs=subs))
    ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: number_text(v)))
    ax.yaxis.set_minor_formatter(ticker.NullFormatter())
    ax.grid(True, which="major", alpha=0.35)
    ax.grid(True, which="minor", axis="y", alpha=0.1)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)


def size_text(n):
    for unit, scale in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale and n % scale == 0:
            return f"{n // scale} {unit}"
    return f"{n:g} B"


def number_text(v):
    for prefix, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if v >= scale:
            return f"{v / scale:g}{prefix}"
    return f"{v:g}"


def machine_text(data):
    """One line for a title: the machine, the date and the runs, e.g.
    "vm: AMD EPYC, 2 CPUs, Linux 6.1 x86_64; 2025-01-31 14:05 UTC; median of 5 runs, bars min-max"."""
    m = data.get("machine") or {}
    where = (f"{m.get('host', '?')}: {m.get('cpu', '?')}, {m.get('cpus', '?')} CPUs, {m.get('os', '?')}"
             if m else "machine not recorded")
    runs = data.get("runs", 1)
    how = f"median of {runs} runs, bars min-max" if runs > 1 else "1 run each (no spread shown)"
    return f"{where}; {data.get('date', 'date not recorded')}; {how}"


def main():
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} RESULTS_JSON")
    paths, why = write_plots(sys.argv[1])
    if why:
        sys.exit(NO_PLOTS + why)
    for path in paths:
        print(path)


if __name__ == "__main__":
    main()
