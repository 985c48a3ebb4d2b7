"""`costcalc gate` and `gate_configs` in real git repositories: every failure and change in the
comment, new, deleted and invalid configs, check-only runs, escaping, markers, warning
levels, annotations and the runner's files (issue 13)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from costcalc.gate import gate_configs, marker_for
from costcalc.render.gate import annotations, comment_body, gate_markdown, md
from tests.conftest import RunCli, assert_one_line_error
from tests.test_budget import BASE, HEAD

BATCHED = HEAD.replace("mode: request", "mode: batch")


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, timeout=60)


def commit(repo: Path, files: dict[str, str | None], message: str) -> None:
    for name, text in files.items():
        path = repo / name
        if text is None:
            git(repo, "rm", "-q", name)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        git(repo, "add", name)
    git(repo, "commit", "-qm", message)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return make_repo(tmp_path, monkeypatch)


def make_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git repository with one commit, the current folder, no CI variables set."""
    r = tmp_path / "repo"
    r.mkdir()
    git(r, "init", "-q", "-b", "main")
    git(r, "config", "user.email", "t@example.com")
    git(r, "config", "user.name", "t")
    commit(r, {"README": "x\n"}, "start")
    monkeypatch.chdir(r)
    for name in ("GITHUB_ACTIONS", "GITLAB_CI", "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY"):
        monkeypatch.delenv(name, raising=False)
    return r


def test_every_failure_and_change_is_in_the_comment(repo: Path, run_cli: RunCli) -> None:
    """(2) a workload over its budget, budget and deadline changes: all in the headline list."""
    commit(repo, {"costcalc.yaml": BATCHED}, "base")
    over = BATCHED.replace(
        "source: web-ui\n", "source: web-ui\n    budget: 1000\n    deadline: 1h\n"
    )
    commit(repo, {"costcalc.yaml": over.replace("monthly: 5000", "monthly: 6000")}, "head")
    report = gate_configs(["costcalc.yaml"], "HEAD~1")
    (c,) = report.configs
    assert not report.passed and c.status == "changed" and c.changed
    assert [f.kind for f in c.failures] == ["workload-budget"]
    assert c.failures[0].line == 12  # the workload's `- name:` line, for the annotation
    assert "support-chat: budget: - -> 1,000" in c.changes
    assert "support-chat: deadline: - -> 1:00:00" in c.changes
    assert "budgets.monthly: 5,000 -> 6,000" in c.changes
    body = comment_body(report, c)
    head = body.split("| Workload", 1)[0]
    assert body.startswith(
        marker_for("costcalc.yaml") + "\n### ❌ costcalc costcalc.yaml: failed (1)"
    )
    assert "support-chat: \\$1,605.00 a month is over its budget of \\$1,000.00 (line 12)" in head
    assert "budget: - -&gt; 1,000" in head and "deadline: - -&gt; 1:00:00" in head
    assert "will not change" in head  # the cost did not move, but the check failed and says so
    result = run_cli("gate", "--base", "HEAD~1", "--comment", "none", "--annotations")
    assert result.exit_code == 1
    assert (
        "::error file=costcalc.yaml,line=12,title=costcalc workload-budget::support-chat"
        in result.stdout
    )


def test_a_first_config_passes_a_percentage_limit_with_a_note(repo: Path, run_cli: RunCli) -> None:
    """(3) no "rises from nothing", no "price date moved" without a base config."""
    commit(
        repo,
        {
            "costcalc.yaml": BATCHED.replace(
                "monthly: 5000", "monthly: 5000\n  max_increase_pct: 10"
            )
        },
        "add",
    )
    report = gate_configs(["costcalc.yaml"], "HEAD~1", fail_on_increase="10%")
    (c,) = report.configs
    assert report.passed and c.status == "new" and c.past_total_monthly == 0
    assert any(n.startswith("new: no base to compare") for n in c.notes)
    text = gate_markdown(report)
    assert "rises from nothing" not in text and "price date moved" not in text
    assert run_cli("gate", "--base", "HEAD~1", "--comment", "none").exit_code == 0


