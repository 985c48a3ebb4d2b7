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
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from _measure import Row, Run, finish, floor, options, peak, peak_anon, peaks, run

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


def bench_file(
    path: Path,
    extra: list[str],
    n: int,
    seeds: list[int],
    repeat: int,
    more_seeds: int,
    start_up: float,
) -> list[Row]:
    base = [str(Path(sys.executable).with_name("costcalc")), "tokens", str(path), *extra]
    base += ["--format", "json"]
    full_runs: list[Run] = []
    sample_runs: dict[int, list[Run]] = {s: [] for s in seeds}
    print(f"\n{path.name} ({path.stat().st_size / 2**20:,.0f} MiB), N={n:,}, seeds {seeds}:")
    for _ in range(repeat):  # full, then every seed, in turns
        full_runs.append(run(base))
        for seed in seeds:
            sample_runs[seed].append(run([*base, "--sample", str(n), "--seed", str(seed)]))
    full = json.loads(full_runs[-1].stdout)
    truth = full["tokens"]
    t_full = statistics.median(r.seconds for r in full_runs)
    all_samples = [r for done in sample_runs.values() for r in done]
    t_sample = statistics.median(r.seconds for r in all_samples)
    times = ", ".join(f"{r.seconds:.2f}" for r in full_runs)
    print(f"  full       median {t_full:7.2f}s of {times}; {peaks(full_runs)}")
    print(f"  full count {truth:,} tokens over {full['requests']:,} requests")
    rows: list[Row] = []
    errors: list[float] = []
    covered = 0
    for seed, done in sample_runs.items():
        est = json.loads(done[-1].stdout)
        low, high = est["interval"]["low"], est["interval"]["high"]
        err = (est["tokens"] - truth) / truth
        half = (high - low) / 2 / est["tokens"]
        covers = low <= truth <= high
        errors.append(abs(err))
        covered += covers
        t = statistics.median(r.seconds for r in done)
        print(
            f"  seed {seed:<3} {est['tokens']:,} [{low:,}, {high:,}] err {err:+.3%}"
            f" (±{half:.2%}) covers {covers}; {t:.2f}s, {peaks(done)}"
        )
        rows.append(
            (
                f"{path.suffix[1:]} seed {seed}: error (95% ±)|{est['tokens']:,}|{truth:,}|"
                f"{err:+.3%} (±{half:.2%})|<= 1%",
                abs(err) <= 0.01,
            )
        )
    kind = path.suffix[1:]
    rows.insert(
        0,
        (
            f"{kind} wall s, median|{t_sample:.2f}|{t_full:.2f} (full)|{t_full / t_sample:.1f}x|"
            ">= 20x",
            t_full / t_sample >= 20,
        ),
    )
    off_full, off_sample = t_full - start_up, t_sample - start_up
    rows.insert(
        1,
        (
            f"{kind} wall s, start-up ({start_up:.2f}s) off|{off_sample:.2f}|{off_full:.2f} (full)|"
            f"{off_full / off_sample:.1f}x|>= 20x",
            off_full / off_sample >= 20,
        ),
    )
    rows.insert(
        2,
        (
            f"{kind} peak RSS, MiB|{peak(all_samples):.1f}|{peak(full_runs):.1f} (full)|"
            f"{peak(all_samples) / peak(full_runs):.2f}|<= 300",
            max(peak(all_samples), peak(full_runs)) <= 300,
        ),
    )
    rows.insert(
        3,
        (
            f"{kind} peak RssAnon (polled), MiB|{peak_anon(all_samples):.1f}|"
            f"{peak_anon(full_runs):.1f} (full)|"
            f"{peak_anon(all_samples) / peak_anon(full_runs):.2f}|<= 300",
            max(peak_anon(all_samples), peak_anon(full_runs)) <= 300,
        ),
    )
    rows.append(
        (
            f"{kind} interval covers truth|{covered}/{len(seeds)}|-|max err {max(errors):.3%}|~95%",
            covered >= len(seeds) - 1,
        )
    )
    if more_seeds:
        errs, hits = [], 0
        for seed in range(1000, 1000 + more_seeds):
            est = json.loads(run([*base, "--sample", str(n), "--seed", str(seed)]).stdout)
            errs.append((est["tokens"] - truth) / truth)
            hits += est["interval"]["low"] <= truth <= est["interval"]["high"]
        bias = statistics.mean(errs)
        se = statistics.stdev(errs) / math.sqrt(len(errs))
        within = sum(abs(e) <= 0.01 for e in errs)
        print(
            f"  {more_seeds} more seeds: covered {hits}/{more_seeds}, mean error {bias:+.3%}"
            f" ± {se:.3%} (SE), sd {statistics.stdev(errs):.3%}, |error| <= 1% in {within}"
        )
        rows.append(
            (
                f"{kind} {more_seeds} more seeds: covered|{hits}/{more_seeds}|-|"
                f"bias {bias:+.3%} ± {se:.3%}|~95%",
                hits >= 0.9 * more_seeds and abs(bias) <= 3 * se,
            )
        )
        rows.append(
            (
                f"{kind} {more_seeds} more seeds: abs error <= 1%|{within}/{more_seeds}|-|"
                f"sd {statistics.stdev(errs):.3%}|all",
                within == more_seeds,
            )
        )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000, help="rows per file (1,000,000)")
    ap.add_argument("--sample", type=int, default=10_000, help="sample size N (10000)")
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    ap.add_argument("--repeat", type=int, default=2, help="alternating rounds (2)")
    ap.add_argument(
        "--more-seeds", type=int, default=40, help="extra seeds, one run each: coverage, bias (40)"
    )
    ap.add_argument("--median-words", type=int, default=20, help="median words a row (20)")
    ap.add_argument("--sigma", type=float, default=1.0, help="lognormal shape (1.0)")
    options(ap)
    args = ap.parse_args()
    if args.quick:
        args.rows, args.sample, args.seeds, args.repeat, args.more_seeds = 50_000, 2000, [1], 1, 3
    began = time.perf_counter()
    print(f"cpus: {os.cpu_count()}; python {platform.python_version()} on {platform.platform()}")
    cv = math.sqrt(math.exp(args.sigma**2) - 1)
    print(
        f"lengths lognormal (median {args.median_words} words, sigma {args.sigma}): CV {cv:.2f},"
        f" so a uniform sample of {args.sample:,} has a relative SE of about"
        f" {cv / math.sqrt(args.sample):.2%}"
    )
    csv_path = corpus("csv", args.rows, args.median_words, args.sigma)
    jsonl_path = corpus("jsonl", args.rows, args.median_words, args.sigma)
    start_up = floor().seconds
    common = (args.sample, args.seeds, args.repeat, args.more_seeds, start_up)
    rows = bench_file(csv_path, ["--column", "text"], *common)
    rows += bench_file(jsonl_path, [], *common)
    finish("bench_sample.py", rows, args.report)
    print(f"\ntotal runtime {time.perf_counter() - began:.0f}s")


if __name__ == "__main__":
    main()
