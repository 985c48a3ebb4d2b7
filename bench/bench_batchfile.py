"""Benchmark: `costcalc batch build` on 1M input rows against a raw json.dumps loop.

Both read the same CSV (1,000,000 rows, generated once under bench/data/, git-ignored) and
write the same OpenAI batch lines; costcalc also splits them into files within the
provider's limits, hashes each part, keeps a sample for the quote and writes a manifest.
Printed side by side in one run: rows per second, the throughput ratio (target >= 0.7x of
the raw loop) and peak memory of each, measured in a child process.

    python bench/bench_batchfile.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
MODEL = "gpt-4o-mini"
TEMPLATE = "Summarise this ticket in one line: {body}"

WORDS = [
    *("invoice", "refund", "password", "reset", "export", "dashboard", "chart", "dark"),
    *("mode", "login", "error", "timeout", "payment", "card", "billing", "account"),
    *("upgrade", "plan", "team", "member", "invite", "permission", "report", "latency"),
    *("outage", "email", "spam", "folder", "mobile", "app", "crash", "update"),
    *("version", "sync", "calendar"),
]


def make_csv(rows: int) -> Path:
    path = DATA / f"tickets_{rows}.csv"
    if path.exists():
        return path
    DATA.mkdir(parents=True, exist_ok=True)
    rng = random.Random(42)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "body"])
        for i in range(1, rows + 1):
            n = int(rng.lognormvariate(3.3, 0.6))
            w.writerow(
                [i, " ".join(rng.choice(WORDS) for _ in range(max(3, n))).capitalize() + "."]
            )
    tmp.rename(path)
    return path


RAW = """
import csv, json, sys
src, out = sys.argv[1], sys.argv[2]
with open(src, newline="", encoding="utf-8") as f, open(out, "w", encoding="utf-8") as o:
    r = csv.reader(f)
    header = next(r)
    col = header.index("body")
    for n, row in enumerate(r, start=1):
        line = {"custom_id": f"row-{n}", "method": "POST", "url": "/v1/chat/completions",
                "body": {"model": "gpt-4o-mini", "messages": [{"role": "user",
                "content": "Summarise this ticket in one line: " + row[col]}], "max_tokens": 1024}}
        o.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\\n")
"""

COSTCALC = """
import sys
from costcalc.batch.build import build
build(sys.argv[1], "gpt-4o-mini", sys.argv[2], template=sys.argv[3], force=True)
"""


def child(code: str, *args: str) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of a child Python process running ``code``."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code, *args])
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        sys.exit(f"child failed with status {status}")
    return wall, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    src = make_csv(args.rows)
    size = src.stat().st_size
    with tempfile.TemporaryDirectory() as tmp:
        child(RAW, str(src), os.path.join(tmp, "warm.jsonl"))  # warm the page cache
        raw_s, raw_rss = child(RAW, str(src), os.path.join(tmp, "raw.jsonl"))
        ours_s, ours_rss = child(COSTCALC, str(src), os.path.join(tmp, "out"), TEMPLATE)
        parts = sorted(Path(tmp, "out").glob("*.jsonl"))
        lines = sum(1 for p in parts for _ in p.open("rb"))
        raw_bytes = Path(tmp, "raw.jsonl").stat().st_size
        ours_bytes = sum(p.stat().st_size for p in parts)
    mib = size / 2**20
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs")
    print(f"input {args.rows:,} rows, {mib:,.0f} MiB")
    print(f"{'':<34}{'seconds':>9}{'rows/s':>12}{'peak RSS':>11}")
    for label, secs, rss in (
        ("raw json.dumps loop (one file)", raw_s, raw_rss),
        ("costcalc batch build", ours_s, ours_rss),
    ):
        print(f"{label:<34}{secs:>9.2f}{args.rows / secs:>12,.0f}{rss:>8.0f} MiB")
    ratio = raw_s / ours_s
    print(f"costcalc wrote {lines:,} lines in {len(parts)} part(s), {ours_bytes:,} bytes")
    print(f"the raw loop wrote {raw_bytes:,} bytes")
    verdict = "met" if ratio >= 0.7 else "NOT met"
    print(f"throughput ratio costcalc / raw: {ratio:.2f}x (target >= 0.70x: {verdict})")


if __name__ == "__main__":
    main()
