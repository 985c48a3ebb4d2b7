"""`costcalc gate` cannot be talked out of an increase limit: a config moved into the folder
the gate runs in is still compared with its old self, and a base config the gate cannot read
is unknown, never $0 (trial 7)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from costcalc.gate import gate_configs
from tests.conftest import RunCli
from tests.test_gate import BATCHED, commit, git, make_repo


@pytest.fixture(name="repo")
def _repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return make_repo(tmp_path, monkeypatch)


DEARER = BATCHED.replace("requests_per_day: 20000", "requests_per_day: 30000")


@pytest.mark.parametrize(
    ("folder", "config"),
    [
        ("", "svc/api/costcalc.yaml"),
        ("svc/api", None),
        ("svc/api", "./costcalc.yaml"),
        ("svc/api", "ABSOLUTE"),
        ("svc", "api/costcalc.yaml"),
    ],
)
def test_a_config_moved_into_a_folder_is_compared_with_its_old_self_from_any_folder(
    repo: Path,
    run_cli: RunCli,
    monkeypatch: pytest.MonkeyPatch,
    folder: str,
    config: str | None,
) -> None:
    """git mv costcalc.yaml svc/api/ and a dearer workload: run in svc/api the rename came
    from outside the folder, which `git diff --relative` hid, and the config passed as new."""
    commit(repo, {"costcalc.yaml": BATCHED}, "base")
    git(repo, "checkout", "-q", "-b", "pr")
    (repo / "svc/api").mkdir(parents=True)
    git(repo, "mv", "costcalc.yaml", "svc/api/")
    commit(repo, {"svc/api/costcalc.yaml": DEARER}, "move and raise")
    monkeypatch.chdir(repo / folder)
    if config == "ABSOLUTE":
        config = str(repo / "svc/api/costcalc.yaml")
    args = ["gate", *([config] if config else []), "--base", "main", "--comment", "none"]
    result = run_cli(*args, "--fail-on-increase", "10%")
    assert result.exit_code == 1, result.stdout + result.stderr
    assert "renamed from costcalc.yaml" in result.stdout
    assert "rises by" in result.stdout and "new config" not in result.stdout
    report = gate_configs([config or "costcalc.yaml"], "main", fail_on_increase="10%")
    (c,) = report.configs
    assert c.path == "svc/api/costcalc.yaml" and c.status == "changed"
    assert c.notes[0] == "renamed from costcalc.yaml"  # from the repository's top
    assert c.past_total_monthly == 2685 and any(f.kind == "increase-pct" for f in c.failures)


def test_a_rename_inside_the_folder_is_named_from_the_top(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    commit(repo, {"svc/a/costcalc.yaml": BATCHED}, "base")
    git(repo, "mv", "svc/a", "svc/b")
    commit(repo, {"svc/b/costcalc.yaml": DEARER}, "rename and raise")
    monkeypatch.chdir(repo / "svc")
    (c,) = gate_configs(["b/costcalc.yaml"], "HEAD~1", fail_on_increase="10%").configs
    assert c.path == "svc/b/costcalc.yaml" and c.notes[0] == "renamed from svc/a/costcalc.yaml"
    assert not c.passed and os.getcwd() == str(repo / "svc")


LIMITED = BATCHED.replace("  monthly: 5000\n", "  monthly: 5000\n  max_increase_pct: 10\n")
assert LIMITED != BATCHED


@pytest.mark.parametrize("broken", ["yaml", "symlink"])
def test_a_base_config_that_cannot_be_read_is_unknown_not_zero(
    repo: Path, run_cli: RunCli, tmp_path: Path, broken: str
) -> None:
    """Broken YAML at the base (or a symlink whose target the base lacks) made the base $0:
    the whole head passed `--fail-on-increase 500` as an "increase by $2,685.00"."""
    if broken == "yaml":
        commit(repo, {"costcalc.yaml": "budgets:\n  max_increase: [\n"}, "broken base")
    else:
        (repo / "costcalc.yaml").symlink_to("nowhere.yaml")
        git(repo, "add", "costcalc.yaml")
        git(repo, "commit", "-qm", "dangling link")
        (repo / "costcalc.yaml").unlink()
    commit(repo, {"costcalc.yaml": BATCHED}, "fixed")
    output = tmp_path / "github_output"
    output.write_text("")
    result = run_cli("gate", "--base", "HEAD~1", "--comment", "none",
                     "--fail-on-increase", "500", env={"GITHUB_OUTPUT": str(output)})  # fmt: skip
    assert result.exit_code == 1, result.stdout + result.stderr
    assert "increase by" not in result.stdout
    where = (
        "HEAD~1:costcalc.yaml:3: invalid YAML" if broken == "yaml" else "HEAD~1:costcalc.yaml:1:"
    )
    assert (
        f"error: increase limits could not be checked: the base config could not be read ({where}"
        in result.stdout
    )
    values = dict(ln.split("=", 1) for ln in output.read_text().splitlines())
    assert values["passed"] == "false" and values["total-monthly"] == "2685.00"
    assert values["past-total-monthly"] == "" and values["diff-total-monthly"] == ""
    (c,) = gate_configs(["costcalc.yaml"], "HEAD~1").configs  # no increase limit: passes
    assert c.passed and c.past_total_monthly is None and c.diff_total_monthly is None
    assert c.base_error is not None and "the change is unknown" in c.headline
    assert all(w.status == "checked" and w.past_monthly is None for w in c.workloads)


def test_the_config_s_own_increase_limit_fails_at_its_line(repo: Path, run_cli: RunCli) -> None:
    commit(repo, {"costcalc.yaml": "workloads: [\n"}, "broken base")
    commit(repo, {"costcalc.yaml": LIMITED}, "fixed")
    report = gate_configs(["costcalc.yaml"], "HEAD~1")
    (c,) = report.configs
    assert not report.passed and report.past_total_monthly is None
    (issue,) = c.failures
    assert issue.kind == "increase-unchecked" and issue.line == 4  # budgets.max_increase_pct
    body = run_cli("gate", "--base", "HEAD~1", "--comment", "none", "--format", "markdown")
    assert body.exit_code == 1
    assert "| **All workloads** | - | **$2,685.00** | **-** |" in body.stdout


ONE = """workloads:
  - name: chat
    model: gpt-4o-mini
    requests_per_day: 1000
    input_tokens: 1000
    output_tokens: 200
