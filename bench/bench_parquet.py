"""Benchmark ``costcalc tokens FILE.parquet --column text`` against a raw pyarrow + tiktoken loop.

Both sides run as subprocesses on one core, in alternating rounds (medians reported), over
the same Parquet file of ``--rows`` short texts (default 10,000,000; generated once into
bench/data/, git-ignored):

- costcalc: ``costcalc tokens FILE --column text --format json`` (jobs=1);
- raw: ``ParquetFile.iter_batches(columns=["text"])`` and ``encode_ordinary`` of every value,
  the encoding built by tiktoken's own loader from the o200k_base file costcalc ships (no
  ``import costcalc`` on that side; ``tiktoken.get_encoding`` would go to the network).

Prints rows/s, the speed ratio (target >= 0.9x), each side's peak RSS (target <= 300 MiB for
costcalc) and checks that the totals are equal. Both sides' memory grows with the file when
the file is opened with pyarrow's default ``pre_buffer=True`` (measured: about 550 MiB at
10,000,000 rows, 200 MiB at 2,000,000, for the bare read loop); ``pre_buffer=False`` or one row
group at a time keeps it near 120 MiB at either size. Needs ``pip install "costcalc[parquet]"``.

Run from the repository root::

    python bench/bench_parquet.py [--rows 10000000] [--repeat 5] [--quick] [--report FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

from _measure import Row, Run, floor, machine, median_s, peak, peak_anon, run, show

DATA = Path(__file__).resolve().parent / "data"
GEN_VERSION = 1
TEXT = (
    "the of and to in is was for on that with as by it at from this be are or an have not "
    "which but were his her they all their one has been had would when there more can if "
    "naïve café 東京 données résumé 123 4.5 {json: true} <tag> — ¿qué? ok Привет мир 🚀"
)
WORDS = TEXT.split()

# The baseline imports nothing of costcalc: tiktoken's own loader reads the encoding file
# costcalc ships (a path given on the command line), with o200k_base's pattern and special
# tokens copied from tiktoken_ext.openai_public (tiktoken.get_encoding would go to the network).
RAW = r"""
import sys
import pyarrow.parquet as pq
import tiktoken
from tiktoken.load import load_tiktoken_bpe
pattern = "|".join([
    r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
    r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
    r"\p{N}{1,3}",
    r" ?[^\s\p{L}\p{N}]+[\r\n/]*",
    r"\s*[\r\n]+",
    r"\s+(?!\S)",
    r"\s+",
])
enc = tiktoken.Encoding(
    "o200k_base", pat_str=pattern, mergeable_ranks=load_tiktoken_bpe(sys.argv[2]),
    special_tokens={"<|endoftext|>": 199999, "<|endofprompt|>": 200018},
)
encode = enc.encode_ordinary
total = rows = 0
pf = pq.ParquetFile(sys.argv[1], pre_buffer=False)
for batch in pf.iter_batches(batch_size=65536, columns=["text"]):
    for text in batch.column(0).to_pylist():
        rows += 1
        if text is not None:
            total += len(encode(text))
