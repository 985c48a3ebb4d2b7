"""Run every benchmark (bench/bench_*.py) with --report and print ONE table of every row
against its target: bench, metric, costcalc, baseline, median ratio, min-max, target, met.

Each bench runs in its own subprocess, one after another (so they do not share the cores),
with a generous timeout; its own output goes to bench/data/run_all/NAME.log. A bench that
fails or times out is a row of its own (met: NO) and the others still run. Exits 0 whatever
the verdicts: the table is the report (README's performance section is its output).

The benchmarks run costcalc as users install it: from bench/.venv-costcalc, a venv of this
script's own where costcalc is pip-installed from this tree (a wheel, its bytecode compiled)
with the parquet and spark extras, made on the first run and reinstalled from the tree at
every run. An editable install run with PYTHONDONTWRITEBYTECODE compiles every module at each
start, some 50 ms no user pays. ``--python PY`` runs them with another interpreter instead
(each report's first line says how costcalc was installed there).

    python bench/run_all.py [--quick] [--only bench_check.py ...] [--timeout 3600]
                            [--python PY]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

from _measure import Result, result, table

HERE = Path(__file__).resolve().parent
LOGS = HERE / "data" / "run_all"
VENV = HERE / ".venv-costcalc"


def users_install() -> str:
    """The Python of bench/.venv-costcalc, with costcalc installed from this tree as a user
    installs it (made on the first run; costcalc reinstalled from the tree every run)."""
    python = VENV / "bin" / "python"
    tree = str(HERE.parent)
    if not python.exists():
        print(f"creating {VENV} with costcalc[parquet,spark] from {tree} ...", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
        pip = [str(python), "-m", "pip", "install", "-q"]
        subprocess.run([*pip, f"{tree}[parquet,spark]"], check=True)
    pip = [str(python), "-m", "pip", "install", "-q", "--force-reinstall", "--no-deps", tree]
    subprocess.run(pip, check=True)
    # a venv left half-made (a first run stopped mid-install) or a dependency added since:
    # what pip check finds missing, or an extra that does not import, is installed
    checks = ([str(python), "-m", "pip", "check"], [str(python), "-c", "import pyarrow, pyspark"])
    if any(subprocess.run(c, capture_output=True).returncode for c in checks):
        subprocess.run([str(python), "-m", "pip", "install", "-q", f"{tree}[parquet,spark]"])
    return str(python)


def benches() -> list[Path]:
    return sorted(HERE.glob("bench_*.py"))


def run_bench(path: Path, python: str, quick: bool, timeout: float) -> tuple[list[Result], float]:
    """The bench's report rows (or one row saying why there are none) and its wall time."""
    LOGS.mkdir(parents=True, exist_ok=True)
    log = LOGS / f"{path.stem}{'-quick' if quick else ''}.log"
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        cmd = [python, str(path), "--report", str(report), *(["--quick"] * quick)]
        start = time.perf_counter()
        try:
            with log.open("w", encoding="utf-8") as out:
                done = subprocess.run(
                    cmd, stdout=out, stderr=subprocess.STDOUT, timeout=timeout, cwd=HERE.parent
                )
            why = f"exit {done.returncode}" if done.returncode else ""
        except subprocess.TimeoutExpired:
            why = f"timed out after {timeout:.0f} s"
        secs = time.perf_counter() - start
        if not why and report.exists():
            return json.loads(report.read_text(encoding="utf-8")), secs
    why = why or "wrote no report"
    return [
        result(path.name, f"(did not finish: {why}; see {log})", "-", "-", None, "-", False)
    ], secs


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="each bench with --quick (a smoke test)")
    ap.add_argument("--only", nargs="+", metavar="BENCH", help="these bench files only")
    ap.add_argument("--timeout", type=float, default=3600, help="seconds per bench (3600)")
    ap.add_argument(
        "--python", metavar="PY", help="run the benches with this Python (default: the venv)"
    )
    args = ap.parse_args()
    known = {path.name for path in benches()}
    unknown = sorted(set(args.only or ()) - known)
    if unknown:
        ap.error(f"no such bench: {', '.join(unknown)} (there are {', '.join(sorted(known))})")
    if args.python and not Path(args.python).is_file():
        ap.error(f"--python {args.python}: no such file")
    python = args.python or users_install()
    began = time.perf_counter()
    rows: list[Result] = []
    took = []
    for path in benches():
        if args.only and path.name not in args.only:
            continue
        print(f"running {path.name}{' --quick' if args.quick else ''} ...", flush=True)
        got, secs = run_bench(path, python, args.quick, args.timeout)
        rows += got
        took.append(f"{path.name} {secs:.0f} s")
    given = " ".join(sys.argv[1:])  # the command as it was run, options and all
    print(f"\n$ python bench/run_all.py{' ' + given if given else ''}")
    # the machine line as the benches' Python sees it: how costcalc is installed there
    about = [python, "-c", "import _measure; print(_measure.machine())"]
    print(subprocess.run(about, cwd=HERE, capture_output=True, text=True).stdout.strip())
    met = sum(r["met"] for r in rows)
    total = time.perf_counter() - began
    print(f"{len(rows)} rows, {met} met; {'; '.join(took)}; total {total:.0f} s\n")
    table(rows, with_bench=True)


if __name__ == "__main__":
    main()
