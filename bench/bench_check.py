"""`costcalc check` and `costcalc diff` scale linearly in workloads: 1k, 3k and 10k.

Generated project configs (bench_quote.py's ``check_config``: curated and catalogue models,
every mode, seeded) of 1,000, 3,000 and 10,000 workloads; each command runs as a subprocess
over each size in rounds, the order of the sizes reversed every other round. Printed per
size: median wall and CPU seconds (user + system of the process) and their ratio to 1,000
workloads; the verdict is on the per-round ratio 10 x time(1,000) / time(10,000), reported as
median, min and max: >= 1.0x means 10,000 workloads took under 10x the time of 1,000 (the
target). The floor (`python -c pass`, `costcalc --version`) shows what any run pays first.

    python bench/bench_check.py [--rounds 5] [--quick] [--report FILE]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from _measure import Result, Run, finish, floor_of, machine, options, python_floor, result, run
from bench_quote import check_config, costcalc_exe

BENCH = "bench_check.py"
SIZES = (1000, 3000, 10000)


def scaling(command: str, configs: dict[int, Path], rounds: int) -> list[Result]:
    exe = costcalc_exe()

    def cmd(n: int) -> list[str]:
        path = str(configs[n])
        args = [path, path] if command == "diff" else [path]
        return [exe, command, *args, "--format", "json"]

    sizes = sorted(configs)
    run(cmd(sizes[0]), ok=(0, 1))  # warm the file cache; not counted
    runs: dict[int, list[Run]] = {n: [] for n in sizes}
    for i in range(rounds):
        for n in sizes if i % 2 == 0 else sizes[::-1]:
            runs[n].append(run(cmd(n), ok=(0, 1)))  # 1: a budget or policy failed, as it may
    small, big = sizes[0], sizes[-1]
    print(f"\ncostcalc {command}: {rounds} rounds, sizes alternating")
    print(f"{'workloads':>10} {'wall s':>8} {'CPU s':>8} {'wall/1k':>8} {'CPU/1k':>8}")
    wall = {n: statistics.median(r.seconds for r in runs[n]) for n in sizes}
    cpu = {n: statistics.median(r.cpu_s for r in runs[n]) for n in sizes}
    for n in sizes:
        print(
            f"{n:>10,} {wall[n]:>8.2f} {cpu[n]:>8.2f} {wall[n] / wall[small]:>7.2f}x "
            f"{cpu[n] / cpu[small]:>7.2f}x"
        )
    factor = big / small
    rows = []
    for kind, key in (("wall", "seconds"), ("CPU", "cpu_s")):
        per_round = [
            factor * getattr(a, key) / getattr(b, key)
            for a, b in zip(runs[small], runs[big], strict=True)
        ]
        times = {n: statistics.median(getattr(r, key) for r in runs[n]) for n in sizes}
        mid = statistics.median(per_round)
        rows.append(
            result(
                BENCH,
                f"{command} {big:,} workloads in < {factor:.0f}x the {kind} of {small:,}",
                f"{times[big]:.2f} s ({times[big] / times[small]:.1f}x)",
                f"{factor:.0f} x {times[small]:.2f} s",
                per_round,
                ">= 1.00x",
                mid >= 1.0,
            )
        )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5, help="rounds over the sizes (5)")
    options(ap)
    args = ap.parse_args()
    sizes = (100, 1000) if args.quick else SIZES
    rounds = 2 if args.quick else args.rounds
    print(machine())
    repeat = 1 if args.quick else 3
    python_floor(repeat)
    floor_of("costcalc --version", [costcalc_exe(), "--version"], repeat)
    rows: list[Result] = []
    with tempfile.TemporaryDirectory() as tmp:
        configs = {}
        for n in sizes:
            configs[n] = Path(tmp) / f"costcalc-{n}.yaml"
            configs[n].write_text(check_config(n), encoding="utf-8")
        for command in ("check", "diff"):
            rows += scaling(command, configs, rounds)
    finish(BENCH, rows, args.report)


if __name__ == "__main__":
    main()