def test_an_invalid_head_config(repo: Path, run_cli: RunCli, tmp_path: Path) -> None:
    """(4) exit 2, passed=false written, the comment says the config is invalid, one error line."""
    commit(repo, {"costcalc.yaml": BATCHED}, "base")
    commit(repo, {"costcalc.yaml": BATCHED + "    colour: red\n"}, "broken")
    output, out_dir = tmp_path / "gh_output", tmp_path / "out"
    output.write_text("earlier=1\n")
    result = run_cli("gate", "--base", "HEAD~1", "--comment", "none", "--out-dir", str(out_dir),
                     env={"GITHUB_OUTPUT": str(output)})  # fmt: skip
    assert result.exit_code == 2
    assert result.stderr.count("costcalc: error:") == 1 and len(result.stderr.splitlines()) == 1
    assert "colour: unknown key" in result.stderr
    assert output.read_text().startswith("earlier=1\npassed=false\n")
    comment = (out_dir / "costcalc.yaml.md").read_text()
    assert "the config is invalid" in comment and "colour: unknown key" in comment
    assert comment.startswith(marker_for("costcalc.yaml"))
    # bad input before any config is read still writes passed=false
    output.write_text("")
    bad = run_cli(
        "gate", "--base", "no-such-ref", "--comment", "none", env={"GITHUB_OUTPUT": str(output)}
    )
    assert bad.exit_code == 2 and output.read_text() == "passed=false\n"


