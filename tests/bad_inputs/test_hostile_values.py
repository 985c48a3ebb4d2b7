"""Hostile values in every option of every command: whatever the value, the command ends with
a documented exit code (0 ok, 1 a check failed, 2 bad input, 3 the environment), a failure is
exactly one printable line on stderr, and nothing raises.

The values are those a fuzzer or a hurried user gives: signs, zero, overflow, NaN, a 5,000-digit
number, a NUL byte, an empty string, non-ASCII digits, a lone surrogate (invalid UTF-8 in argv),
an option's name as its value. Some are valid for some options (``0`` requests is not, ``0``
seed is): the sweep asserts how a command fails, and the catalogue beside it what it says.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from costcalc.cli import cli
from tests.test_audit import OTLP_SPAN

VALUES = {
    "minus-one": "-1",
    "zero": "0",
    "overflow-exponent": "1e400",
    "context-overflow-exponent": "1e99999999",
    "nan": "nan",
    "minus-inf": "-inf",
    "5000-digits": "9" * 5000,
    "20-digits": "99999999999999999999",
    "nul": "\x00",
    "empty": "",
    "blank": " ",
    "arabic-digits": "١٢",
    "hex": "0x10",
    "tiny-exponent": "1e-400",
    "lone-surrogate": "\udcff",
    "an-option": "--help",
    "dash": "-",
}

# (name, base arguments, options to give each hostile value)
COMMANDS: list[tuple[str, list[str], list[str]]] = [
    ("quote", ["quote", "-m", "gpt-4o", "-n", "10", "-i", "100", "-o", "10"],
     ["-n", "-i", "-o", "--cached-share", "--cache-write-share", "--cancel-rate", "--cancel-after",
      "--billed-after-cancel", "--deadline", "--value-of-time", "--tier", "--rpm", "--tpm",
      "--batch-queue-tokens", "--concurrency", "--as-of", "-m", "--modes", "--name"]),
    ("quote-file", ["quote", "-m", "gpt-4o", "--input-file", "p.txt", "-o", "10"],
     ["--sample", "--input-column", "--seed", "--input-file"]),
    ("tokens", ["tokens", "p.txt"],
     ["--sample", "--jobs", "--field", "--column", "--template", "-m", "--seed", "-t"]),
    ("route", ["route", "--source", "cron"], ["--deadline", "-m", "--policy", "--workload"]),
    ("batch-build", ["batch", "build", "p.jsonl", "-m", "gpt-4o", "--out", "built", "--force"],
     ["--max-tokens", "--output-tokens", "--max-requests", "--max-bytes", "--id-prefix",
      "--system", "--field", "-m", "--out"]),
    ("batch-quote", ["batch", "quote", "{batch}"], ["--output-tokens", "-m"]),
    ("batch-validate", ["batch", "validate", "{batch}"], ["--max-requests", "--max-bytes", "-m"]),
    ("batch-reconcile", ["batch", "reconcile", "results.jsonl"], ["--as-of", "-m", "--input"]),
    ("queue-flush", ["queue", "flush", "--db", "q.db", "--out", "flushed", "-m", "gpt-4o"],
     ["--max-tokens", "--max-requests", "--max-bytes", "--system", "-m", "--db"]),
    ("queue-status", ["queue", "status", "--db", "q.db"], ["--db"]),
    ("exercise", ["exercise"],
     ["--rows", "--tokens-per-row", "--rate", "--value-of-time", "--output-share", "--as-of"]),
    ("check", ["check", "costcalc.yaml"], ["--base", "--out"]),
    ("diff", ["diff", "costcalc.yaml", "costcalc.yaml"], ["--fail-on-increase", "--out"]),
    ("gate", ["gate", "costcalc.yaml", "--comment", "none"],
     ["--base", "--fail-on-increase", "--warn-on-increase", "--summary", "--out-dir"]),
    ("prices-list", ["prices", "list"], ["--provider", "--as-of"]),
    ("audit", ["audit", "spans.jsonl"],
     ["--input-format", "--group-by", "--mapping", "--policy", "--days-per-month", "--as-of",
      "--write-config"]),
    ("prices-show", ["prices", "show", "gpt-4o"], ["--as-of"]),
]  # fmt: skip

RESULTS = {
    "custom_id": "row-1",
    "response": {
        "status_code": 200,
        "body": {"model": "gpt-4o", "usage": {"prompt_tokens": 10, "completion_tokens": 5}},
    },
}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with one input of each kind, and a batch file built from one of them."""
    root = tmp_path_factory.mktemp("hostile")
    (root / "p.txt").write_text("hello world\nsecond line\n")
    (root / "p.jsonl").write_text('{"prompt": "hi"}\n{"prompt": "there"}\n')
    (root / "results.jsonl").write_text(json.dumps(RESULTS) + "\n")
    (root / "spans.jsonl").write_text(json.dumps(OTLP_SPAN) + "\n")
    (root / "costcalc.yaml").write_text(
        "workloads:\n  - name: a\n    model: gpt-4o\n    requests: 10\n"
        "    input_tokens: 100\n    output_tokens: 10\n"
    )
    return root