print(total, rows)
assert "costcalc" not in sys.modules
"""
ENCODING_FILE = (
    Path(__file__).resolve().parent.parent / "costcalc" / "encodings" / "o200k_base.tiktoken"
)


def corpus(rows: int) -> Path:
    """The Parquet file of ``rows`` short texts (3-40 words), built once per (rows, version)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = DATA / f"short-{rows}-v{GEN_VERSION}.parquet"
    if path.exists():
        print(f"  using cached {path.name} ({path.stat().st_size / 2**20:,.0f} MiB)")
        return path
    DATA.mkdir(exist_ok=True)
    print(f"  generating {path.name} ...", end=" ", flush=True)
    start, tmp = time.perf_counter(), path.with_suffix(".tmp")
    rng = random.Random(14)
    schema = pa.schema([("id", pa.int64()), ("text", pa.string())])
    with pq.ParquetWriter(tmp, schema) as writer:
        for first in range(0, rows, 100_000):
            n = min(100_000, rows - first)
            texts = [" ".join(rng.choices(WORDS, k=rng.randint(3, 40))) for _ in range(n)]
            ids = list(range(first, first + n))
            writer.write_table(pa.table({"id": ids, "text": texts}, schema=schema))
    tmp.replace(path)
    secs = time.perf_counter() - start
    print(f"{path.stat().st_size / 2**20:,.0f} MiB in {secs:.0f}s")
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000, help="rows (10,000,000)")
    ap.add_argument("--repeat", type=int, default=5, help="alternating rounds (5)")
    ap.add_argument("--quick", action="store_true", help="200,000 rows, 2 rounds")
    ap.add_argument("--report", type=Path, help="also write the result rows here (JSON)")
    args = ap.parse_args()
    if args.quick:
        args.rows, args.repeat = 200_000, 2
    began = time.perf_counter()
    print(machine())
    path = corpus(args.rows)
    costcalc = str(Path(sys.executable).with_name("costcalc"))
    # one core each: the counts are single-threaded, this keeps the OS from spreading them
    pin = (
        ["taskset", "-c", "0"]
        if sys.platform == "linux" and os.path.exists("/usr/bin/taskset")
        else []
    )
    cmds = {
        "raw": [*pin, sys.executable, "-c", RAW, str(path), str(ENCODING_FILE)],
        "costcalc": [*pin, costcalc, "tokens", str(path), "--column", "text", "--format", "json"],
    }
    print(f"\n{args.rows:,} rows, {args.repeat} alternating rounds, each a subprocess:")
    start_up = floor()
    runs: dict[str, list[Run]] = {"raw": [], "costcalc": []}
    ratios = []
    for r in range(args.repeat):  # which side goes first alternates
        order = ["raw", "costcalc"] if r % 2 == 0 else ["costcalc", "raw"]
        for side in order:
            runs[side].append(run(cmds[side]))
        t_raw, t_cc = runs["raw"][-1].seconds, runs["costcalc"][-1].seconds
        ratios.append(t_raw / t_cc)
        print(f"  round {r + 1}: raw {t_raw:.2f}s, costcalc {t_cc:.2f}s: {t_raw / t_cc:.3f}x")
    raw_tokens, raw_rows = map(int, runs["raw"][-1].stdout.split())
    out = json.loads(runs["costcalc"][-1].stdout)
    t_raw, t_cc = median_s(runs["raw"]), median_s(runs["costcalc"])
    rss_raw, rss_cc = peak(runs["raw"]), peak(runs["costcalc"])
    anon_raw, anon_cc = peak_anon(runs["raw"]), peak_anon(runs["costcalc"])
    same = out["tokens"] == raw_tokens and out["requests"] == raw_rows
    print(f"  raw tokens {raw_tokens:,} over {raw_rows:,} rows; costcalc {out['tokens']:,}")
    med = statistics.median(ratios)
    name = f"parquet {args.rows:,} short rows"
    report = [
        {"bench": "bench_parquet.py", "metric": f"{name}: speed vs raw pyarrow+tiktoken, 1 core",
         "costcalc": f"{t_cc:.2f} s", "baseline": f"{t_raw:.2f} s", "ratio": round(med, 3),
         "min": round(min(ratios), 3), "max": round(max(ratios), 3), "target": ">= 0.9x",
         "met": med >= 0.9},
        {"bench": "bench_parquet.py", "metric": f"{name}: peak RSS (ru_maxrss)",
         "costcalc": f"{rss_cc:.1f} MiB", "baseline": f"{rss_raw:.1f} MiB", "ratio": None,
         "min": None, "max": None, "target": "<= 300 MiB", "met": rss_cc <= 300},
        {"bench": "bench_parquet.py", "metric": f"{name}: tokens and rows equal",
         "costcalc": f"{out['tokens']:,}", "baseline": f"{raw_tokens:,}", "ratio": None,
         "min": None, "max": None, "target": "==", "met": same},
    ]  # fmt: skip
    rows: list[Row] = [
        (
            f"rows/s, 1 core|{args.rows / t_cc:,.0f}|{args.rows / t_raw:,.0f}|"
            f"{med:.3f}x ({min(ratios):.3f}-{max(ratios):.3f})|>= 0.9x",
            med >= 0.9,
        ),
        (f"wall s (median)|{t_cc:.2f}|{t_raw:.2f}|-|-", True),
        (
            f"rows/s, start-up ({start_up.seconds:.2f}s) off|"
            f"{args.rows / (t_cc - start_up.seconds):,.0f}|"
            f"{args.rows / (t_raw - start_up.seconds):,.0f}|"
            f"{(t_raw - start_up.seconds) / (t_cc - start_up.seconds):.3f}x|>= 0.9x",
            (t_raw - start_up.seconds) / (t_cc - start_up.seconds) >= 0.9,
        ),
        (
            f"peak RSS (ru_maxrss), MiB|{rss_cc:.1f}|{rss_raw:.1f}|{rss_cc / rss_raw:.2f}|<= 300",
            rss_cc <= 300,
        ),
        (
            f"peak RssAnon (polled), MiB|{anon_cc:.1f}|{anon_raw:.1f}|{anon_cc / anon_raw:.2f}|"
            "<= 300",
            anon_cc <= 300,
        ),
        (f"tokens, rows equal|{out['tokens']:,}|{raw_tokens:,}|-|==", same),
    ]
    print()
    show(rows)
    if args.report:
        args.report.write_text(json.dumps(report, indent=1) + "\n")
    print(f"\ntotal runtime {time.perf_counter() - began:.0f}s")


if __name__ == "__main__":
    main()
