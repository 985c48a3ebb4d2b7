"""Golden outputs: the table and markdown of a fixed quote, byte for byte.

After an intended change, rewrite them with: UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import RunCli

HERE = Path(__file__).resolve().parent
WORKLOADS = HERE / "data" / "workloads.yaml"

CASES = [
    ("quote.txt", ["quote", str(WORKLOADS)]),
    ("quote.md", ["quote", str(WORKLOADS), "--format", "markdown"]),
    ("exercise.txt", ["exercise", "--as-of", "2026-11-26"]),
    ("exercise.md", ["exercise", "--as-of", "2026-11-26", "--format", "markdown"]),
]


@pytest.mark.parametrize(("golden", "args"), CASES, ids=[c[0] for c in CASES])
def test_golden_output(run_cli: RunCli, golden: str, args: list[str]) -> None:
    result = run_cli(*args)
    assert result.exit_code == 0, result.stderr
    path = HERE / "golden" / golden
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(result.stdout, encoding="utf-8")
    assert result.stdout == path.read_text(encoding="utf-8")