def _cases() -> Iterator[tuple[str, list[str]]]:
    for name, base, options in COMMANDS:
        for option in options:
            for label, value in VALUES.items():
                args = list(base)
                if option in args:
                    args[args.index(option) + 1] = value
                else:
                    args += [option, value]
                yield f"{name}{option}={label}", args


CASES = list(_cases())


@pytest.mark.parametrize("args", [c[1] for c in CASES], ids=[c[0] for c in CASES])
def test_a_hostile_value_ends_with_a_documented_exit_code_and_one_line(
    args: list[str], workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(workdir)
    args = [a.replace("{batch}", str(_batch(workdir))) for a in args]
    result = CliRunner().invoke(cli, args, catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"raised {result.exception!r}") from result.exception
    assert result.exit_code in (0, 1, 2, 3), (result.exit_code, result.stderr)
    errors = [line for line in result.stderr.splitlines() if line.startswith("costcalc: error:")]
    if result.exit_code in (2, 3):
        assert len(errors) == 1, result.stderr
        assert len(errors[0]) < 1000, errors[0]  # a 5,000-character value is cut short
        assert "Traceback" not in result.stderr
    assert all(c.isprintable() for c in result.stderr.replace("\n", "")), repr(result.stderr)


def _batch(workdir: Path) -> Path:
    """A batch file built once per module from p.jsonl (the base of the batch cases)."""
    folder = workdir / "built-once"
    if not folder.exists():
        result = CliRunner().invoke(
            cli, ["batch", "build", str(workdir / "p.jsonl"), "-m", "gpt-4o", "--out", str(folder)]
        )
        assert result.exit_code == 0, result.stderr
    return next(folder.glob("*.jsonl"))


def test_the_sweep_covers_every_command_that_takes_options() -> None:
    """A new command or subcommand needs its row here (or a reason it takes no values)."""
    from costcalc.cli import COMMANDS as TOP

    covered = {" ".join(base[:2]) if base[0] in ("batch", "queue", "prices") else base[0]
               for _, base, _ in COMMANDS}  # fmt: skip
    for name in TOP:
        assert any(c == name or c.startswith(name + " ") for c in covered), name
    assert len(CASES) >= 400


EMPTY_PATHS = [
    # (an empty path where a command reads or writes a file, the name the message gives)
    (["tokens", ""], "[FILES]..."),
    (["quote", "-m", "gpt-4o", "-o", "10", "--input-file", ""], "--input-file"),
    (["quote", ""], "[WORKLOAD.yaml]"),
    (["batch", "build", "", "-m", "gpt-4o", "--out", "built"], "INPUT"),
    (["batch", "build", "p.jsonl", "-m", "gpt-4o", "--out", ""], "--out"),
    (["batch", "validate", ""], "FILES..."),
    (["batch", "reconcile", "results.jsonl", "--input", ""], "--input"),
    (["queue", "add", "--db", "", "hello"], "--db"),
    (["prices", "audit", "--against", ""], "--against"),
    (["prices", "audit", "--known", ""], "--known"),
    (["prices", "show", "gpt-4o", "--prices", ""], "--prices"),
    (["audit", ""], "PATH..."),
    (["audit", "spans.jsonl", "--mapping", ""], "--mapping"),
    (["audit", "spans.jsonl", "--write-config", ""], "--write-config"),
    (["check", ""], "[CONFIG ...]"),
    (["check", "costcalc.yaml", "--out", ""], "--out"),
    (["diff", "", "costcalc.yaml"], "BASE"),
    (["diff", "costcalc.yaml", ""], "HEAD"),
    (["prices", "update", "--from", ""], "--from"),
]


@pytest.mark.parametrize(("args", "name"), EMPTY_PATHS, ids=[" ".join(a) for a, _ in EMPTY_PATHS])
def test_an_empty_path_is_refused_by_its_name(
    args: list[str], name: str, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``""`` as a path is neither the current folder (``--db ""`` opened ".") nor a file
    without a name: the option (or argument) is named, exit 2."""
    monkeypatch.chdir(workdir)
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 2, result.stderr
    assert f"Invalid value for '{name}': an empty path" in result.stderr, result.stderr
