"""Start-up: `costcalc --help` and `--version` against a whole quote, over the floor.

Each a fresh process, in rounds (the order rotated every round): `python -c pass` (the
floor of any Python command), `costcalc --version`, `costcalc --help` and
`costcalc quote -m gpt-4o -n 1 -i 1000 -o 200` (a whole quote: the price table, pydantic's
models, the render). Per round, the share of the quote's wall time that --help (and
--version) took; reported as median, min and max (target: --help <= 0.60x of a quote, the
list of commands imports none of them). Also that share with the floor taken off both.

    python bench/bench_startup.py [--rounds 20] [--quick] [--report FILE]
"""

from __future__ import annotations

import argparse
import statistics
import sys

from _measure import Result, Run, finish, machine, options, result, run
from bench_quote import costcalc_exe

BENCH = "bench_startup.py"
TARGET = 0.6


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--rounds", type=int, default=20, help="rounds (20)")
    options(ap)
    args = ap.parse_args()
    rounds = 3 if args.quick else args.rounds
    exe = costcalc_exe()
    cmds = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "costcalc --version": [exe, "--version"],
        "costcalc --help": [exe, "--help"],
        "costcalc quote": [exe, "quote", "-m", "gpt-4o", "-n", "1", "-i", "1000", "-o", "200"],
    }
    print(machine())
    for cmd in cmds.values():
        run(cmd)  # warm the file cache; not counted
    runs: dict[str, list[Run]] = {name: [] for name in cmds}
    names = list(cmds)
    for i in range(rounds):
        turn = i % len(names)
        for name in names[turn:] + names[:turn]:
            runs[name].append(run(cmds[name]))
    print(f"\n{rounds} rounds, each a fresh process, order rotated every round")
    print(f"{'command':<22} {'wall ms':>8} {'CPU ms':>8} {'anon MiB':>9}")
    for name, done in runs.items():
        wall = statistics.median(r.seconds for r in done) * 1000
        cpu = statistics.median(r.cpu_s for r in done) * 1000
        print(f"{name:<22} {wall:>8.0f} {cpu:>8.0f} {max(r.anon_mib for r in done):>9.1f}")
    quote, floor = runs["costcalc quote"], runs["python -c pass"]
    q_ms = statistics.median(r.seconds for r in quote) * 1000
    rows: list[Result] = []
    for name in ("costcalc --help", "costcalc --version"):
        mine = runs[name]
        share = [a.seconds / q.seconds for a, q in zip(mine, quote, strict=True)]
        over = [
            (a.seconds - f.seconds) / (q.seconds - f.seconds)
            for a, q, f in zip(mine, quote, floor, strict=True)
        ]
        ms = statistics.median(r.seconds for r in mine) * 1000
        for label, values in (("wall", share), ("wall over the floor", over)):
            mid = statistics.median(values)
            rows.append(
                result(
                    BENCH,
                    f"{name.split()[1]}: {label}, share of a whole quote's",
                    f"{ms:.0f} ms",
                    f"{q_ms:.0f} ms (quote)",
                    values,
                    f"<= {TARGET:.2f}x" if label == "wall" else "(report)",
                    mid <= TARGET if label == "wall" else True,
                )
            )
    f_ms = statistics.median(r.seconds for r in floor) * 1000
    rows.append(result(BENCH, "floor: python -c pass", f"{f_ms:.0f} ms", "-", None, "-", True))
    finish(BENCH, rows, args.report)


if __name__ == "__main__":
    main()
