"""Benchmark costcalc's offline token counter (``count_file`` / ``costcalc tokens``).

Measures, against a raw tiktoken loop (read lines, ``json.loads``, ``encode_ordinary`` of every
message's content, sum) over the same OpenAI-batch JSONL corpus. The raw loop's encoding is
built by tiktoken's own loader (``tiktoken.load.load_tiktoken_bpe``) from the o200k_base file
costcalc ships, with the pattern and special tokens copied literally from
``tiktoken_ext.openai_public`` into this file: nothing of costcalc's is on that side.

1. throughput on one core: ``count_file(corpus, jobs=1)`` vs the raw loop (target >= 0.9x),
   and that costcalc's total = raw total + requests * (3 per message + 3 reply + "user");
2. throughput with ``jobs=2`` vs the same single-core raw loop (target >= 1.6x);
3. peak memory of ``costcalc tokens FILE --format json`` on a ~1 GB file, in a subprocess
   (target <= 150 MiB with jobs=1); with ``--jobs 2`` the whole process tree's: the largest
   sum of RssAnon over the parent and its workers at one poll (bench/_measure.py), beside the
   floor (python + tiktoken + o200k_base built by the raw loader);
4. ``--sample N`` on 1,000,000 rows vs the full count: speedup (target >= 20x), relative error
   (target <= 1%) and whether the 95% interval covers the exact total (rows of uniform length
   here: sampling on skewed data over many seeds is bench_sample.py's).

Every timing alternates the sides for ``--rounds`` rounds (which goes first alternates too)
and reports the median of the per-round ratios with their min and max; never the best round.

The corpora are generated once from a fixed seed out of real offline text (Python standard
library docstrings and code, numbers, JSON fragments, phrases in several scripts) and cached
in bench/data/ (git-ignored); they are rebuilt only if missing or of the wrong size.

Run from the repository root (about 15 minutes on 2 cores; 1.8 GB of disk for the data)::

    python bench/bench_tokens.py [--size-mb 200] [--sample 20000] [--rounds 5] [--skip-rss]
                                 [--quick] [--report FILE]
"""

from __future__ import annotations

import argparse
import ast
import json
import math
import os
import random
import shutil
import sys
import sysconfig
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tiktoken
import tiktoken.load
from _measure import Result, finish, floor_of, machine, options, result, run, spread

from costcalc import __version__
from costcalc.tokens.count import count_file