"""
BIG = """  - name: big
    model: gpt-4o
    requests_per_day: 1000
    input_tokens: 1000
    output_tokens: 200
"""


def test_a_change_is_compared_where_its_branch_left_the_base(repo: Path) -> None:
    """main gains a workload after the branch is cut: the branch's change is its own 5% rise,
    not a removal of what main added (and main dropping a workload is no rise of the
    branch's). GitHub's default checkout, a merge of the change into main, compares with
    main's tip, which is then where the branch left it."""
    commit(repo, {"costcalc.yaml": ONE}, "config")
    git(repo, "checkout", "-q", "-b", "pr")
    commit(repo, {"costcalc.yaml": ONE.replace("1000\n    input", "1050\n    input")}, "5% more")
    git(repo, "checkout", "-q", "main")
    commit(repo, {"costcalc.yaml": ONE + BIG}, "main adds big")
    git(repo, "checkout", "-q", "pr")
    report = gate_configs(["costcalc.yaml"], "main")
    (config,) = report.configs
    assert not any("big" in c for c in config.changes), config.changes
    assert config.diff_total_monthly is not None and config.diff_total_monthly > 0
    assert [w.name for w in config.workloads] == ["chat"]
    # the merge of the change into main (GitHub's checkout) compares with main's tip
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--no-edit", "pr")
    merged = gate_configs(["costcalc.yaml"], "main~1")
    assert merged.configs[0].diff_total_monthly == config.diff_total_monthly


def test_no_common_commit_compares_with_the_base_itself_and_says_so(repo: Path) -> None:
    """A clone without the history between (shallow) has no point where the branch left the
    base: the base's tip stands for it, with a warning saying what that may add."""
    import costcalc

    commit(repo, {"costcalc.yaml": ONE}, "config")
    git(repo, "checkout", "-q", "--orphan", "unrelated")
    commit(repo, {"costcalc.yaml": ONE + BIG}, "another history")
    with pytest.warns(costcalc.CostcalcWarning, match="no common commit of main and HEAD") as said:
        report = gate_configs(costcalc.find_configs(["*.yaml"], "main"), "main")
    assert any("big" in c for c in report.configs[0].changes)
    assert sum("no common commit" in str(w.message) for w in said) == 1  # found, then gated


@pytest.mark.parametrize("given", [["costcalc.yaml"], ["*.yaml"]])
def test_a_config_renamed_out_of_the_configs_given_is_gated_where_it_went(
    repo: Path, given: list[str]
) -> None:
    """`git mv costcalc.yaml costcalc.yml` and a dearer workload passed as a deleted config
    (a decrease): the gate follows the rename and compares the new file with its old self."""
    commit(repo, {"costcalc.yaml": BATCHED}, "base")
    git(repo, "checkout", "-q", "-b", "pr")
    git(repo, "mv", "costcalc.yaml", "costcalc.yml")
    commit(repo, {"costcalc.yml": DEARER}, "rename and raise")
    from costcalc import find_configs

    report = gate_configs(find_configs(given, "main"), "main", fail_on_increase="10%")
    (c,) = report.configs
    assert (c.path, c.status) == ("costcalc.yml", "changed")
    assert c.notes[0] == "renamed from costcalc.yaml"
    assert not c.passed and any(f.kind == "increase-pct" for f in c.failures)
