"""Bad-input catalogue for output paths: whatever is at a path costcalc would write that is not
a regular file (or a folder, for batch files) is refused with exit 2 and one line, with or
without --force, and left exactly as it was, with no temporary file beside it."""

from __future__ import annotations

from pathlib import Path

import pytest

from costcalc.batch.queue import add
from tests.conftest import RunCli, assert_one_line_error
from tests.test_outputs import CONFIG, NOT_REGULAR, REGULAR_ONLY, snapshot

# (case id, argument list ({d}: the temp folder, {o}: the path made into each kind), message
# fragment after "{o}: is <kind>")
COMMANDS: list[tuple[str, list[str], str]] = [
    ("check-out", ["check", CONFIG, "--out", "{o}"], f", {REGULAR_ONLY}"),
    ("check-out-force", ["check", CONFIG, "--out", "{o}", "--force"], f", {REGULAR_ONLY}"),
    ("diff-out", ["diff", CONFIG, CONFIG, "--out", "{o}"], f", {REGULAR_ONLY}"),
    ("diff-out-force", ["diff", CONFIG, CONFIG, "--out", "{o}", "--force"], f", {REGULAR_ONLY}"),
    ("build-part", ["batch", "build", "{d}/in.txt", "-m", "gpt-4o-mini", "--out", "{d}/out", "--force"], f", {REGULAR_ONLY}"),
    ("build-manifest", ["batch", "build", "{d}/in.txt", "-m", "gpt-4o-mini", "--out", "{d}/out", "--force"], f", {REGULAR_ONLY}"),
    ("build-out-dir", ["batch", "build", "{d}/in.txt", "-m", "gpt-4o-mini", "--out", "{o}"], ", expected a folder for the batch files"),
    ("flush-out-dir", ["queue", "flush", "--db", "{d}/q.db", "--out", "{o}", "-m", "gpt-4o-mini"], ", expected a folder for the batch files"),
]  # fmt: skip
TARGET = {"build-part": "out/in-batch-001.jsonl", "build-manifest": "out/in-batch.manifest.json"}
KINDS = [k for k in NOT_REGULAR if k != "directory"]  # a directory is the folder batch files want


def _cases() -> list[tuple[str, list[str], str, str]]:
    cases = []
    for name, args, tail in COMMANDS:
        for kind in [*KINDS, *(["directory"] if "dir" not in name else [])]:
            cases.append((f"{name}-{kind}", args, tail, kind))
    return cases


CASES = _cases()


@pytest.mark.parametrize(("case", "args", "tail", "kind"), CASES, ids=[c[0] for c in CASES])
def test_output_path_refused(
    run_cli: RunCli,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    case: str,
    args: list[str],
    tail: str,
    kind: str,
) -> None:
    monkeypatch.chdir(tmp_path)  # short paths: a socket's holds 108 bytes
    (tmp_path / "in.txt").write_text("one\ntwo\n")
    add(tmp_path / "q.db", ["a task"])
    target = Path(next((v for k, v in TARGET.items() if case.startswith(k + "-")), "o"))
    target.parent.mkdir(exist_ok=True)
    what = NOT_REGULAR[kind](tmp_path / target)
    if "dir" in case and kind == "dangling-symlink":
        what = "a dangling symlink"
    before = snapshot(tmp_path)
    inside = snapshot(target.parent) if target.parent != Path(".") else None
    argv = [a.replace("{d}", ".").replace("{o}", str(target)) for a in args]
    result = run_cli(*argv)
    assert_one_line_error(result, f"{target}: is {what}{tail}")
    assert snapshot(tmp_path) == before
    if inside is not None:
        assert snapshot(target.parent) == inside  # no temporary file left in the folder


