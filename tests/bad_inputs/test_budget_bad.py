"""Bad-input catalogue for `costcalc check` and `costcalc diff`: exit 2, one line, no traceback."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import RunCli, assert_one_line_error

GOOD = """\
workloads:
  - name: a
    model: gpt-4o
    requests_per_day: 1000
    input_tokens: 800
    output_tokens: 200
"""

# (case id, config text, message fragments)
CONFIGS: list[tuple[str, str, tuple[str, ...]]] = [
    ("unknown-key", GOOD + "    colour: red\n", (":7:", "workloads[0].colour: unknown key")),
    ("unknown-top-level-key", "budget:\n  monthly: 5\n" + GOOD, (":1:", "budget: unknown key (did you mean 'budgets'?)")),
    ("misspelt-budget-key", "budgets:\n  montly: 5\n" + GOOD, (":2:", "budgets.montly: unknown key (did you mean 'monthly'?)")),
    ("other-currency", "currency: EUR\n" + GOOD, (":1:", "currency 'EUR': the price table is in USD")),
    ("negative-budget", "budgets:\n  monthly: -100\n" + GOOD, (":2:", "budgets.monthly: must be >= 0")),
    ("negative-workload-budget", GOOD + "    budget: -1\n", (":7:", "workloads[0].budget: must be >= 0")),
    ("unknown-model", GOOD.replace("gpt-4o", "gpt-4-o"), (":3:", "workloads[0].model: unknown model 'gpt-4-o'", "did you mean")),
    ("empty-model", GOOD.replace("gpt-4o", "''"), (":3:", "workloads[0].model: unknown model ''")),
    ("unpriced-model", GOOD.replace("gpt-4o", "groq:whisper-large-v3"), (":3:", "workloads[0].model: no price per text token")),
    ("no-volume", GOOD.replace("    requests_per_day: 1000\n", ""), (":2:", "give requests_per_day or requests_per_month")),
    ("both-volumes", GOOD + "    requests_per_month: 5\n", ("give requests_per_day or requests_per_month",)),
    ("unknown-mode", GOOD + "    mode: turbo\n", (":7:", "workloads[0].mode")),
    ("mode-not-sold", GOOD + "    mode: flex\n", ("costcalc.yaml:7: workloads[0].mode: runs in flex, but gpt-4o has no flex tier",)),
    ("duplicate-names", GOOD + GOOD.split("workloads:\n", 1)[1], ("costcalc.yaml:7: workloads[1].name: workload names must be unique: 'a' is also workloads[0]",)),
    ("as-of-without-prices", "as_of: 1999-01-01\n" + GOOD, ("costcalc.yaml:1: as_of: gpt-4o has no prices on 1999-01-01", "(workloads[0].model)")),
    ("name-too-long", GOOD.replace("name: a", "name: " + "x" * 201), (":2:", "workloads[0].name: string should have at most 200 characters")),
    ("malformed", "workloads: [\n", ("invalid YAML",)),
    ("empty", "", ("is empty",)),
    ("bad-deadline", GOOD + "    deadline: soon\n", (":7:", "bad duration 'soon'")),
    ("nothing-to-price", GOOD.replace("input_tokens: 800", "input_tokens: 0").replace("output_tokens: 200", "output_tokens: 0"), (":2:", "both zero: nothing to price")),
    ("absurd-volume", GOOD.replace("requests_per_day: 1000", "requests_per_day: 1e400"), (":4:", "requests_per_day: must be <= 1000000000000")),
    ("negative-warn-level", "budgets:\n  warn_monthly: -1\n" + GOOD, (":2:", "budgets.warn_monthly: must be >= 0")),
    ("misspelt-warn-level", "budgets:\n  warn_montly: 5\n" + GOOD, (":2:", "budgets.warn_montly: unknown key")),
    ("over-context", GOOD.replace("input_tokens: 800", "input_tokens: 500000"), ("costcalc.yaml: workload 'a': input_tokens 500,000 per request exceeds gpt-4o's limit",)),
]  # fmt: skip


@pytest.mark.parametrize(("name", "text", "fragments"), CONFIGS, ids=[c[0] for c in CONFIGS])
def test_check_rejects(
    run_cli: RunCli, tmp_path: Path, name: str, text: str, fragments: tuple[str, ...]
) -> None:
    path = tmp_path / "costcalc.yaml"
    path.write_text(text)
    assert_one_line_error(run_cli("check", str(path)), *fragments)
    other = tmp_path / "good.yaml"
    other.write_text(GOOD)
    assert_one_line_error(run_cli("diff", str(other), str(path)), *fragments)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    subprocess.run(["git", "init", "-q", str(tmp_path / "r")], check=True, timeout=60)
    return tmp_path / "r"


# (case id, argument list ({d}: temp folder), message fragments)
CASES: list[tuple[str, list[str], tuple[str, ...]]] = [
    ("missing-config", ["check", "{d}/nope.yaml"], ("nope.yaml: no such config file",)),
    ("missing-default-config", ["check"], ("costcalc.yaml: no such config file",)),
    ("config-is-dir", ["check", "{d}"], ("is a directory",)),
    ("bad-ref", ["diff", "no-such-ref:costcalc.yaml", "{d}/good.yaml"], ("cannot read no-such-ref:costcalc.yaml",)),
    ("bad-ref-path", ["diff", "HEAD:nope.yaml", "{d}/good.yaml"], ("cannot read HEAD:nope.yaml",)),
    ("bad-threshold", ["diff", "{d}/good.yaml", "{d}/good.yaml", "--fail-on-increase", "lots"], ("--fail-on-increase 'lots'", "10%")),
    ("negative-threshold", ["diff", "{d}/good.yaml", "{d}/good.yaml", "--fail-on-increase", "-5%"], ("--fail-on-increase '-5%'",)),
    ("out-exists", ["check", "{d}/good.yaml", "--out", "{d}/report.md"], ("report.md already exists (use --force",)),
    ("out-is-the-config", ["check", "{d}/good.yaml", "--out", "{d}/good.yaml"], ("good.yaml: is the input",)),
    ("out-folder-missing", ["check", "{d}/good.yaml", "--out", "{d}/no/such/report.md"], ("no such folder",)),
    ("ref-is-an-option", ["diff", "--", "--output={d}/x:y", "{d}/good.yaml"], ("'--output=", "a git ref cannot begin with '-'")),
    ("base-ref-is-an-option", ["check", "{d}/good.yaml", "--base", "--output={d}/x:y"], ("a git ref cannot begin with '-'",)),
    ("ref-is-a-dash", ["diff", "--", "-:good.yaml", "{d}/good.yaml"], ("'-:good.yaml': a git ref cannot begin with '-'",)),
    ("gate-bad-warn-threshold", ["gate", "{d}/good.yaml", "--warn-on-increase", "lots", "--comment", "none"], ("--warn-on-increase 'lots'", "10%")),
    ("gate-glob-matches-nothing", ["gate", "{d}/nope*.yaml", "--comment", "none"], ("no config matches",)),
    ("gate-base-not-a-commit", ["gate", "{d}/good.yaml", "--base", "no-such-ref", "--comment", "none"], ("base 'no-such-ref' is not a commit here", "git fetch origin no-such-ref:refs/heads/no-such-ref")),
    ("gate-base-branch-of-origin-missing", ["gate", "{d}/good.yaml", "--base", "origin/dev", "--comment", "none", "--no-fetch-base"], ("git fetch origin dev:refs/remotes/origin/dev",)),
    ("gate-base-is-an-option", ["gate", "{d}/good.yaml", "--base=--output={d}/x", "--comment", "none"], ("a git ref such as origin/main",)),
    ("check-base-with-several", ["check", "{d}/good.yaml", "{d}/good.yaml", "--base", "{d}/good.yaml"], ("--base compares one config, got 2",)),
    ("ref-is-an-option-missing-base-allowed", ["check", "{d}/good.yaml", "--base", "-p:x", "--allow-missing-base"], ("a git ref cannot begin with '-'",)),
]  # fmt: skip


@pytest.mark.parametrize(("name", "args", "fragments"), CASES, ids=[c[0] for c in CASES])
def test_rejected(
    run_cli: RunCli,
    tmp_path: Path,
    repo: Path,
    name: str,
    args: list[str],
    fragments: tuple[str, ...],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (tmp_path / "good.yaml").write_text(GOOD)
    (tmp_path / "report.md").write_text("an earlier report\n")
    monkeypatch.chdir(repo)
    assert_one_line_error(run_cli(*(a.replace("{d}", str(tmp_path)) for a in args)), *fragments)

    # git was given no option of the user's: it wrote no file (``--output=PATH``)
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith("x")]


def test_a_ref_path_that_is_a_folder_says_so(
    run_cli: RunCli, tmp_path: Path, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (repo / "configs").mkdir()
    (repo / "configs" / "costcalc.yaml").write_text(GOOD)
    git = ["git", "-C", str(repo), "-c", "user.email=t@example.com", "-c", "user.name=t"]
    subprocess.run([*git, "add", "."], check=True, timeout=60)
    subprocess.run([*git, "commit", "-qm", "c"], check=True, timeout=60)
    monkeypatch.chdir(repo)
    good = str(repo / "configs" / "costcalc.yaml")
    expected = "HEAD:configs: is a folder, expected a config file"
    assert_one_line_error(run_cli("diff", "HEAD:configs", good), expected)
    assert_one_line_error(run_cli("check", good, "--base", "HEAD:configs"), expected)
    assert run_cli("diff", "HEAD:configs/costcalc.yaml", good).exit_code == 0


@pytest.mark.parametrize(
    ("version", "expected"),
    [(b"git version 2.39.5\n", ("--end-of-options",)), (b"git version 2.24.0\n", ("--end-of-options",)),
     (b"git version 2.20.1\n", ()), (b"", ())],
)  # fmt: skip
def test_end_of_options_only_where_git_knows_it(
    monkeypatch: pytest.MonkeyPatch, version: bytes, expected: tuple[str, ...]
) -> None:
    """Older git has no --end-of-options: there a ref beginning with '-' is refused first."""
    from costcalc import gitread

    def git_version(*args: object, **kwargs: object) -> subprocess.CompletedProcess[bytes]:
        return subprocess.CompletedProcess(["git", "--version"], 0, version, b"")

    monkeypatch.setattr(gitread.subprocess, "run", git_version)
    gitread._end_of_options.cache_clear()
    try:
        assert gitread._end_of_options() == expected
    finally:
        gitread._end_of_options.cache_clear()