def test_check_only_without_a_base(repo: Path, run_cli: RunCli, tmp_path: Path) -> None:
    """(5) push, schedule, manual runs: budgets and policy checked, increase limits noted."""
    commit(
        repo,
        {"costcalc.yaml": HEAD.replace("monthly: 5000", "monthly: 5000\n  max_increase_pct: 10")},
        "c",
    )
    report = gate_configs(["costcalc.yaml"])
    (c,) = report.configs
    assert c.status == "checked" and report.base is None
    assert [f.kind for f in c.failures] == ["batch-eligible"]
    assert "no base: increase limits not checked" in c.notes
    summary = tmp_path / "summary.md"
    summary.write_text("before\n")
    result = run_cli("gate", "--comment", "none", env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert result.exit_code == 1 and "no base" in result.stdout
    assert summary.read_text().startswith("before\n" + marker_for("costcalc.yaml"))


def test_a_deleted_config_reports_the_removal_and_passes(repo: Path, run_cli: RunCli) -> None:
    """(6)"""
    commit(repo, {"costcalc.yaml": BATCHED}, "base")
    commit(repo, {"costcalc.yaml": None}, "delete")
    report = gate_configs(["costcalc.yaml"], "HEAD~1")
    (c,) = report.configs
    assert report.passed and c.status == "deleted" and c.past_total_monthly == 2685
    assert c.changes == ["config removed (it cost $2,685.00 a month)"]
    assert "config removed" in comment_body(report, c)
    assert run_cli("gate", "--base", "HEAD~1", "--comment", "none").exit_code == 0


HOSTILE = "x</details><img src=x onerror=alert(1)> @team\n### ✅ passed [a](http://e) `b` | c"


def test_user_strings_are_escaped(repo: Path) -> None:
    """(7) names cannot close the details, add HTML, headings, links or mention a team."""
    name = json.dumps(HOSTILE)
    commit(repo, {"costcalc.yaml": BATCHED}, "base")
    commit(repo, {"costcalc.yaml": BATCHED.replace("name: support-chat", f"name: {name}")}, "h")
    report = gate_configs(["costcalc.yaml"], "HEAD~1")
    body = gate_markdown(report)
    assert body.count("</details>") == 1 and "<img" not in body and "@team" not in body
    assert "@\u200bteam" in body and "\n### ✅ passed" not in body and "](http" not in body
    assert all(not line.startswith("#") or line.startswith("### ") for line in body.splitlines())
    escaped = md(HOSTILE)
    assert "\n" not in escaped and "|" not in escaped and "&lt;/details&gt;" in escaped
    assert "\\#\\#\\# ✅" in escaped and "\\`b\\`" in escaped


def test_one_marker_per_config_and_globs(repo: Path, run_cli: RunCli, tmp_path: Path) -> None:
    """(9) a monorepo: each config its own marker, comment file and figures."""
    commit(
        repo,
        {
            "svc/a/costcalc.yaml": BATCHED,
            "svc/b/costcalc.yaml": BASE.replace("monthly: 1000", "monthly: 9000"),
        },
        "b",
    )
    commit(repo, {"svc/b/costcalc.yaml": BATCHED}, "h")
    assert (
        marker_for("svc/a b/costcalc.yaml")
        == "<!-- costcalc-gate config=svc/a%20b/costcalc.yaml -->"
    )
    out, output = tmp_path / "out", tmp_path / "gh_output"
    result = run_cli("gate", "svc/*/costcalc.yaml", "--base", "HEAD~1", "--comment", "none",
                     "--out-dir", str(out), "--format", "json", env={"GITHUB_OUTPUT": str(output)})  # fmt: skip
    assert result.exit_code == 0, result.stdout + result.stderr
    data = json.loads(result.stdout)
    assert [c["path"] for c in data["configs"]] == ["svc/a/costcalc.yaml", "svc/b/costcalc.yaml"]
    assert [c["status"] for c in data["configs"]] == ["unchanged", "changed"]
    assert [c["changed"] for c in data["configs"]] == [False, True]
    assert len({c["marker"] for c in data["configs"]}) == 2
    assert (
        (out / "svc__a__costcalc.yaml.md").read_text().startswith(marker_for("svc/a/costcalc.yaml"))
    )
    lines = dict(line.split("=", 1) for line in output.read_text().splitlines())
    assert lines["passed"] == "true" and lines["diff-total-monthly"] == "0.00"
    assert lines["total-monthly"] == "5370.00" and lines["result-file"].endswith("gate.json")
    assert lines["comment-file"].endswith("svc__a__costcalc.yaml.md")


def test_warning_levels_report_without_failing(repo: Path, run_cli: RunCli) -> None:
    commit(repo, {"costcalc.yaml": BATCHED}, "base")
    more = BATCHED.replace("requests_per_day: 200000", "requests_per_day: 300000")
    commit(
        repo,
        {"costcalc.yaml": more.replace("monthly: 5000", "monthly: 5000\n  warn_monthly: 3000")},
        "h",
    )
    report = gate_configs(["costcalc.yaml"], "HEAD~1", warn_on_increase="5%")
    (c,) = report.configs
    assert report.passed and not c.failures
    assert [(w.kind, w.line) for w in c.warnings] == [("total-budget", 4), ("increase-pct", 2)]
    assert annotations(report)[0].startswith("::warning file=costcalc.yaml,line=4,")
    assert (
        comment_body(report, c)
        .split("\n")[1]
        .startswith("### ⚠️ costcalc costcalc.yaml: passed, 2 warnings")
    )
    result = run_cli("gate", "--base", "HEAD~1", "--comment", "none", "--warn-on-increase", "5%")
    assert result.exit_code == 0 and "warning: monthly total rises by 20.1%" in result.stdout
    failing = run_cli("gate", "--base", "HEAD~1", "--comment", "none", "--fail-on-increase", "5%")
    assert failing.exit_code == 1
    checked = run_cli("check", "costcalc.yaml")
    assert checked.exit_code == 0 and "warnings:" in checked.stdout


def test_annotations_escape_workflow_command_syntax() -> None:
    from costcalc.gate.report import ConfigGate, GateIssue, GateReport

    issue = GateIssue(
        kind="total-budget", workload=None, message="50% over\nnext", line=3, level="error"
    )
    config = ConfigGate(path="a,b:c.yaml", status="checked", passed=False, failures=[issue],
                        warnings=[], changes=[], workloads=[], total_monthly=1,
                        past_total_monthly=None, diff_total_monthly=None, headline="h", notes=[],
                        prices_as_of=None, changed=True, marker=marker_for("a,b:c.yaml"))  # fmt: skip
    report = GateReport(passed=False, configs=[config], base=None, prices_as_of=None,
                        total_monthly=1, past_total_monthly=None, diff_total_monthly=None)  # fmt: skip
    assert annotations(report) == [
        "::error file=a%2Cb%3Ac.yaml,line=3,title=costcalc total-budget::50%25 over%0Anext"
    ]


def test_check_takes_several_configs(repo: Path, run_cli: RunCli) -> None:
    commit(repo, {"a.yaml": BATCHED, "b.yaml": HEAD}, "c")
    result = run_cli("check", "a.yaml", "b.yaml", "--format", "json")
    assert result.exit_code == 1
    assert [r["passed"] for r in json.loads(result.stdout)] == [True, False]
    assert run_cli("check", "a.yaml", "a.yaml").exit_code == 0


def test_md_keeps_pipes_as_written() -> None:
    """(6) `a|b|c` renders as a|b|c: the entity is written after the backslash escapes (it
    was `a&\\#124;b`), in text and in a table cell."""
    assert md("a|b|c") == "a&#124;b&#124;c"
    assert md("x#[&]") == "x\\#\\[&amp;\\]"
    from costcalc.render.tables import markdown_table

    row = markdown_table(["Workload"], [[md("a|b|c")]]).splitlines()[-1]
    assert row == "| a&#124;b&#124;c |"


def test_plain_text_is_never_a_runner_command() -> None:
    """(5) the table's cells: `::` at the start quoted, `##[` broken, newlines flattened."""
    from costcalc.render.gate import plain

    assert plain("::error::pwned") == '"::error::pwned"'
    assert "##[" not in plain("x ##[error]boom") and "boom" in plain("x ##[error]boom")
    assert plain("a\n::warning::b") == "a ::warning::b"
    assert plain("support-chat") == "support-chat"


def test_find_configs_matches_globs_at_the_base_too(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """(2) a glob is matched in the work tree and in the base's tree with glob's rules: `*`
    stays within a folder and skips hidden names, `**` spans folders, paths from a subfolder
    are relative to it (`../`)."""
    from costcalc.gate import find_configs

    files = {f"svc/{s}/costcalc.yaml": BATCHED for s in ("a", "b", "old", ".hidden")}
    files["svc/deep/x/costcalc.yaml"] = BATCHED
    commit(repo, files, "base")
    commit(repo, {"svc/old/costcalc.yaml": None, "svc/deep/x/costcalc.yaml": None}, "head")
    assert find_configs(["svc/*/costcalc.yaml"]) == ["svc/a/costcalc.yaml", "svc/b/costcalc.yaml"]
    assert find_configs(["svc/*/costcalc.yaml"], "HEAD~1") == [
        "svc/a/costcalc.yaml", "svc/b/costcalc.yaml", "svc/old/costcalc.yaml",
    ]  # fmt: skip
    assert find_configs(["./svc/**/costcalc.yaml"], "HEAD~1") == [
        "svc/a/costcalc.yaml", "svc/b/costcalc.yaml", "svc/deep/x/costcalc.yaml",
        "svc/old/costcalc.yaml",
    ]  # fmt: skip
    assert find_configs(["svc/.*/costcalc.yaml"], "HEAD~1") == ["svc/.hidden/costcalc.yaml"]
    monkeypatch.chdir(repo / "svc" / "a")
    assert find_configs(["../o*/costcalc.yaml"], "HEAD~1") == ["../old/costcalc.yaml"]
    report = gate_configs(find_configs(["../*/costcalc.yaml"], "HEAD~1"), "HEAD~1")
    assert {c.path: c.status for c in report.configs} == {
        "svc/a/costcalc.yaml": "unchanged", "svc/b/costcalc.yaml": "unchanged",
        "svc/old/costcalc.yaml": "deleted",
    }  # fmt: skip
    assert report.past_total_monthly == 3 * report.configs[0].total_monthly  # type: ignore[operator]


def test_markers_name_the_config_from_the_repository_top(
    repo: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """(7) the same config gets the same marker from any folder; outside git, as given."""
    commit(repo, {"svc/a/costcalc.yaml": BATCHED}, "a")
    for where, path in ((repo, "svc/a/costcalc.yaml"), (repo / "svc", "a/costcalc.yaml"),
                        (repo / "svc" / "a", "costcalc.yaml"),
                        (repo / "svc" / "a", str(repo / "svc/a/costcalc.yaml"))):  # fmt: skip
        monkeypatch.chdir(where)
        (c,) = gate_configs([path], "HEAD").configs
        assert c.path == "svc/a/costcalc.yaml" and c.marker == marker_for("svc/a/costcalc.yaml")
    outside = tmp_path / "plain"
    outside.mkdir()
    (outside / "costcalc.yaml").write_text(BATCHED)
    monkeypatch.chdir(outside)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    (c,) = gate_configs(["costcalc.yaml"]).configs
    assert c.marker == marker_for("costcalc.yaml")


def test_fetch_base_is_off_outside_ci(repo: Path, run_cli: RunCli) -> None:
    """(9) --no-fetch-base (the default outside CI): a missing base is named, nothing fetched."""
    commit(repo, {"costcalc.yaml": BATCHED}, "a")
    result = run_cli("gate", "--base", "origin/main", "--comment", "none")
    assert result.exit_code == 2 and "is not a commit" in result.stderr
    result = run_cli("gate", "--base", "origin/main", "--comment", "none", "--fetch-base")
    assert result.exit_code == 2 and "fetching it failed" in result.stderr, result.stderr


def test_a_renamed_config_is_compared_with_its_old_self(repo: Path) -> None:
    """A config moved (git mv) and made dearer in the same change is no first config: the
    increase limit applies against its old name, which is not gated again as deleted."""
    commit(repo, {"services/a/costcalc.yaml": BATCHED}, "base")
    git(repo, "mv", "services/a", "services/search")
    dearer = BATCHED.replace("requests_per_day: 200000", "requests_per_day: 400000")
    assert dearer != BATCHED
    (repo / "services/search/costcalc.yaml").write_text(dearer)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "rename and raise")
    from costcalc.gate import find_configs

    paths = find_configs(["services/*/costcalc.yaml"], "HEAD~1")
    assert paths == ["services/a/costcalc.yaml", "services/search/costcalc.yaml"]
    report = gate_configs(paths, "HEAD~1", fail_on_increase="10%")
    (c,) = report.configs
    assert c.path == "services/search/costcalc.yaml" and c.status == "changed"
    assert c.notes[0] == "renamed from services/a/costcalc.yaml"
    assert not report.passed and any(f.kind == "increase-pct" for f in c.failures)
    assert c.past_total_monthly == 2685 and report.past_total_monthly == 2685


def test_one_config_named_twice_is_gated_once(repo: Path, run_cli: RunCli) -> None:
    commit(repo, {"costcalc.yaml": BATCHED}, "base")
    report = gate_configs(["costcalc.yaml", "./costcalc.yaml"], "HEAD")
    assert [c.path for c in report.configs] == ["costcalc.yaml"]
    assert report.total_monthly == 2685
    result = run_cli("gate", "costcalc.yaml", "./costcalc.yaml", "--base", "HEAD",
                     "--comment", "none", "--format", "json")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert len(json.loads(result.stdout)["configs"]) == 1


def test_a_bare_branch_base_is_fetched_when_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`base: main` in a clone that lacks a local main (a pull request's checkout) is fetched
    as the branch it names."""
    origin = tmp_path / "origin"
    origin.mkdir()
    git(origin, "init", "-q", "-b", "main")
    git(origin, "config", "user.email", "t@example.com")
    git(origin, "config", "user.name", "t")
    commit(origin, {"costcalc.yaml": BATCHED}, "base")
    git(origin, "checkout", "-q", "-b", "pr")
    commit(origin, {"README": "docs\n"}, "docs")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth", "1", "--branch", "pr",
                    f"file://{origin}", str(clone)], check=True, timeout=60)  # fmt: skip
    monkeypatch.chdir(clone)
    from costcalc.gate import find_configs

    assert find_configs(["costcalc.yaml"], "main", fetch_base_ref=True) == ["costcalc.yaml"]
    (c,) = gate_configs(["costcalc.yaml"], "main").configs
    assert c.status == "unchanged" and c.past_total_monthly == 2685


def test_stderr_cannot_issue_a_runner_command_in_actions(
    repo: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The runner reads `##[command]` anywhere in a line of stderr too: a workload's name in
    an error line is broken there."""
    # more input than the model's context: the error names the workload (an unknown model
    # or a mode it is not sold in names its line and field instead)
    bad = BATCHED.replace("name: nightly-summaries", 'name: "##[error]pwned"').replace(
        "input_tokens: 1200", "input_tokens: 500000", 1
    )
    assert bad != BATCHED
    commit(repo, {"costcalc.yaml": bad}, "bad")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    result = run_cli("gate", "--base", "HEAD", "--comment", "none", "--no-fetch-base")
    assert result.exit_code == 2, result.stderr
    assert "##[" not in result.stderr and "#\u200b#[error]pwned" in result.stderr


def _full_device(path: Path) -> Path:
    """A character device like /dev/full, made inside the test's folder (root only)."""
    import os
    import stat

    if os.geteuid() != 0:
        pytest.skip("making a device node needs root")
    os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 7))
    return path


@pytest.mark.parametrize(
    ("case", "code", "fragment"),
    [
        ("out-dir-under-a-file", 2, "out: cannot create the folder: not a directory"),
        ("result-file-is-a-fifo", 2, "gate.json: is a FIFO, not a regular file"),
        ("summary-is-a-fifo", 2, "summary.md: is a FIFO, expected a file to append to"),
        ("summary-is-a-folder", 2, "summary.md: is a directory, expected a file to append to"),
        ("output-is-a-fifo", 2, "gh_output: is a FIFO, expected a file to append to"),
        ("summary-on-a-full-device", 3, "summary.md: cannot append to it: no space left on device"),
        ("out-dir-on-a-full-disk", 3, "cannot write: no space left on device"),
    ],
)
def test_the_gate_s_own_files_fail_one_line_and_leave_nothing_half_written(
    repo: Path, run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    case: str, code: int, fragment: str,
) -> None:  # fmt: skip
    import errno
    import os

    commit(repo, {"costcalc.yaml": BATCHED}, "base")
    out, summary, output = tmp_path / "out", tmp_path / "summary.md", tmp_path / "gh_output"
    env: dict[str, str] = {}
    if case == "out-dir-under-a-file":
        (tmp_path / "afile").write_text("x\n")
        out = tmp_path / "afile" / "out"
    elif case == "result-file-is-a-fifo":
        out.mkdir()
        os.mkfifo(out / "gate.json")
    elif case == "summary-is-a-fifo":
        os.mkfifo(summary)
    elif case == "summary-is-a-folder":
        summary.mkdir()
    elif case == "output-is-a-fifo":
        os.mkfifo(output)
        env["GITHUB_OUTPUT"] = str(output)
    elif case == "summary-on-a-full-device":
        _full_device(summary)
    else:  # a disk that fills while the result is renamed into place

        def full(*args: object, **kwargs: object) -> None:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        monkeypatch.setattr(os, "replace", full)
    args = ["gate", "--base", "HEAD", "--comment", "none", "--out-dir", str(out)]
    if case.startswith("summary"):
        args += ["--summary", str(summary)]
    result = run_cli(*args, env=env)
    assert_one_line_error(result, fragment, code=code)
    if out.is_dir():  # nothing half-written: no temporary file; a result in place is whole
        assert [p.name for p in out.iterdir() if p.name.endswith(".tmp")] == []
        result_file = out / "gate.json"
        if result_file.is_file():
            assert json.loads(result_file.read_text())["configs"][0]["path"] == "costcalc.yaml"
        if case in ("result-file-is-a-fifo", "out-dir-on-a-full-disk"):
            assert not result_file.is_file()