@pytest.mark.parametrize(
    "args",
    [
        ["check", "c.yaml", "--out", "c.yaml", "--force"],
        ["check", "c.yaml", "--out", "./c.yaml", "--force"],
        ["diff", "c.yaml", "b.yaml", "--out", "b.yaml", "--force"],
        ["check", "c.yaml", "--base", "b.yaml", "--out", "b.yaml", "--force"],
    ],
    ids=["check-out-is-config", "check-out-is-config-by-another-name", "diff-out-is-head",
         "check-out-is-base"],
)  # fmt: skip
def test_out_that_is_an_input_is_refused(
    run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    # the report replaced the config it was made from (exit 0)
    monkeypatch.chdir(tmp_path)
    config = Path(CONFIG).read_text()
    for name in ("c.yaml", "b.yaml"):
        (tmp_path / name).write_text(config)
    before = snapshot(tmp_path)
    assert_one_line_error(run_cli(*args), f"--out {args[args.index('--out') + 1]}: is the input")
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize(
    ("args", "env", "said"),
    [
        (["gate", "gate.json", "--comment", "none", "--out-dir", "."], {}, "--out-dir gate.json"),
        (["gate", "c.yaml", "c.yaml.md", "--comment", "none", "--out-dir", "."], {}, "--out-dir c.yaml.md"),
        (["gate", "c.yaml", "--comment", "none", "--summary", "c.yaml"], {}, "--summary c.yaml"),
        (["gate", "c.yaml", "--comment", "none"], {"GITHUB_OUTPUT": "c.yaml"}, "$GITHUB_OUTPUT c.yaml"),
        (["gate", "c.yaml", "--comment", "none"], {"GITHUB_STEP_SUMMARY": "./c.yaml"}, "$GITHUB_STEP_SUMMARY ./c.yaml"),
        (["gate", "c.yaml", "--comment", "none", "--prices", "p.yaml", "--summary", "p.yaml"], {}, "--summary p.yaml"),
        (["gate", "c.yaml", "--comment", "none"], {"COSTCALC_PRICES": "p.yaml", "GITHUB_OUTPUT": "p.yaml"}, "$GITHUB_OUTPUT p.yaml"),
        (["gate", "c.yaml", "--comment", "none", "--prices", "c.yaml.md", "--out-dir", "."], {}, "--out-dir c.yaml.md"),
        (["check", "c.yaml", "--prices", "p.yaml", "--out", "p.yaml", "--force"], {}, "--out p.yaml"),
        (["diff", "c.yaml", "c.yaml", "--out", "p.yaml", "--force"], {"COSTCALC_PRICES": "p.yaml"}, "--out p.yaml"),
    ],
    ids=["out-dir-result-is-config", "out-dir-comment-is-config", "summary-is-config",
         "github-output-is-config", "step-summary-is-config", "summary-is-a-price-file",
         "github-output-is-a-price-file-from-env", "out-dir-comment-is-a-price-file",
         "check-out-is-a-price-file", "diff-out-is-a-price-file-from-env"],
)  # fmt: skip
def test_gate_outputs_that_are_an_input_are_refused(
    run_cli: RunCli,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    env: dict[str, str],
    said: str,
) -> None:
    # the gate wrote its JSON over a config named gate.json, appended its summary or its
    # outputs to the config (exit 0; the next check found invalid YAML)
    monkeypatch.chdir(tmp_path)
    for name in ("GITHUB_ACTIONS", "GITLAB_CI", "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    config = Path(CONFIG).read_text()
    for name in ("c.yaml", "c.yaml.md", "gate.json"):
        (tmp_path / name).write_text(config)
    prices = "provider: openai\nmodels: []\n"  # a price file that changes nothing
    (tmp_path / "p.yaml").write_text(prices)
    if "--prices" in args and args[args.index("--prices") + 1] == "c.yaml.md":
        (tmp_path / "c.yaml.md").write_text(prices)
    before = snapshot(tmp_path)
    assert_one_line_error(run_cli(*args), f"{said}: is the input")
    assert snapshot(tmp_path) == before
