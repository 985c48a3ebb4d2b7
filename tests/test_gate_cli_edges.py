"""`costcalc gate` on the command line at its edges (trial 7): --out-dir names, a missing git,
the order of refusals, and what the last line and the hints say."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from costcalc.gate import marker_for
from tests.conftest import RunCli, assert_one_line_error
from tests.test_gate import BATCHED, commit, repo

__all__ = ["repo"]  # the fixture


def test_out_dir_names_stay_distinct_when_two_paths_flatten_alike(
    repo: Path, run_cli: RunCli, tmp_path: Path
) -> None:
    """`svc/new/costcalc.yaml` and `svc__new__costcalc.yaml` both became
    `svc__new__costcalc.yaml.md`: one file for two comments, comment-file the wrong one."""
    other = BATCHED.replace("requests_per_day: 20000", "requests_per_day: 100")
    commit(repo, {"svc/new/costcalc.yaml": BATCHED, "svc__new__costcalc.yaml": other}, "two")
    output = tmp_path / "github_output"
    output.write_text("")
    paths = ["svc/new/costcalc.yaml", "svc__new__costcalc.yaml"]
    for order in (paths, paths[::-1]):
        out = tmp_path / "out"
        result = run_cli("gate", *order, "--base", "HEAD", "--comment", "none", "--out-dir",
                         str(out), env={"GITHUB_OUTPUT": str(output)})  # fmt: skip
        assert result.exit_code == 0, result.stderr
        comments = sorted(p for p in out.iterdir() if p.suffix == ".md")
        markers = sorted(p.read_text().splitlines()[0] for p in comments)
        assert markers == sorted(marker_for(p) for p in paths)
        assert len(json.loads((out / "gate.json").read_text())["configs"]) == 2
        values = dict(ln.split("=", 1) for ln in output.read_text().splitlines())
        first = Path(values["comment-file"]).read_text()
        assert first.startswith(marker_for(order[0]) + "\n")
        for p in comments:
            p.unlink()


def test_a_missing_git_is_the_environment_exit_3(
    repo: Path, run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A missing tool is the machine's failure, not bad input (2); git's `main^{commit}` is
    not the user's word."""
    commit(repo, {"costcalc.yaml": BATCHED}, "base")
    empty = tmp_path / "no-git-here"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    result = run_cli("check", "costcalc.yaml", "--base", "main:costcalc.yaml")
    assert_one_line_error(result, "git: not installed (needed to read main:costcalc.yaml)", code=3)
    output = tmp_path / "github_output"
    result = run_cli("gate", "--base", "main", "--comment", "none", "--no-fetch-base",
                     env={"GITHUB_OUTPUT": str(output)})  # fmt: skip
    assert_one_line_error(result, "git: not installed (needed to read main)", code=3)
    assert "^{commit}" not in result.stderr and output.read_text() == "passed=false\n"


@pytest.mark.parametrize("target", ["summary", "github-output"])
def test_a_summary_that_cannot_be_appended_to_is_refused_before_the_report(
    repo: Path, run_cli: RunCli, tmp_path: Path, target: str
) -> None:
    """`--summary FIFO` printed the report, then exited 2 (hiding the check's 1)."""
    commit(repo, {"costcalc.yaml": BATCHED.replace("monthly: 5000", "monthly: 1")}, "base")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    args = ["gate", "--base", "main", "--comment", "none"]
    if target == "summary":
        result = run_cli(*args, "--summary", str(fifo))
    else:
        result = run_cli(*args, env={"GITHUB_OUTPUT": str(fifo)})
    assert_one_line_error(result, f"{fifo}: is a FIFO, expected a file to append to")
    assert result.stdout == ""


def test_the_last_line_counts_the_configs_that_failed(repo: Path, run_cli: RunCli) -> None:
    cheap = BATCHED.replace("monthly: 5000", "monthly: 1")
    commit(repo, {"a/costcalc.yaml": BATCHED, "b/costcalc.yaml": cheap,
                  "c/costcalc.yaml": BATCHED}, "three")  # fmt: skip
    result = run_cli("gate", "*/costcalc.yaml", "--base", "main", "--comment", "none")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[-1] == "FAILED: 1 of 3 config(s), base main"
    result = run_cli("gate", "a/costcalc.yaml", "--base", "main", "--comment", "none")
    assert result.stdout.splitlines()[-1] == "passed: 1 config(s), base main"
