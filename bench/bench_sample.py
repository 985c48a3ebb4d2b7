"""Benchmark ``costcalc tokens --sample N --seed S`` against the full count, on CSV and JSONL.

Two files of ``--rows`` requests (default 1,000,000) whose lengths are NOT uniform: each
request's word count is lognormal (median ``--median-words``, shape ``--sigma``), so a sampler
that favoured long or short lines would show it. Generated once into bench/data/ (git-ignored):
a CSV (``id,text``; one line per row) and an OpenAI batch JSONL of the same texts.

Per file, in alternating rounds (each run a subprocess): the full count
``costcalc tokens FILE --format json`` and ``--sample N --seed S`` for several seeds. Prints
the speed ratio (median full / median sample; target >= 20x), each seed's relative error
against the full count (target <= 1%), whether its 95% interval covers the full count, and
the peak RSS of each side.

The error a uniform sample of N can reach is bounded by the data: the relative standard error
is about CV / sqrt(N), with CV = sqrt(exp(sigma^2) - 1) for lognormal lengths (1.31 at
sigma 1.0, so about 1.3% at N = 10,000). The table prints the interval's half-width too, so a
miss of the 1% target can be told apart from a biased estimate; ``--more-seeds K`` further
seeds (one run each) give the interval's coverage and the mean error (bias) with its SE.

Peak memory is shown twice: ru_maxrss (what ``/usr/bin/time -f %M`` reports) counts the pages
of a memory-mapped input that were read, RssAnon (polled) is the process's own memory.

Run from the repository root::

    python bench/bench_sample.py [--rows 1000000] [--sample 10000] [--seeds 1 2 3 4 5]
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import random
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from _measure import Run, finish, floor, machine, peak, peaks, run

DATA = Path(__file__).resolve().parent / "data"
GEN_VERSION = 1
TEXT = (
    "the of and to in is was for on that with as by it at from this be are or an have not "
    "which but were his her they all their one has been had would when there more can if "
    "naïve café 東京 données résumé 123 4.5 {json: true} <tag> — ¿qué? ok Привет мир 🚀 "
    "def return self.value = None # TODO: 2024-06-11 $1,234.56 0x7fff"
)
WORDS = TEXT.split()


def texts(rows: int, median_words: int, sigma: float) -> Iterator[str]:
    rng = random.Random(20240611)
    mu = math.log(median_words)
    for _ in range(rows):
        k = min(5000, max(1, round(rng.lognormvariate(mu, sigma))))
        yield " ".join(rng.choices(WORDS, k=k))


def corpus(kind: str, rows: int, median_words: int, sigma: float) -> Path:
    name = f"sample-{rows}-m{median_words}-s{sigma:g}-v{GEN_VERSION}.{kind}"
    path = DATA / name
    if path.exists():
        print(f"  using cached {path.name} ({path.stat().st_size / 2**20:,.0f} MiB)")
        return path
    DATA.mkdir(exist_ok=True)
    print(f"  generating {path.name} ...", end=" ", flush=True)
    start, tmp = time.perf_counter(), path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8", newline="") as f:
        if kind == "csv":
            writer = csv.writer(f)
            writer.writerow(["id", "text"])
            for i, text in enumerate(texts(rows, median_words, sigma)):
                writer.writerow([i, text])
        else:
            for i, text in enumerate(texts(rows, median_words, sigma)):
                req = {
                    "custom_id": f"req-{i:07d}",
                    "method": "POST",
                    "url": "/v1/chat/completions",
                    "body": {"model": "gpt-4o", "messages": [{"role": "user", "content": text}]},
                }
                f.write(json.dumps(req, ensure_ascii=False) + "\n")
    tmp.replace(path)
    secs = time.perf_counter() - start
    print(f"{path.stat().st_size / 2**20:,.0f} MiB in {secs:.0f}s")
    return path


def ratio_stats(ratios: list[float]) -> tuple[float, float, float]:
    return statistics.median(ratios), min(ratios), max(ratios)


def error_stats(errors: list[float]) -> str:
    a = [abs(e) for e in errors]
    within = sum(x <= 0.01 for x in a)
    med = statistics.median(a)
    return f"median abs err {med:.3%}, max {max(a):.3%}, within 1% {within}/{len(a)}"


def bench_file(
    path: Path, extra: list[str], args: argparse.Namespace, start_up: float
) -> list[dict]:
    """Alternating rounds of full count and sample (which goes first alternates), then the
    estimate's error over many seeds (in this process, through the API: the error does not
    depend on the process, and start-up would only slow the loop)."""
    import costcalc

    kind = path.suffix[1:]
    base = [str(Path(sys.executable).with_name("costcalc")), "tokens", str(path), *extra]
    base += ["--format", "json"]
    mib = path.stat().st_size / 2**20
    print(f"\n{path.name} ({mib:,.0f} MiB), N={args.sample:,}, {args.rounds} rounds:")
    full_runs: list[Run] = []
    sample_runs: list[Run] = []
    ratios, ratios_off = [], []
    for r in range(args.rounds):
        sample_cmd = [*base, "--sample", str(args.sample), "--seed", str(r + 1)]
        if r % 2:
            sample_runs.append(run(sample_cmd))
            full_runs.append(run(base))
        else:
            full_runs.append(run(base))
            sample_runs.append(run(sample_cmd))
        tf, ts = full_runs[-1].seconds, sample_runs[-1].seconds
        ratios.append(tf / ts)
        if ts > start_up * 1.05:  # a sample run no slower than the floor has nothing left
            ratios_off.append((tf - start_up) / (ts - start_up))
        cpu = sample_runs[-1].cpu_s
        print(f"  round {r + 1}: full {tf:.2f}s, sample {ts:.2f}s ({cpu:.2f}s CPU): {tf / ts:.1f}x")
    full = json.loads(full_runs[-1].stdout)
    truth, requests = full["tokens"], full["requests"]
    print(f"  full count {truth:,} tokens over {requests:,} requests; {peaks(full_runs)}")
    print(f"  sample {peaks(sample_runs)}")
    options = {"column": "text"} if kind == "csv" else {}
    tok_err, req_err, tok_cov, req_cov = [], [], 0, 0
    for seed in range(1000, 1000 + args.seeds):
        est = costcalc.count_file(path, "gpt-4o", sample=args.sample, seed=seed, **options)
        tok_err.append((est.tokens - truth) / truth)
        req_err.append((est.requests - requests) / requests)
        tok_cov += est.interval is not None and est.interval.low <= truth <= est.interval.high
        riv = est.sample.requests_interval if est.sample is not None else None
        req_cov += riv is not None and riv.low <= requests <= riv.high
    print(f"  {args.seeds} seeds, tokens: {error_stats(tok_err)}; interval covers {tok_cov}")
    print(f"  {args.seeds} seeds, requests: {error_stats(req_err)}; interval covers {req_cov}")
    med, lo, hi = ratio_stats(ratios)
    med_off, lo_off, hi_off = ratio_stats(ratios_off) if ratios_off else (None, None, None)
    within = sum(abs(e) <= 0.01 for e in tok_err) / len(tok_err)
    t_full = statistics.median(r.seconds for r in full_runs)
    t_sample = statistics.median(r.seconds for r in sample_runs)
    # CPU too: on Linux a CSV or text sample builds the tokenizer in a second process while
    # it reads (costcalc.tokens.forked), so its CPU time is more than its wall time
    cpu_full = statistics.median(r.cpu_s for r in full_runs)
    cpu_sample = statistics.median(r.cpu_s for r in sample_runs)
    rss = max(peak(sample_runs), peak(full_runs))
    lo_cov = 0.95 * args.seeds - 3 * math.sqrt(args.seeds * 0.05 * 0.95)
    name = "bench_sample.py"
    return [
        row(name, f"{kind} {args.rows:,} rows: --sample {args.sample:,} speed vs full count",
            f"{t_sample:.2f} s ({cpu_sample:.2f} s CPU)", f"{t_full:.2f} s ({cpu_full:.2f} s CPU)",
            med, lo, hi, ">= 20x", med >= 20),
        row(name, f"{kind}: same, start-up ({start_up:.2f} s) taken off both",
            f"{t_sample - start_up:.2f} s", f"{t_full - start_up:.2f} s", med_off, lo_off,
            hi_off, "(report: the floor's share)", True),
        row(name, f"{kind}: the most any sample reaches: full count over start-up alone "
            "(the tokenizer built, no line read)",
            f"{start_up:.2f} s", f"{t_full:.2f} s", t_full / start_up, None, None,
            "(report: the floor's cap)", True),
        row(name, f"{kind}: tokens abs error <= 1% ({args.seeds} seeds; {error_stats(tok_err)})",
            f"{within:.0%}", "-", None, None, None, "all seeds", within == 1),
        row(name, f"{kind}: requests error ({args.seeds} seeds; {error_stats(req_err)})",
            f"{statistics.median(abs(e) for e in req_err):.3%}", "-", None, None, None,
            "reported", True),
        row(name, f"{kind}: 95% intervals cover the truth (tokens, requests)",
            f"{tok_cov}/{args.seeds}, {req_cov}/{args.seeds}", "-", None, None, None,
            f">= {max(0, lo_cov):.0f} (binomial, 3 SD)", min(tok_cov, req_cov) >= lo_cov),
        row(name, f"{kind}: peak RSS (ru_maxrss, sample and full)",
            f"{peak(sample_runs):.1f} MiB", f"{peak(full_runs):.1f} MiB (full)", None, None,
            None, "<= 300 MiB", rss <= 300),
    ]  # fmt: skip


def row(
    bench: str,
    metric: str,
    costcalc: str,
    baseline: str,
    ratio: float | None,
    low: float | None,
    high: float | None,
    target: str,
    met: bool,
) -> dict:
    """One result row as the benchmark contract's --report JSON has it."""
    return {
        "bench": bench, "metric": metric, "costcalc": costcalc, "baseline": baseline,
        "ratio": None if ratio is None else round(ratio, 2),
        "min": None if low is None else round(low, 2),
        "max": None if high is None else round(high, 2),
        "target": target, "met": bool(met),
    }  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000, help="rows per file (1,000,000)")
    ap.add_argument("--sample", type=int, default=10_000, help="sample size N (10000)")
    ap.add_argument("--rounds", type=int, default=5, help="alternating rounds (5)")
    ap.add_argument("--seeds", type=int, default=100, help="seeds for the error (100)")
    ap.add_argument("--median-words", type=int, default=20, help="median words a row (20)")
    ap.add_argument("--sigma", type=float, default=1.0, help="lognormal shape (1.0)")
    ap.add_argument("--quick", action="store_true", help="10,000 rows, N=500, 2 rounds, 5 seeds")
    ap.add_argument("--report", type=Path, help="also write the result rows here (JSON)")
    args = ap.parse_args()
    if args.quick:
        args.rows, args.sample, args.rounds, args.seeds = 10_000, 500, 2, 5
    began = time.perf_counter()
    print(machine())
    csv_path = corpus("csv", args.rows, args.median_words, args.sigma)
    jsonl_path = corpus("jsonl", args.rows, args.median_words, args.sigma)
    start_up = floor().seconds
    rows = bench_file(csv_path, ["--column", "text"], args, start_up)
    rows += bench_file(jsonl_path, [], args, start_up)
    finish("bench_sample.py", rows, str(args.report) if args.report else None)
    print(f"\ntotal runtime {time.perf_counter() - began:.0f}s")


if __name__ == "__main__":
    main()
