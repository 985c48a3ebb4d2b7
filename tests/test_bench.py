"""Every benchmark runs (``--quick``) and writes report rows of the contract's shape.

The figures of a quick run mean nothing (small sizes, 2-3 rounds, a busy test machine): these
tests check that each bench in bench/ still runs end to end and reports what
bench/run_all.py gathers. Their data is generated once into bench/data/ (git-ignored).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
BENCHES = sorted(p.name for p in BENCH.glob("bench_*.py"))
KEYS = {"bench", "metric", "costcalc", "baseline", "ratio", "min", "max", "target", "met"}


SLOW = "COSTCALC_TEST_SPARK_BENCH"
"""Set to 1 to smoke-test bench_spark.py too: Spark's start-up alone takes 20-40 s, more than
the whole suite may spend here."""


def needs(name: str) -> list[pytest.MarkDecorator]:
    """bench_spark.py needs pyspark, Java and $COSTCALC_TEST_SPARK_BENCH; bench_parquet.py
    pyarrow."""
    spark = importlib.util.find_spec("pyspark") is not None and shutil.which("java")
    missing = {
        "bench_spark.py": not spark or os.environ.get(SLOW) != "1",
        "bench_parquet.py": importlib.util.find_spec("pyarrow") is None,
    }.get(name, False)
    return [pytest.mark.skipif(missing, reason=f"{name} needs an optional extra (or ${SLOW})")]


def check_rows(rows: object, bench: str) -> None:
    assert isinstance(rows, list) and rows, rows
    for row in rows:
        assert isinstance(row, dict) and set(row) == KEYS, row
        assert row["bench"] == bench
        for key in ("metric", "costcalc", "baseline", "target"):
            assert isinstance(row[key], str) and row[key], row
        for key in ("ratio", "min", "max"):
            assert row[key] is None or isinstance(row[key], int | float), row
        assert isinstance(row["met"], bool)
        if row["min"] is not None:
            assert row["ratio"] is not None and row["max"] is not None
            assert row["min"] <= row["ratio"] <= row["max"], row


@pytest.mark.parametrize("name", [pytest.param(n, marks=needs(n)) for n in BENCHES])
def test_bench_runs_quick_and_reports_rows(name: str, tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    done = subprocess.run(
        [sys.executable, str(BENCH / name), "--quick", "--report", str(report)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=BENCH.parent,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    check_rows(json.loads(report.read_text(encoding="utf-8")), name)
    assert "| met?" in done.stdout  # the side-by-side table


def test_run_all_prints_one_table_and_exits_0() -> None:
    done = subprocess.run(
        # this Python, not the venv run_all.py makes by default (that would reach the package
        # index: tests stay offline)
        [
            *(sys.executable, str(BENCH / "run_all.py"), "--quick", "--only", "bench_startup.py"),
            *("--python", sys.executable),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=BENCH.parent,
    )
    assert done.returncode == 0, done.stderr
    head = next(line for line in done.stdout.splitlines() if line.startswith("bench "))
    columns = [cell.strip() for cell in head.split("|")]
    assert columns == [
        *("bench", "metric", "costcalc", "baseline", "ratio", "min-max", "target", "met?")
    ]
    assert "bench_startup.py" in done.stdout and "--help" in done.stdout
    assert "costcalc " in done.stdout and "install" in done.stdout  # how it is installed


def test_memory_is_the_whole_process_tree() -> None:
    """A parent holding 40 MiB with a child holding 60 MiB: the tree peaks at their sum."""
    sys.path.insert(0, str(BENCH))
    try:
        from _measure import run
    finally:
        sys.path.remove(str(BENCH))
    child = "import time; b = bytearray(60 * 2**20); time.sleep(0.5)"
    parent = (
        "import subprocess, sys; b = bytearray(40 * 2**20); "
        f"subprocess.run([sys.executable, '-c', {child!r}], check=True)"
    )
    done = run([sys.executable, "-c", parent])
    assert done.tree_mib >= 95, done
    assert done.anon_mib < 60 < done.tree_mib
