"""Quote benchmarks: costcalc against genai-prices, start-up and in-process, and `check`.

start-up    `costcalc quote` end to end against `genai-prices -p calc`, each in a fresh
            process. Both price the same model and tokens (1,000 input and 200 output tokens):
            a curated model (gpt-4o; target: costcalc <= 0.6x genai-prices' wall time) and
            one from the genai-prices catalogue (mistral:mistral-large-latest; <= 0.8x); runs
            alternate so both see the same machine load; median wall times side by side and
            the median of the per-round ratios.
in-process  In one process, the price table loaded once: ``costcalc.quote`` (every delivery
            mode, their times and the verdict) against ``genai_prices.calc_price`` for the
            same tokens, for a curated model (gpt-4o) and one costcalc takes from the
            genai-prices catalogue (mistral:mistral-large-latest). Rounds of calls alternate
            between the two sides (which goes first alternates too); each round gives the
            ratio of throughputs, costcalc quotes/s over calc_price calls/s, and the table
            shows their median, min and max (target: >= 1.0x).
check       `costcalc check` of a generated config of 1,000 workloads (curated and catalogue
            models, every mode), as a command: CPU seconds of the process, user plus system
            (target: under 1 s).

The start-up side runs genai-prices from this benchmark's own venv (bench/.venv-genai-prices,
git-ignored), created on the first run from the package index. The in-process side uses the
genai-prices installed with costcalc (a dependency). costcalc is the one installed next to the
Python running this script.

    python bench/bench_quote.py [--only start-up|in-process|check] [--runs 30]
                                [--rounds 21] [--calls 1000] [--check-runs 5]
                                [--quick] [--report FILE]

The scaling of `check` and `diff` (1k, 3k, 10k workloads) is bench_check.py's; the start-up of
`--help` and `--version` bench_startup.py's.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from collections.abc import Callable
from pathlib import Path

from _measure import Result, finish, machine, options, python_floor, result

HERE = Path(__file__).resolve().parent
GENAI_VENV = HERE / ".venv-genai-prices"
SECTIONS = ("start-up", "in-process", "check")
BENCH = "bench_quote.py"


# --- start-up: a fresh process each -----------------------------------------------------------


START_UP = (
    # (costcalc's name, what kind of model, genai-prices' name, the target share)
    ("gpt-4o", "curated", "gpt-4o", 0.6),
    ("mistral:mistral-large-latest", "catalogue", "mistral:mistral-large-latest", 0.8),
)
"""Issue 11's targets: a quote of a curated model <= 0.6x genai-prices' wall time, of any
other model <= 0.8x."""


def genai_prices_command(model: str) -> list[str]:
    exe = GENAI_VENV / "bin" / "genai-prices"
    if not exe.exists():
        print(f"creating {GENAI_VENV} with genai-prices[cli] ...", file=sys.stderr)
        venv.EnvBuilder(with_pip=True, clear=True).create(GENAI_VENV)
        subprocess.run(
            [str(GENAI_VENV / "bin" / "python"), "-m", "pip", "install", "-q", "genai-prices[cli]"],
            check=True,
        )
    return [str(exe), "-p", "calc", "-i", "1000", "-o", "200", model]


def costcalc_exe() -> str:
    exe = Path(sys.executable).parent / "costcalc"
    found = str(exe) if exe.exists() else shutil.which("costcalc")
    if found is None:
        sys.exit("costcalc is not installed next to this Python; pip install . first")
    return found


def costcalc_command(model: str) -> list[str]:
    return [costcalc_exe(), "quote", "-m", model, "-n", "1", "-i", "1000", "-o", "200"]


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(
        cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=os.environ.copy()
    )
    return time.perf_counter() - start


def start_up(runs: int) -> list[Result]:
    gp_python = str(GENAI_VENV / "bin" / "python")
    genai_prices_command("gpt-4o")  # makes its venv on the first run
    version = subprocess.run(
        [gp_python, "-c", "import genai_prices; print(genai_prices.__version__)"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    print(f"\nstart-up: a fresh process each, {runs} runs each, alternating")
    python_floor()
    out: list[Result] = []
    for name, kind, gp_name, target in START_UP:
        ours, theirs = costcalc_command(name), genai_prices_command(gp_name)
        timed(ours), timed(theirs)  # warm the file cache; not counted
        a: list[float] = []
        b: list[float] = []
        for r in range(runs):
            if r % 2 == 0:
                a.append(timed(ours))
                b.append(timed(theirs))
            else:
                b.append(timed(theirs))
                a.append(timed(ours))
        print(f"{'command':<60} {'median':>9} {'mean':>9} {'min':>9}")
        rows = (
            (" ".join(["costcalc", *ours[1:]]), a),
            (f"genai-prices {version} {' '.join(theirs[1:])}", b),
        )
        for label, xs in rows:
            med, mean, low = (f(xs) * 1000 for f in (statistics.median, statistics.mean, min))
            print(f"{label:<60} {med:>7.0f}ms {mean:>7.0f}ms {low:>7.0f}ms")
        shares = [ours_s / theirs_s for ours_s, theirs_s in zip(a, b, strict=True)]
        ratio = statistics.median(shares)
        verdict = "met" if ratio <= target else "NOT met"
        print(f"ratio costcalc / genai-prices wall time (median of rounds): {ratio:.2f}x "
              f"(target <= {target:.2f}x: {verdict})\n")  # fmt: skip
        out.append(
            result(
                BENCH,
                f"quote start-up, {name} ({kind}): wall time, share of genai-prices -p calc's",
                f"{statistics.median(a) * 1000:.0f} ms",
                f"{statistics.median(b) * 1000:.0f} ms",
                shares,
                f"<= {target:.2f}x",
                ratio <= target,
            )
        )
    return out


# --- in-process: the price table loaded once ----------------------------------------------------

IN_PROCESS = (
    # (costcalc's name, what kind of model, genai-prices' model and provider)
    ("gpt-4o", "curated", "gpt-4o", "openai"),
    ("claude-sonnet-4-5", "curated", "claude-sonnet-4-5", "anthropic"),
    ("gemini-2.5-flash", "curated", "gemini-2.5-flash", "google"),
    ("mistral:mistral-large-latest", "catalogue", "mistral-large-latest", "mistral"),
)
CATALOGUE_SAMPLE = 40
"""Models drawn (seeded) from all genai-prices knows, for the catalogue-wide figure."""
IN_PROCESS_TARGET = 1.0


def _per_call(calls: int, f: Callable[[], object]) -> float:
    """Seconds per call of ``f``, over ``calls`` calls."""
    start = time.perf_counter()
    for _ in range(calls):
        f()
    return (time.perf_counter() - start) / calls


def in_process(rounds: int, calls: int) -> list[Result]:
    from decimal import Decimal

    import genai_prices
    from genai_prices import Usage, calc_price

    import costcalc

    table = costcalc.load_price_table()
    out: list[Result] = []
    print(
        f"\nin-process: the price table loaded once, {rounds} rounds of {calls:,} calls each "
        "side, alternating; ratio = costcalc quotes/s / calc_price calls/s"
    )
    print(
        f"{'model':<42} {'costcalc.quote':>15} {'calc_price':>13} {'median':>8} {'min':>7} "
        f"{'max':>7}  target"
    )
    for name, kind, gp_model, gp_provider in IN_PROCESS:
        workload = costcalc.Workload(
            model=name, requests=1000, input_tokens=Decimal(1000), output_tokens=Decimal(200)
        )

        def ours(w: costcalc.Workload = workload) -> object:
            return costcalc.quote(w, table)

        def theirs(m: str = gp_model, p: str = gp_provider) -> object:
            return calc_price(Usage(input_tokens=1000, output_tokens=200), m, provider_id=p)

        ours(), theirs()  # first lookups and lazy imports: not counted
        _per_call(calls // 10 or 1, ours), _per_call(calls // 10 or 1, theirs)
        a: list[float] = []
        b: list[float] = []
        for r in range(rounds):
            gc.collect()
            if r % 2 == 0:
                a.append(_per_call(calls, ours))
                b.append(_per_call(calls, theirs))
            else:
                b.append(_per_call(calls, theirs))
                a.append(_per_call(calls, ours))
        ratios = [theirs_s / ours_s for ours_s, theirs_s in zip(a, b, strict=True)]
        median = statistics.median(ratios)
        verdict = "met" if median >= IN_PROCESS_TARGET else "NOT met"
        label = f"{name} ({kind})"
        ours_us, theirs_us = statistics.median(a) * 1e6, statistics.median(b) * 1e6
        print(
            f"{label:<42} {ours_us:>12.1f} µs {theirs_us:>10.1f} µs {median:>7.2f}x "
            f"{min(ratios):>6.2f}x {max(ratios):>6.2f}x  >= {IN_PROCESS_TARGET:.2f}x: {verdict}"
        )
        out.append(
            result(
                BENCH,
                f"quote in-process, {label}: quotes/s vs calc_price calls/s",
                f"{ours_us:.1f} µs",
                f"{theirs_us:.1f} µs",
                ratios,
                f">= {IN_PROCESS_TARGET:.2f}x",
                median >= IN_PROCESS_TARGET,
            )
        )
    out.append(_catalogue_sample(table, rounds, max(calls // 10, 20)))
    print(f"(genai-prices {genai_prices.__version__}; times are medians per call)")
    return out


def _catalogue_sample(table: object, rounds: int, calls: int) -> Result:
    """Quotes per second over models drawn at random (seed 7) from every model genai-prices
    knows that both price, each side calling every model in turn: the throughput of a loop
    over the catalogue, not of one lookup. Each round's ratio is calc_price's time for the
    whole set over costcalc's; the per-model ratios' median and minimum are printed too."""
    from decimal import Decimal

    from genai_prices import Usage, calc_price, data_snapshot

    import costcalc

    every = [(p.id, m.id) for p in data_snapshot.get_snapshot().providers for m in p.models]
    usage = Usage(input_tokens=1000, output_tokens=200)
    pairs = []
    for pid, mid in random.Random(7).sample(every, len(every)):
        workload = costcalc.Workload(
            model=f"{pid}:{mid}",
            requests=1000,
            input_tokens=Decimal(1000),
            output_tokens=Decimal(200),
        )
        try:
            costcalc.quote(workload, table)  # type: ignore[arg-type]
            calc_price(usage, mid, provider_id=pid)
        except Exception:  # a model one side cannot price (no prices on the day, a free model)
            continue
        pairs.append((workload, mid, pid))
        if len(pairs) == CATALOGUE_SAMPLE:
            break
    ours_s = [0.0] * len(pairs)
    theirs_s = [0.0] * len(pairs)
    ratios = []
    for r in range(rounds):
        gc.collect()
        for i, (w, mid, pid) in enumerate(pairs):
            sides = [
                (ours_s, lambda w=w: costcalc.quote(w, table)),  # type: ignore[arg-type]
                (theirs_s, lambda m=mid, p=pid: calc_price(usage, m, provider_id=p)),
            ]
            for store, f in sides if r % 2 == 0 else sides[::-1]:
                store[i] += _per_call(calls, f)
        ratios.append(sum(theirs_s) / sum(ours_s))  # cumulative: the rounds so far
    per_model = sorted(t / o for o, t in zip(ours_s, theirs_s, strict=True))
    label = f"{len(pairs)} catalogue models (seed 7), all of them in turn"
    median = statistics.median(ratios)
    print(
        f"{label:<42} {sum(ours_s) / rounds / len(pairs) * 1e6:>12.1f} µs "
        f"{sum(theirs_s) / rounds / len(pairs) * 1e6:>10.1f} µs {median:>7.2f}x; per model: "
        f"median {statistics.median(per_model):.2f}x, lowest {per_model[0]:.2f}x"
    )
    return result(
        BENCH,
        f"quote in-process, {label}: quotes/s vs calc_price calls/s (per model: median "
        f"{statistics.median(per_model):.2f}x, lowest {per_model[0]:.2f}x)",
        f"{sum(ours_s) / rounds / len(pairs) * 1e6:.1f} µs",
        f"{sum(theirs_s) / rounds / len(pairs) * 1e6:.1f} µs",
        ratios,
        f">= {IN_PROCESS_TARGET:.2f}x",
        median >= IN_PROCESS_TARGET,
    )


# --- check: 1,000 workloads -----------------------------------------------------------------------

CHECK_MODELS = (
    *("gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-5", "o3", "claude-haiku-4-5", "claude-sonnet-4-5"),
    *("gemini-2.5-pro", "gemini-2.5-flash-lite", "mistral:mistral-large-latest"),
    *("deepseek:deepseek-chat", "azure:gpt-4.1"),
)
NO_BATCH = ("deepseek:deepseek-chat",)
CHECK_TARGET_S = 1.0


def check_config(workloads: int) -> str:
    """A project config of ``workloads`` workloads (the same each run: seeded)."""
    rng = random.Random(1000)
    lines = ["as_of: 2026-10-01", "budgets:", "  monthly: 100000000", "workloads:"]
    for i in range(workloads):
        model = rng.choice(CHECK_MODELS)
        modes = ["request", "stream"] if model in NO_BATCH else ["request", "stream", "batch"]
        lines += [
            f"  - name: workload-{i}",
            f"    model: {model}",
            f"    requests_per_day: {rng.randint(100, 100_000)}",
            f"    input_tokens: {rng.randint(100, 5_000)}",
            f"    output_tokens: {rng.randint(10, 800)}",
            f"    mode: {rng.choice(modes)}",
            f"    source: {rng.choice(['cron', 'web-ui', 'api'])}",
        ]
        if rng.random() < 0.3:
            lines.append(f"    cached_share: 0.{rng.randint(1, 8)}")
    return "\n".join(lines) + "\n"


def child_cpu(cmd: list[str]) -> float:
    """CPU seconds (user + system) of running ``cmd`` to its end."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):  # 1: a budget or policy failed, as it may
        sys.exit(f"{' '.join(cmd)} failed:\n{done.stderr.decode()}")
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def check(runs: int, workloads: int = 1000) -> list[Result]:
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "costcalc.yaml"
        config.write_text(check_config(workloads), encoding="utf-8")
        cmd = [costcalc_exe(), "check", str(config), "--format", "json"]
        child_cpu(cmd)  # warm the file cache; not counted
        cpu = [child_cpu(cmd) for _ in range(runs)]
    median = statistics.median(cpu)
    verdict = "met" if median < CHECK_TARGET_S else "NOT met"
    print(f"\ncheck: costcalc check of {workloads:,} workloads as a command, {runs} runs")
    print(
        f"CPU (user + system): median {median:.2f} s, min {min(cpu):.2f} s, max {max(cpu):.2f} s "
        f"(target < {CHECK_TARGET_S:.0f} s: {verdict})"
    )
    return [
        result(
            BENCH,
            f"check of {workloads:,} workloads: CPU s (user + system)",
            f"{median:.2f} s ({min(cpu):.2f}-{max(cpu):.2f})",
            "-",
            None,
            f"< {CHECK_TARGET_S:.0f} s",
            median < CHECK_TARGET_S,
        )
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=SECTIONS, action="append", help="repeatable")
    parser.add_argument("--runs", type=int, default=30, help="start-up runs each side")
    parser.add_argument("--rounds", type=int, default=21, help="in-process rounds")
    parser.add_argument("--calls", type=int, default=1000, help="in-process calls per round")
    parser.add_argument("--check-runs", type=int, default=5)
    options(parser)
    args = parser.parse_args()
    sections = args.only or SECTIONS
    if args.quick:
        args.runs, args.rounds, args.calls, args.check_runs = 3, 3, 200, 2
    print(machine())
    rows: list[Result] = []
    if "start-up" in sections:
        if args.quick and not GENAI_VENV.exists():
            print(f"\nstart-up: skipped with --quick ({GENAI_VENV} is not made yet)")
        else:
            rows += start_up(args.runs)
    if "in-process" in sections:
        rows += in_process(args.rounds, args.calls)
    if "check" in sections:
        rows += check(args.check_runs, 200 if args.quick else 1000)
    finish(BENCH, rows, args.report)


if __name__ == "__main__":
    main()
