"""Shared by the benchmarks: run a command in a subprocess, time it and read its peak memory
(the whole process tree's); alternating rounds and the median, min and max of their per-round
ratios (never the best round); the stack's floors; the side-by-side table and the JSON report
rows (``--report FILE``) that bench/run_all.py gathers."""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# A small middleman starts the command and waits for it with wait4, whose ru_maxrss is the
# command's own (and its waited-for children's) high-water mark. A child forked straight from
# this process would start from this process's RSS, not from zero. ru_maxrss also counts the
# pages of a memory-mapped file that were touched (clean page cache the kernel can drop), and
# it is one process's figure, not the tree's: so the middleman also polls, every 5 ms, the
# whole process tree under the command (/proc/PID/task/*/children, recursively) and keeps
# the largest RssAnon of the command itself and the largest SUM of RssAnon over the tree at
# one moment (workers included): the memory the processes themselves allocated. A poll can
# miss a short spike, so both are lower bounds.
_RSS_WRAPPER = """
import os, subprocess, sys, threading
proc = subprocess.Popen(sys.argv[1:])
anon, tree = [0], [0]
def rss_anon(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0
def descendants(pid):
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except (OSError, ValueError):
            pass
    return found
def poll():
    while proc.returncode is None:
        sizes = [rss_anon(p) for p in descendants(proc.pid)]
        if sizes:
            anon[0] = max(anon[0], sizes[0])
            tree[0] = max(tree[0], sum(sizes))
        threading.Event().wait(0.005)
threading.Thread(target=poll, daemon=True).start()
_, status, usage = os.wait4(proc.pid, 0)
proc.returncode = status
print(f"maxtree_kib={tree[0]}", file=sys.stderr)
print(f"maxanon_kib={anon[0]}", file=sys.stderr)
print(f"cpu_s={usage.ru_utime + usage.ru_stime}", file=sys.stderr)
print(f"maxrss_kib={usage.ru_maxrss}", file=sys.stderr)
sys.exit(os.waitstatus_to_exitcode(status))
"""


@dataclass
class Run:
    seconds: float
    rss_mib: float
    """ru_maxrss: peak resident set of the largest process, mapped file pages included."""
    anon_mib: float
    """Peak RssAnon of the command's own process, seen by polling."""
    stdout: str
    tree_mib: float = 0.0
    """Peak sum of RssAnon over the command's whole process tree at one poll (workers too)."""
    cpu_s: float = 0.0
    """CPU seconds, user + system, of the command and the children it waited for (wait4's
    figures: the middleman's own polling is not in them)."""


