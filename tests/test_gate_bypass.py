"""`costcalc gate` cannot be talked out of an increase limit: a config moved into the folder
the gate runs in is still compared with its old self, and a base config the gate cannot read
is unknown, never $0 (trial 7)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from costcalc.gate import gate_configs
from tests.conftest import RunCli
from tests.test_gate import BATCHED, commit, git


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    r = tmp_path / "repo"
    r.mkdir()
    git(r, "init", "-q", "-b", "main")
    git(r, "config", "user.email", "t@example.com")
    git(r, "config", "user.name", "t")
    monkeypatch.chdir(r)
    for name in ("GITHUB_ACTIONS", "GITLAB_CI", "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY"):
        monkeypatch.delenv(name, raising=False)
    return r


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
