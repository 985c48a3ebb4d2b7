"""`--engine spark` where the machine cannot run it: one line each, before Spark starts."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.conftest import RunCli, assert_one_line_error


def test_without_pyspark_the_extra_is_named(
    run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pyspark", None)  # import pyspark raises ImportError
    result = run_cli("tokens", "--engine", "spark", "--column", "text", str(tmp_path))
    assert_one_line_error(result, 'counting on Spark needs pyspark: pip install "costcalc[spark]"')


def test_without_java_the_environment_failed(
    run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("pyspark", reason="without pyspark the extra is named first")
    pytest.importorskip("pyarrow", reason="without pyarrow the extra is named first")
    pytest.importorskip("pandas", reason="without pandas the extra is named first")
    monkeypatch.setattr("shutil.which", lambda _name: None)
    monkeypatch.delenv("JAVA_HOME", raising=False)
    result = run_cli("tokens", "--engine", "spark", "--column", "text", str(tmp_path))
    assert_one_line_error(result, "java: not found: Spark needs Java 17", code=3)