def run(cmd: Sequence[str], ok: Sequence[int] = (0,)) -> Run:
    """Run ``cmd`` to completion (exit status in ``ok``); its wall time, peak memory and
    stdout."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _RSS_WRAPPER, *cmd], capture_output=True)
    secs = time.perf_counter() - start
    err = done.stderr.decode(errors="replace")
    if done.returncode not in ok or "maxrss_kib=" not in err:
        raise SystemExit(f"{' '.join(cmd)} exited with {done.returncode}: {err[-800:]}")
    kib = int(err.rsplit("maxrss_kib=", 1)[1])
    anon = int(err.rsplit("maxanon_kib=", 1)[1].split()[0])
    tree = int(err.rsplit("maxtree_kib=", 1)[1].split()[0])
    cpu = float(err.rsplit("cpu_s=", 1)[1].split()[0])  # the command's, not the middleman's
    return Run(secs, kib / 1024, anon / 1024, done.stdout.decode(), tree / 1024, cpu)


def alternate(repeat: int, cmds: dict[str, list[str]]) -> dict[str, list[Run]]:
    """Each command ``repeat`` times, in turns, the order reversed every other round (a, b;
    b, a; ...), so drift and cache warmth hit all alike."""
    runs: dict[str, list[Run]] = {name: [] for name in cmds}
    names = list(cmds)
    for i in range(repeat):
        for name in names if i % 2 == 0 else names[::-1]:
            runs[name].append(run(cmds[name]))
    for name, done in runs.items():
        times = ", ".join(f"{r.seconds:.2f}" for r in done)
        print(f"  {name:10} median {median_s(done):7.2f}s of {times}; {peaks(done)}")
    return runs


def ratios(costcalc: Sequence[float], baseline: Sequence[float]) -> list[float]:
    """Per-round speed ratios, baseline seconds / costcalc seconds (>= 1: costcalc faster)."""
    return [b / a for a, b in zip(costcalc, baseline, strict=True)]


def spread(values: Sequence[float]) -> tuple[float, float, float]:
    """(median, min, max): what every ratio is reported as, never the best round."""
    return statistics.median(values), min(values), max(values)


def median_s(runs: list[Run]) -> float:
    return statistics.median(r.seconds for r in runs)


def peak(runs: list[Run]) -> float:
    return max(r.rss_mib for r in runs)


def peak_anon(runs: list[Run]) -> float:
    return max(r.anon_mib for r in runs)


def peak_tree(runs: list[Run]) -> float:
    """The largest whole-tree RssAnon sum of ``runs``."""
    return max(r.tree_mib for r in runs)


def peaks(runs: list[Run]) -> str:
    return (
        f"peak RSS {peak(runs):.1f} MiB (anon {peak_anon(runs):.1f}, "
        f"tree anon {peak_tree(runs):.1f})"
    )


def floor(repeat: int = 3) -> Run:
    """The start-up floor: ``costcalc tokens --text hi`` (Python, costcalc, o200k_base built);
    the median run."""
    costcalc = str(Path(sys.executable).with_name("costcalc"))
    return floor_of("costcalc tokens --text hi", [costcalc, "tokens", "--text", "hi"], repeat)


def floor_of(label: str, cmd: Sequence[str], repeat: int = 3) -> Run:
    """A floor of the stack (``python -c pass``, ``python -c "import tiktoken"``): the run of
    median wall time of ``repeat``, printed."""
    runs = sorted((run(cmd) for _ in range(repeat)), key=lambda r: r.seconds)
    mid = runs[len(runs) // 2]
    print(f"  floor ({label}): {mid.seconds:.3f}s wall, {mid.cpu_s:.3f}s CPU, {peaks(runs)}")
    return mid


def python_floor(repeat: int = 3) -> Run:
    """The floor of every Python command: ``python -c pass``."""
    return floor_of("python -c pass", [sys.executable, "-c", "pass"], repeat)


Row = tuple[str, bool]  # ("metric|costcalc|baseline|ratio|target", met)
Result = dict[str, Any]
"""One report row (the contract's JSON): bench, metric, costcalc, baseline, ratio, min, max,
target, met. Memory rows: ratio may be None, costcalc holds the MiB figure."""


def result(
    bench: str,
    metric: str,
    costcalc: str,
    baseline: str,
    ratio: float | Sequence[float] | None,
    target: str,
    met: bool,
) -> Result:
    """A report row; ``ratio`` a single figure or the per-round ratios (median, min, max)."""
    if ratio is None or isinstance(ratio, float | int):
        mid, low, high = (None if ratio is None else float(ratio)), None, None
    else:
        mid, low, high = spread(ratio)
    return {
        "bench": bench, "metric": metric, "costcalc": costcalc, "baseline": baseline,
        "ratio": _round(mid), "min": _round(low), "max": _round(high),
        "target": target, "met": bool(met),
    }  # fmt: skip


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def from_row(bench: str, row: Row) -> Result:
    """A ``Row`` of text ("metric|costcalc|baseline|ratio|target") as a report row."""
    metric, costcalc, baseline, ratio, target = row[0].split("|")
    try:
        value: float | None = float(ratio.strip().rstrip("x").replace(",", ""))
    except ValueError:
        value = None
    return result(bench, metric, costcalc, baseline, value, target, row[1])


def show(rows: Sequence[Row | Result], bench: str = "") -> None:
    """The side-by-side table (the same columns as bench/run_all.py's)."""
    table(rows if not rows or isinstance(rows[0], dict) else [from_row(bench, r) for r in rows])  # type: ignore[arg-type]


def table(results: Sequence[Result], with_bench: bool = False) -> None:
    head = ("bench",) * with_bench + ("metric", "costcalc", "baseline", "ratio", "min-max")
    head += ("target", "met?")
    body = []
    for r in results:
        span = "-" if r["min"] is None else f"{r['min']:.2f}-{r['max']:.2f}"
        ratio = "-" if r["ratio"] is None else f"{r['ratio']:.2f}"
        cells = (r["bench"],) * with_bench + (r["metric"], r["costcalc"], r["baseline"], ratio)
        body.append((*cells, span, r["target"], "yes" if r["met"] else "NO"))
    lines = [head, *body]
    widths = [max(len(str(r[i])) for r in lines) for i in range(len(head))]
    for i, r in enumerate(lines):
        print(" | ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
        if i == 0:
            print("-+-".join("-" * w for w in widths))


def options(ap: argparse.ArgumentParser) -> None:
    """``--report FILE`` and ``--quick``, which every bench takes (bench/run_all.py)."""
    ap.add_argument("--report", metavar="FILE", help="also write the result rows as JSON")
    ap.add_argument("--quick", action="store_true", help="small sizes, 2-3 rounds: a smoke test")


def finish(bench: str, rows: Sequence[Row | Result], report: str | None) -> None:
    """Print the table and, with ``--report FILE``, write the rows there as JSON."""
    results = [r if isinstance(r, dict) else from_row(bench, r) for r in rows]
    print()
    table(results)
    if report:
        Path(report).write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")


def installed() -> str:
    """How the costcalc these benchmarks run is installed, for the report's first line. An
    editable install, or one run with PYTHONDONTWRITEBYTECODE set, compiles costcalc's
    sources at every start (about 50 ms on this machine's cores), which a user's
    ``pip install costcalc`` never does: start-up rows measured so are slower than users see.
    bench/run_all.py runs them from a venv of its own, installed from this tree as users
    install it."""
    from importlib import metadata

    try:
        dist = metadata.distribution("costcalc")
    except metadata.PackageNotFoundError:
        return "costcalc not installed next to this Python"
    direct = json.loads(dist.read_text("direct_url.json") or "{}")
    editable = direct.get("dir_info", {}).get("editable", False)
    package = Path(str(dist.locate_file("costcalc")))
    pyc = package / "__pycache__" / f"cli.{sys.implementation.cache_tag}.pyc"
    how = "an editable install" if editable else "installed from a wheel"
    if pyc.exists():
        how += ", bytecode compiled"
    else:
        how += ", WITHOUT compiled bytecode: start-up rows are slower than users see"
    return f"costcalc {dist.version}, {how}"


def machine() -> str:
    """The date/machine line every report starts with, and how costcalc is installed."""
    info = Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").exists() else []
    cpu = next((ln.split(":")[1].strip() for ln in info if ln.startswith("model name")), "?")
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (
        f"{time.strftime('%Y-%m-%d %H:%M %Z')}; {os.cpu_count()} CPUs ({usable} usable), {cpu}; "
        f"python {platform.python_version()} on {platform.platform()}; {installed()}"
    )
