"""User text with control characters (a terminal escape in a workload or file name) is written
escaped in every table, plain and Markdown report, and never becomes part of a file name."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import RunCli, assert_one_line_error

ESC_NAME = "a\x1b[31mRED"
CONFIG = """
workloads:
  - name: "a\\e[31mRED"
    model: gpt-4o-mini
    requests_per_day: {n}
    input_tokens: 10
    output_tokens: 10
"""


@pytest.mark.parametrize("fmt", ["table", "markdown"])
@pytest.mark.parametrize("command", ["check", "diff"])
def test_workload_name_escaped(
    command: str, fmt: str, run_cli: RunCli, write: Callable[[str, str], Path]
) -> None:
    base = write("base.yaml", CONFIG.format(n=10))
    head = write("head.yaml", CONFIG.format(n=20))
    args = ["check", str(head)] if command == "check" else ["diff", str(base), str(head)]
    result = run_cli(*args, "--format", fmt)
    assert result.exit_code in (0, 1), result.stderr
    assert "\x1b" not in result.stdout
    # as the gate writes it: the control character flattened (Markdown's "[" escaped)
    assert ("a [31mRED" if fmt == "table" else "a \\[31mRED") in result.stdout


@pytest.mark.parametrize("fmt", ["table", "markdown"])
def test_quote_name_escaped(fmt: str, run_cli: RunCli) -> None:
    result = run_cli("quote", "-m", "gpt-4o", "-n", "10", "-i", "10", "-o", "5",
                     "--name", "x\x1b[2Jy", "--format", fmt)  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "\x1b" not in result.stdout
    assert "x\\x1b[2Jy" in result.stdout


def test_batch_build_input_name_escaped(run_cli: RunCli, tmp_path: Path) -> None:
    source = tmp_path / "f\x1b[31m.txt"
    source.write_text("hello\n", encoding="utf-8")
    out = tmp_path / "o"
    result = run_cli("batch", "build", "-m", "gpt-4o-mini", "--out", str(out), str(source))
    assert result.exit_code == 0, result.stderr
    assert "\x1b" not in result.stdout
    names = sorted(p.name for p in out.iterdir())
    assert names == ["f_[31m-batch-001.jsonl", "f_[31m-batch.manifest.json"]


@pytest.mark.parametrize(
    "args",
    [
        ["batch", "quote", "s.jsonl"],
        ["quote", "-m", "gpt-4o", "--input-file", "s.jsonl", "-o", "5"],
    ],
    ids=["batch-quote", "quote-input-file"],
)
def test_surrogate_custom_id_is_a_bad_line(
    args: list[str], run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    line = {"custom_id": "a\ud800", "method": "POST", "url": "/v1/chat/completions",
            "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}}  # fmt: skip
    (tmp_path / "s.jsonl").write_text(json.dumps(line) + "\n", encoding="utf-8")
    assert_one_line_error(run_cli(*args), "s.jsonl:1: custom_id holds a lone surrogate (\\ud800)")


def test_file_names_escaped_in_check_and_validate(run_cli: RunCli, tmp_path: Path) -> None:
    config = tmp_path / "c\x1b[1m.yaml"
    config.write_text(CONFIG.format(n=10).replace("a\\e[31mRED", "a"), encoding="utf-8")
    result = run_cli("check", str(config))
    assert result.exit_code == 0 and "\x1b" not in result.stdout, result.stderr
    batch = tmp_path / "v\x1b[1m.jsonl"
    line = {"custom_id": "a", "method": "POST", "url": "/v1/chat/completions",
            "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": ""}]}}  # fmt: skip
    batch.write_text(json.dumps(line) + "\n", encoding="utf-8")
    result = run_cli("batch", "validate", str(batch))
    assert result.exit_code == 1 and "\x1b" not in result.stdout
    assert "v\\x1b[1m.jsonl:1:" in result.stdout


HOSTILE = """
workloads:
  - name: "a\\n::error::pwned"
    model: gpt-4o-mini
    requests_per_day: {n}
    input_tokens: 1000
    output_tokens: 100
    budget: 1
  - name: "@octocat <img src=x> | [x](http://e) ##[error]boom\\r\\t\\x07"
    model: gpt-4o-mini
    requests_per_day: {n}
    input_tokens: 1000
    output_tokens: 100
    budget: 1
"""


@pytest.mark.parametrize("fmt", ["table", "markdown"])
@pytest.mark.parametrize("command", ["check", "diff"])
def test_hostile_names_are_escaped_as_the_gate_escapes_them(
    command: str, fmt: str, run_cli: RunCli, write: Callable[[str, str], Path]
) -> None:
    """A name with a newline and `::error::` wrote a workflow command line from `check`;
    `@octocat <img>` reached check's and diff's Markdown raw (diff escaped only `|`)."""
    base = write("base.yaml", CONFIG.format(n=10))
    head = write("head.yaml", HOSTILE.format(n=1000))
    args = ["check", str(head)] if command == "check" else ["diff", str(base), str(head)]
    result = run_cli(*args, "--format", fmt)
    assert result.exit_code in (0, 1), result.stderr
    lines = result.stdout.splitlines()
    assert not [ln for ln in lines if ln.lstrip().startswith("::") or "##[" in ln]
    assert not any(c in result.stdout for c in "\r\x07\t")
    assert "pwned" in result.stdout and "boom" in result.stdout
    if fmt == "markdown":
        assert "<img" not in result.stdout and "&lt;img src=x&gt;" in result.stdout
        assert "@octocat" not in result.stdout and "@\u200boctocat" in result.stdout
        assert "](http" not in result.stdout
