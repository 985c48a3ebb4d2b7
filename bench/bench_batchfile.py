"""Benchmark: `costcalc batch build` on 1M input rows against a raw json.dumps loop.

Both read the same CSV (1,000,000 rows, generated once under bench/data/, git-ignored) and
write the same OpenAI batch lines; costcalc also splits them into files within the
provider's limits, hashes each part, keeps a sample for the quote and writes a manifest.
The two sides alternate for ``--rounds`` rounds (which goes first alternates too), each a
child process; printed: rows per second (medians), the median of the per-round throughput
ratios with min and max (target >= 0.7x of the raw loop), the floor (``python -c pass``) and
each side's peak memory (the whole process tree's RssAnon, bench/_measure.py).

    python bench/bench_batchfile.py [--rows 1000000] [--rounds 5] [--quick] [--report FILE]
"""

from __future__ import annotations

import argparse
import csv
import random
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from _measure import Result, alternate, finish, machine, options, python_floor, result, spread

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


BENCH = "bench_batchfile.py"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds (5)")
    options(parser)
    args = parser.parse_args()
    if args.quick:
        args.rows, args.rounds = 5_000, 2
    print(machine())
    src = make_csv(args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        raw_out, ours_out = Path(tmp, "raw.jsonl"), Path(tmp, "out")
        cmds = {
            "raw": [sys.executable, "-c", RAW, str(src), str(raw_out)],
            "costcalc": [sys.executable, "-c", COSTCALC, str(src), str(ours_out), TEMPLATE],
        }
        python_floor()
        alternate(1, {"raw": cmds["raw"]})  # warm the page cache; not counted
        print(f"{args.rows:,} rows, {args.rounds} alternating rounds, each a child process:")
        runs = alternate(args.rounds, cmds)
        parts = sorted(ours_out.glob("*.jsonl"))
        lines = sum(1 for p in parts for _ in p.open("rb"))
        raw_bytes = raw_out.stat().st_size
        ours_bytes = sum(p.stat().st_size for p in parts)
        shutil.rmtree(ours_out)
    raw_s = statistics.median(r.seconds for r in runs["raw"])
    ours_s = statistics.median(r.seconds for r in runs["costcalc"])
    ratios = [a.seconds / b.seconds for a, b in zip(runs["raw"], runs["costcalc"], strict=True)]
    ratio, low, high = spread(ratios)
    print(f"input {args.rows:,} rows, {src.stat().st_size / 2**20:,.0f} MiB")
    print(f"costcalc wrote {lines:,} lines in {len(parts)} part(s), {ours_bytes:,} bytes")
    print(f"the raw loop wrote {raw_bytes:,} bytes")
    verdict = "met" if ratio >= 0.7 else "NOT met"
    print(
        f"throughput ratio costcalc / raw: median {ratio:.2f}x ({low:.2f}-{high:.2f}) "
        f"(target >= 0.70x: {verdict})"
    )
    tree = {k: max(r.tree_mib for r in v) for k, v in runs.items()}
    rows: list[Result] = [
        result(BENCH, f"batch build {args.rows:,} rows: speed vs raw json.dumps loop",
               f"{args.rows / ours_s:,.0f} rows/s", f"{args.rows / raw_s:,.0f} rows/s", ratios,
               ">= 0.70x", ratio >= 0.7),
        result(BENCH, f"batch build {args.rows:,} rows: peak RssAnon (process tree)",
               f"{tree['costcalc']:.1f} MiB", f"{tree['raw']:.1f} MiB", None, "(report)", True),
        result(BENCH, "batch build: every row written", f"{lines:,} lines", f"{args.rows:,} rows",
               None, "==", lines == args.rows),
    ]  # fmt: skip
    finish(BENCH, rows, args.report)


if __name__ == "__main__":
    main()