MIB = 1024 * 1024
BENCH = "bench_tokens.py"
ENCODING_FILE = (
    Path(__file__).resolve().parent.parent / "costcalc" / "encodings" / "o200k_base.tiktoken"
)
# tiktoken_ext.openai_public's o200k_base, copied literally (not imported from costcalc)
O200K_PATTERN = "|".join(
    [
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)
O200K_SPECIAL = {"<|endoftext|>": 199999, "<|endofprompt|>": 200018}
SEED = 20240611
GEN_VERSION = 1
DATA = Path(__file__).resolve().parent / "data"
# two phrases a line, in scripts tiktoken splits differently from English
PHRASES = """\
Привет, мир! Сегодня мы считаем токены. Съешь же ещё этих мягких французских булок, да выпей чаю.
Γειά σου Κόσμε! Η γρήγορη καφέ αλεπού πηδάει. Το κόστος της κλήσης εξαρτάται από τις λέξεις.
你好，世界！今天天气很好，我们一起去公园散步吧。这个批处理文件包含一百万个请求。
こんにちは世界。東京の天気は晴れ、気温は二十三度です。吾輩は猫である。名前はまだ無い。
안녕하세요, 세계! 오늘 회의는 오후 세 시에 시작합니다. 감사합니다.
مرحبا بالعالم! هذا نص تجريبي لحساب عدد الرموز. שלום עולם! זהו טקסט לדוגמה בעברית.
नमस्ते दुनिया! आज का मौसम बहुत अच्छा है। Tiếng Việt có dấu: Trăm năm trong cõi người ta.
Ça coûte très cher : déjà-vu, naïveté, cœur. Über die Brücke gehen Müller und Jäger.
¿Dónde está la estación? Mañana, señor Núñez. Zażółć gęślą jaźń — pchnąć w tę łódź jeża.
Pijamalı hasta yağız şoföre çabucak güvendi. Příliš žluťoučký kůň úpěl ďábelské ódy.
Emoji too 🚀🔥✨ — costs 💸 per token 🤖. Ünïcödé ñáme: Zoë Ångström-Øberg.
""".splitlines()


@dataclass
class Pool:
    """Real text to draw from: docstring paragraphs, source files as lines, words."""

    prose: list[str]
    code: list[list[str]]
    words: list[str]


def build_pool(max_files: int | None = None) -> Pool:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    skip = {"site-packages", "test", "tests", "idle_test"}
    prose: list[str] = []
    code: list[list[str]] = []
    for path in sorted(stdlib.rglob("*.py"))[:max_files]:
        if skip & set(path.parts):
            continue
        try:
            src = path.read_text(encoding="utf-8")
            tree = ast.parse(src)
        except (OSError, UnicodeDecodeError, SyntaxError):
            continue
        code.append(src.splitlines())
        for node in ast.walk(tree):
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                doc = ast.get_docstring(node) or ""
                prose.extend(p for p in doc.split("\n\n") if len(p) > 20)
    words = sorted({w for p in prose[:5000] for w in p.split() if w.isidentifier()})
    return Pool(prose, code, words)


def fragment(rng: random.Random, pool: Pool) -> str:
    kind = rng.random()
    if kind < 0.40:
        return rng.choice(pool.prose)
    if kind < 0.70:
        lines = rng.choice(pool.code)
        start = rng.randrange(len(lines)) if lines else 0
        return "\n".join(lines[start : start + rng.randint(1, 15)])
    if kind < 0.80:
        return rng.choice(PHRASES)
    if kind < 0.90:
        return rng.choice(
            [
                str(rng.randint(0, 10 ** rng.randint(1, 9))),
                f"{rng.uniform(-1e4, 1e4):.{rng.randint(0, 4)}f}",
                f"${rng.randint(1, 99999):,}.{rng.randint(0, 99):02d}",
                f"{rng.randint(1990, 2030)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                f"{rng.getrandbits(64):016x}",
                f"+1 ({rng.randint(200, 999)}) {rng.randint(100, 999)}-{rng.randint(0, 9999):04d}",
            ]
        )
    obj: dict[str, Any] = {}
    for _ in range(rng.randint(1, 6)):
        value: Any = rng.choice(
            [rng.randint(-999, 99999), round(rng.random() * 100, 3), rng.choice(pool.words)]
        )
        obj[rng.choice(pool.words)] = rng.choice([value, [value, None, True], {"id": value}])
    return json.dumps(obj, ensure_ascii=rng.random() < 0.5)


def make_text(rng: random.Random, pool: Pool, length: int) -> str:
    parts: list[str] = []
    size = 0
    while size < length:
        part = fragment(rng, pool) + rng.choice([" ", " ", "\n", "\n\n", ". "])
        parts.append(part)
        size += len(part)
    return "".join(parts)[:length].strip() or "empty"


POOL_FILES: int | None = None
"""Source files the text pool reads (all; a few hundred with --quick)."""


def write_corpus(path: Path, stop: Callable[[int, int], bool], length: Callable[[], int]) -> int:
    """Write batch lines until ``stop(bytes, rows)``; return the row count."""
    pool, rng = build_pool(POOL_FILES), random.Random(SEED)
    rows = size = 0
    with path.open("wb") as f:
        while not stop(size, rows):
            req = {
                "custom_id": f"req-{rows:07d}",
                "method": "POST",
                "url": "/v1/chat/completions",
                "body": {
                    "model": "gpt-4o",
                    "messages": [{"role": "user", "content": make_text(rng, pool, length())}],
                },
            }
            line = json.dumps(req, ensure_ascii=False).encode() + b"\n"
            f.write(line)
            size += len(line)
            rows += 1
    return rows


def cached(path: Path, params: dict[str, Any], build: Callable[[Path], int]) -> Path:
    """``path``, built by ``build(tmp) -> rows`` unless present with these params and size."""
    meta = path.with_name(path.name + ".meta.json")
    if path.exists() and meta.exists():
        info = json.loads(meta.read_text())
        if info["params"] == params and info["bytes"] == path.stat().st_size:
            mib = info["bytes"] / MIB
            print(f"  using cached {path.name} ({mib:,.0f} MiB, {info['rows']:,} rows)")
            return path
    print(f"  generating {path.name} ...", end=" ", flush=True)
    start, tmp = time.perf_counter(), path.with_name(path.name + ".tmp")
    rows = build(tmp)
    tmp.replace(path)
    meta.write_text(json.dumps({"params": params, "bytes": path.stat().st_size, "rows": rows}))
    secs = time.perf_counter() - start
    print(f"{path.stat().st_size / MIB:,.0f} MiB, {rows:,} rows in {secs:.0f}s")
    return path


def concat(src: Path, copies: int) -> Callable[[Path], int]:
    def build(tmp: Path) -> int:
        with tmp.open("wb") as out, src.open("rb") as f:
            for _ in range(copies):
                f.seek(0)
                shutil.copyfileobj(f, out, 16 * MIB)
            f.seek(0)
            return copies * sum(1 for _ in f)

    return build


def rounds(n: int, **funcs: Callable[[], Any]) -> tuple[dict[str, Any], dict[str, list[float]]]:
    """Run ``funcs`` in ``n`` rounds, in turns, the order reversed every other round; (last
    result, seconds of every round) of each. Never the best round: the ratios are taken per
    round and reported as median, min and max."""
    results: dict[str, Any] = {}
    runs: dict[str, list[float]] = {name: [] for name in funcs}
    names = list(funcs)
    for i in range(n):
        for name in names if i % 2 == 0 else names[::-1]:
            start = time.perf_counter()
            results[name] = funcs[name]()
            runs[name].append(time.perf_counter() - start)
    for name, secs in runs.items():
        med = sorted(secs)[len(secs) // 2]
        print(f"  {name:10} median {med:6.2f}s of {', '.join(f'{t:.2f}' for t in secs)}")
    return results, runs


def per_round(costcalc: list[float], baseline: list[float]) -> list[float]:
    return [b / a for a, b in zip(costcalc, baseline, strict=True)]


def raw_encoding() -> tiktoken.Encoding:
    """o200k_base as tiktoken itself builds it from the shipped file (no cache copy written)."""
    os.environ.setdefault("TIKTOKEN_CACHE_DIR", "")
    ranks = tiktoken.load.load_tiktoken_bpe(str(ENCODING_FILE))
    return tiktoken.Encoding(
        "o200k_base", pat_str=O200K_PATTERN, mergeable_ranks=ranks, special_tokens=O200K_SPECIAL
    )


def raw_count(path: Path, enc: tiktoken.Encoding) -> tuple[int, int]:
    """The baseline: (content tokens, requests) with plain tiktoken, one line at a time."""
    tokens = requests = 0
    with path.open("rb") as f:
        for line in f:
            if line.strip():
                requests += 1
                for message in json.loads(line)["body"]["messages"]:
                    tokens += len(enc.encode_ordinary(message["content"]))
    return tokens, requests


def bench_throughput(corpus: Path, n: int, enc: tiktoken.Encoding) -> tuple[list[Result], int]:
    size = corpus.stat().st_size / MIB
    print(f"\nthroughput on {corpus.name} ({size:,.1f} MiB, page cache warm), {n} rounds:")
    res, secs = rounds(
        n,
        raw=lambda: raw_count(corpus, enc),
        jobs1=lambda: count_file(corpus, model="gpt-4o", jobs=1),
        jobs2=lambda: count_file(corpus, model="gpt-4o", jobs=2),
    )
    (raw_tokens, requests), r1, r2 = res["raw"], res["jobs1"], res["jobs2"]
    one, two = per_round(secs["jobs1"], secs["raw"]), per_round(secs["jobs2"], secs["raw"])
    t_raw, t1, t2 = (spread(secs[k])[0] for k in ("raw", "jobs1", "jobs2"))
    print(
        f"  MiB/s (median): raw {size / t_raw:.2f}, costcalc jobs=1 {size / t1:.2f}, "
        f"jobs=2 {size / t2:.2f}"
    )
    per_request = 3 + 3 + len(enc.encode_ordinary("user"))
    expected = raw_tokens + requests * per_request
    diff = r1.tokens - raw_tokens
    print(f"  raw content tokens {raw_tokens:,} over {requests:,} requests")
    print(f"  costcalc tokens    {r1.tokens:,} (jobs=2 {r2.tokens:,}), {r1.requests:,} requests")
    same = diff == expected - raw_tokens
    print(f"  costcalc - raw     {diff:,} = {requests:,} requests x {per_request}: {same}")
    ok = r1.tokens == expected == r2.tokens and r1.requests == requests
    speed = f"{size / t_raw:.2f} MiB/s"
    return [
        result(BENCH, "tokens, 1 core: speed vs raw tiktoken loop", f"{size / t1:.2f} MiB/s",
               speed, one, ">= 0.90x", spread(one)[0] >= 0.9),
        result(BENCH, "tokens, jobs=2: speed vs raw loop on 1 core", f"{size / t2:.2f} MiB/s",
               speed, two, ">= 1.60x", spread(two)[0] >= 1.6),
        result(BENCH, "tokens = raw + per-request overhead", f"{r1.tokens:,}", f"{expected:,}",
               r1.tokens / expected, "== 1", ok),
    ], requests  # fmt: skip


def bench_rss(corpus: Path, copies: int) -> list[Result]:
    big = cached(
        DATA / f"{corpus.stem}_x{copies}.jsonl",
        {"v": GEN_VERSION, "src_bytes": corpus.stat().st_size, "copies": copies},
        concat(corpus, copies),
    )
    load = (
        "import os, tiktoken, tiktoken.load; os.environ['TIKTOKEN_CACHE_DIR'] = ''; "
        f"tiktoken.Encoding('o200k_base', pat_str={O200K_PATTERN!r}, special_tokens={{}}, "
        f"mergeable_ranks=tiktoken.load.load_tiktoken_bpe({str(ENCODING_FILE)!r}))"
    )
    print(f"\npeak memory on {big.name} ({big.stat().st_size / MIB:,.0f} MiB), in a subprocess:")
    floor = floor_of("python + tiktoken + o200k_base built", [sys.executable, "-c", load], 1)
    rows: list[Result] = []
    for jobs in (1, 2):
        cmd = [str(Path(sys.executable).with_name("costcalc")), "tokens", str(big)]
        cmd += ["--format", "json", "--jobs", str(jobs)]
        done = run(cmd)
        tokens = json.loads(done.stdout)["tokens"]
        print(
            f"  {' '.join(cmd[1:])}\n    {done.seconds:.1f}s, {tokens:,} tokens, peak RSS "
            f"{done.rss_mib:.1f} MiB (largest process), tree RssAnon {done.tree_mib:.1f} MiB"
        )
        rows.append(
            result(
                BENCH,
                f"tokens --jobs {jobs}: peak RssAnon of the whole process tree",
                f"{done.tree_mib:.1f} MiB",
                f"{floor.anon_mib:.1f} MiB (floor)",
                None,
                "<= 150 MiB" if jobs == 1 else "(report)",
                done.tree_mib <= 150 or jobs > 1,
            )
        )
        rows.append(
            result(BENCH, f"tokens --jobs {jobs}: peak RSS of the largest process (ru_maxrss)",
                   f"{done.rss_mib:.1f} MiB", f"{floor.rss_mib:.1f} MiB (floor)", None,
                   "(report)", True)
        )  # fmt: skip
    return rows


def bench_sample(n_rows: int, n: int, n_rounds: int) -> list[Result]:
    pick = random.Random(SEED + 2)
    path = cached(
        DATA / f"rows_{n_rows}.jsonl",
        {"v": GEN_VERSION, "seed": SEED, "rows": n_rows, "pool": POOL_FILES},
        lambda p: write_corpus(p, lambda _s, rows: rows >= n_rows, lambda: pick.randint(200, 600)),
    )
    print(f"\nsampling on {path.name} ({path.stat().st_size / MIB:,.1f} MiB), N={n:,}, seed=1:")
    res, secs = rounds(
        n_rounds,
        full=lambda: count_file(path, model="gpt-4o"),
        sample=lambda: count_file(path, model="gpt-4o", sample=n, seed=1),
    )
    full, est = res["full"], res["sample"]
    speedup = per_round(secs["sample"], secs["full"])
    assert est.interval is not None
    low, high = est.interval.low, est.interval.high
    err = abs(est.tokens - full.tokens) / full.tokens
    covers = low <= full.tokens <= high
    print(f"  full count {full.tokens:,} tokens, {full.requests:,} requests")
    print(f"  sample     {est.tokens:,} tokens, 95% interval [{low:,}, {high:,}]")
    t_full, t_est = spread(secs["full"])[0], spread(secs["sample"])[0]
    return [
        result(BENCH, f"--sample {n}: speed vs the full count", f"{t_est:.2f} s",
               f"{t_full:.2f} s (full)", speedup, ">= 20x", spread(speedup)[0] >= 20),
        result(BENCH, "--sample estimate: relative error", f"{est.tokens:,}", f"{full.tokens:,}",
               err, "<= 0.01", err <= 0.01),
        result(BENCH, "--sample 95% interval covers the truth", f"[{low:,}, {high:,}]",
               f"{full.tokens:,}", None, "covers", covers),
    ]  # fmt: skip


def main() -> None:
    global POOL_FILES
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--size-mb", type=int, default=200, help="corpus size in MiB (200)")
    ap.add_argument("--copies", type=int, default=5, help="corpus copies in the RSS file (5)")
    ap.add_argument("--rows", type=int, default=1_000_000, help="rows of the sample file")
    ap.add_argument("--sample", type=int, default=20_000, help="sample size N (20000)")
    ap.add_argument("--rounds", type=int, default=5, help="alternating timed rounds (5)")
    ap.add_argument("--skip-rss", action="store_true", help="skip the 1 GB peak-RSS runs")
    ap.add_argument("--skip-sample", action="store_true", help="skip the sampling runs")
    options(ap)
    args = ap.parse_args()
    if args.quick:
        POOL_FILES = 150
        args.size_mb, args.copies, args.rows, args.sample, args.rounds = 1, 2, 20_000, 1000, 2
    began = time.perf_counter()
    print(machine())
    print(f"costcalc {__version__}, tiktoken {tiktoken.__version__}\n\ndata in {DATA}:")
    DATA.mkdir(exist_ok=True)
    lognormal = random.Random(SEED + 1)
    corpus = cached(
        DATA / ("corpus.jsonl" if args.size_mb == 200 else f"corpus_{args.size_mb}mb.jsonl"),
        {"v": GEN_VERSION, "seed": SEED, "mib": args.size_mb, "pool": POOL_FILES},
        lambda p: write_corpus(
            p,
            lambda size, _rows: size >= args.size_mb * MIB,
            lambda: min(4000, max(50, round(lognormal.lognormvariate(math.log(600), 1.0)))),
        ),
    )
    enc = raw_encoding()  # built once, outside every timing; costcalc's too:
    count_file(corpus, model="gpt-4o", jobs=1, sample=1, seed=1)
    rows, requests = bench_throughput(corpus, args.rounds, enc)
    if not args.skip_rss:
        rows += bench_rss(corpus, args.copies)
    if not args.skip_sample:
        rows += bench_sample(args.rows, args.sample, args.rounds)
    print(f"\nsummary ({corpus.stat().st_size / MIB:,.1f} MiB corpus, {requests:,} requests):")
    finish(BENCH, rows, args.report)
    print(f"\ntotal runtime {time.perf_counter() - began:.0f}s")


if __name__ == "__main__":
    main()
