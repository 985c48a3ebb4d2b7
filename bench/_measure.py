"""Shared by bench_parquet.py and bench_sample.py: run a command in a subprocess, time it and
read its peak RSS; medians of alternating runs; the side-by-side table."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

# A small middleman starts the command and waits for it with wait4, whose ru_maxrss is the
# command's own (and its waited-for children's) high-water mark. A child forked straight from
# this process would start from this process's RSS, not from zero. ru_maxrss also counts the
# pages of a memory-mapped file that were touched (clean page cache the kernel can drop), so
# the middleman also polls /proc/PID/status every 5 ms for the largest RssAnon: the memory the
# process itself allocated (a poll can miss a short spike, so it is a lower bound).
_RSS_WRAPPER = """
import os, subprocess, sys, threading
proc = subprocess.Popen(sys.argv[1:])
anon = [0]
def poll():
    while proc.returncode is None:
        try:
            with open(f"/proc/{proc.pid}/status") as f:
                for line in f:
                    if line.startswith("RssAnon:"):
                        anon[0] = max(anon[0], int(line.split()[1]))
        except (OSError, ValueError):
            return
        threading.Event().wait(0.005)
threading.Thread(target=poll, daemon=True).start()
_, status, usage = os.wait4(proc.pid, 0)
proc.returncode = status
print(f"maxanon_kib={anon[0]}", file=sys.stderr)
print(f"maxrss_kib={usage.ru_maxrss}", file=sys.stderr)
sys.exit(os.waitstatus_to_exitcode(status))
"""


@dataclass
class Run:
    seconds: float
    rss_mib: float
    """ru_maxrss: peak resident set, mapped file pages included."""
    anon_mib: float
    """Peak RssAnon seen by polling: the process's own memory."""
    stdout: str


def run(cmd: Sequence[str]) -> Run:
    """Run ``cmd`` to completion; its wall time, peak RSS in MiB and stdout."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _RSS_WRAPPER, *cmd], capture_output=True)
    secs = time.perf_counter() - start
    err = done.stderr.decode(errors="replace")
    if done.returncode or "maxrss_kib=" not in err:
        raise SystemExit(f"{' '.join(cmd)} exited with {done.returncode}: {err[-800:]}")
    kib = int(err.rsplit("maxrss_kib=", 1)[1])
    anon = int(err.rsplit("maxanon_kib=", 1)[1].split()[0])
    return Run(secs, kib / 1024, anon / 1024, done.stdout.decode())


def alternate(repeat: int, cmds: dict[str, list[str]]) -> dict[str, list[Run]]:
    """Each command ``repeat`` times, in turns (a, b, a, b, ...), so drift hits all alike."""
    runs: dict[str, list[Run]] = {name: [] for name in cmds}
    for _ in range(repeat):
        for name, cmd in cmds.items():
            runs[name].append(run(cmd))
    for name, done in runs.items():
        times = ", ".join(f"{r.seconds:.2f}" for r in done)
        print(f"  {name:10} median {median_s(done):7.2f}s of {times}; {peaks(done)}")
    return runs


def median_s(runs: list[Run]) -> float:
    return statistics.median(r.seconds for r in runs)


def peak(runs: list[Run]) -> float:
    return max(r.rss_mib for r in runs)


def peak_anon(runs: list[Run]) -> float:
    return max(r.anon_mib for r in runs)


def peaks(runs: list[Run]) -> str:
    return f"peak RSS {peak(runs):.1f} MiB (anon {peak_anon(runs):.1f})"


def floor(repeat: int = 3) -> Run:
    """The start-up floor: ``costcalc tokens --text hi`` (Python, costcalc, o200k_base built)."""
    costcalc = str(Path(sys.executable).with_name("costcalc"))
    runs = [run([costcalc, "tokens", "--text", "hi"]) for _ in range(repeat)]
    best = min(runs, key=lambda r: r.seconds)
    print(f"  start-up floor (costcalc tokens --text hi): {best.seconds:.2f}s, {peaks(runs)}")
    return best


Row = tuple[str, bool]  # ("metric|costcalc|baseline|ratio|target", met)


def show(rows: list[Row]) -> None:
    head = ("metric", "costcalc", "baseline", "ratio", "target", "met?")
    table = [head, *[(*text.split("|"), "yes" if met else "NO") for text, met in rows]]
    widths = [max(len(r[i]) for r in table) for i in range(6)]
    for i, r in enumerate(table):
        print(" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
        if i == 0:
            print("-+-".join("-" * w for w in widths))
