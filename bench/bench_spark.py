"""Benchmark counting on Spark (``costcalc.spark``) against one process on the same data.

Writes ``--rows`` short texts to one Parquet file (bench/data/, git-ignored), then measures:

1. Spark's start-up: ``spark_session(master)`` (the JVM, the context);
2. the first ``count_on_spark`` (starts the Python workers, builds the encoding in each) and a
   second one (warm workers: what each further count costs);
3. one process: the same column read with pyarrow in record batches and counted with
   costcalc's own per-text counter (``count_texts``), as a raw loop would;

and that the three totals agree. Needs ``pip install "costcalc[spark]"`` and Java 17.

Run from the repository root::

    python bench/bench_spark.py [--rows 1000000] [--master "local[2]"] [--quick] [--report FILE]

One run a side (Spark's start-up is minutes of a whole run); its rows are reported, not
judged against a target.
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

from _measure import finish, machine, options, result

DATA = Path(__file__).resolve().parent / "data"
TEXT = (
    "the of and to in is was for on that with as by it at from this be are or an have not "
    "which but were his her they all their one has been had would when there more can if "
    "naïve café 東京 données résumé 123 4.5 {json: true} <tag> — ¿qué? ok"
)
WORDS = TEXT.split()


def corpus(rows: int) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = DATA / f"spark-{rows}.parquet"
    if path.exists():
        return path
    DATA.mkdir(exist_ok=True)
    rng = random.Random(14)
    texts = [" ".join(rng.choices(WORDS, k=rng.randint(3, 60))) for _ in range(rows)]
    pq.write_table(pa.table({"text": texts}), path, row_group_size=100_000)
    return path


def one_process(path: Path) -> tuple[int, float]:
    import pyarrow.parquet as pq

    from costcalc.tokens.encodings import get_encoding, tokenizer_for
    from costcalc.tokens.engine import count_texts
    from costcalc.tokens.requests import CountSpec

    tok = tokenizer_for("gpt-4o")
    spec = CountSpec(tok.encoding, tok.overhead, None, "strict")
    get_encoding(tok.encoding)
    start = time.perf_counter()
    total = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=10_000, columns=["text"]):
        total += count_texts(spec, batch.column(0).to_pylist()).raw_tokens
    return total, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--master", default="local[2]")
    options(parser)
    args = parser.parse_args()
    if args.quick:
        args.rows = 20_000
    print(machine())
    import importlib.util
    import shutil

    missing = [m for m in ("pyspark", "pyarrow") if importlib.util.find_spec(m) is None]
    if missing or shutil.which("java") is None:
        why = f"{', '.join(missing)} not installed" if missing else "no java on PATH"
        print(f"skipped: {why} (pip install 'costcalc[spark]'; Spark needs Java 17)")
        row = result("bench_spark.py", f"spark local: skipped ({why})", "-", "-", None,
                     "(needs pyspark and Java)", True)  # fmt: skip
        finish("bench_spark.py", [row], args.report)
        return

    from costcalc import count_on_spark
    from costcalc.spark import spark_session

    path = corpus(args.rows)
    start = time.perf_counter()
    spark_session(args.master)
    started = time.perf_counter() - start
    timings = []
    for _ in range(2):
        start = time.perf_counter()
        count = count_on_spark(path, "text", master=args.master)
        timings.append(time.perf_counter() - start)
    local_total, local_time = one_process(path)
    assert count.tokens == local_total, (count.tokens, local_total)
    print(f"rows                 {args.rows:,} ({count.tokens:,} tokens)")
    print(f"spark start-up       {started:.1f} s ({args.master})")
    print(f"spark first count    {timings[0]:.1f} s (Python workers start)")
    print(f"spark warm count     {timings[1]:.1f} s ({args.rows / timings[1]:,.0f} rows/s)")
    print(f"one process          {local_time:.1f} s ({args.rows / local_time:,.0f} rows/s)")
    print(f"speed-up (warm)      {local_time / timings[1]:.2f}x")
    bench = "bench_spark.py"
    rows = [
        result(bench, f"spark {args.master}, warm count of {args.rows:,} rows vs one process",
               f"{timings[1]:.1f} s", f"{local_time:.1f} s", local_time / timings[1],
               "(report)", True),
        result(bench, "spark start-up and first count", f"{started:.1f} s + {timings[0]:.1f} s",
               "-", None, "(report)", True),
        result(bench, "spark total = one process's total", f"{count.tokens:,}",
               f"{local_total:,}", None, "==", count.tokens == local_total),
    ]  # fmt: skip
    finish(bench, rows, args.report)


if __name__ == "__main__":
    main()
