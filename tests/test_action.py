"""The GitHub Action replayed as the runner runs it (tests/action_replay.py): one case per
numbered failure of issue 13, in real git repositories with a fake GitHub API."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from costcalc.cli import COMMANDS
from tests.action_replay import (
    BOT,
    GITLAB_BOT,
    GITLAB_PROJECT,
    OWNER_REPO,
    PR,
    REPO,
    FakeGitHub,
    checkout,
    costcalc_bin,
    fake_github,
    fake_gitlab,
    git,
    load_action,
    make_origin,
    pr_checkout,
    pr_event,
    run_action,
    run_gitlab_job,
)

CONFIG = """\
as_of: 2026-11-26
budgets:
  monthly: 3000
policies:
  batch-eligible:
    min_monthly_saving: 50
workloads:
  - name: nightly-summaries
    model: gpt-4o-mini
    requests_per_day: 200000
    input_tokens: 1200
    output_tokens: 300
    mode: batch
    source: cron
  - name: support-chat
    model: claude-haiku-4-5
    requests_per_day: 20000
    input_tokens: 2500
    output_tokens: 350
    cached_share: 0.7
    mode: stream
    source: web-ui
    budget: 2000
"""
# support-chat: 26,000 a day costs $2,086.50 a month, over its $2,000 budget; the monthly
# budget rises to $5,000, so only the workload budget fails
OVER_WORKLOAD_BUDGET = CONFIG.replace(
    "requests_per_day: 20000\n", "requests_per_day: 26000\n"
).replace("monthly: 3000", "monthly: 5000")
MARKER = "<!-- costcalc-gate config=costcalc.yaml -->"

# `costcalc gate` and `costcalc check` of several configs come from the gate and comments work
# of issue 13, built beside this; until they are merged the replays that run them are skipped.
needs_gate = pytest.mark.skipif(
    "gate" not in COMMANDS, reason="`costcalc gate` is not in this tree yet (branch h-gate)"
)


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def _bot_comments(api: FakeGitHub) -> list[str]:
    return [c["body"] for c in api.comments if c["user"]["login"] == BOT]


# 1. The Action made the user's clone shallow (git fetch --depth=1 after fetch-depth: 0).
@needs_gate
def test_1_a_full_clone_stays_full_and_is_not_fetched_again(tmp_path: Path) -> None:
    origin = make_origin(tmp_path, {"costcalc.yaml": CONFIG}, {"costcalc.yaml": CONFIG})
    clone = pr_checkout(origin, tmp_path, fetch_depth=0)
    with fake_github() as api:
        run = run_action(clone, tmp_path, event_name="pull_request", event=pr_event(origin),
                         api_url=api.url)  # fmt: skip
    assert run.exit_code == 0, run.stderr
    assert git(clone, "rev-parse", "--is-shallow-repository") == "false"
    assert git(clone, "rev-list", "--count", "origin/main") == str(origin.main_commits)
    assert git(clone, "describe", "--tags", "origin/main") == "v1.0.0-2-g" + origin.base_sha[:7]
    assert not [c for c in run.git_log if c.startswith("fetch")]  # origin/main was there
    assert run.outputs["passed"] == "true" and run.outputs["diff-total-monthly"] == "0.00"


@needs_gate
def test_1_a_shallow_clone_gets_the_base_without_losing_history(tmp_path: Path) -> None:
    origin = make_origin(
        tmp_path, {"costcalc.yaml": CONFIG}, {"costcalc.yaml": OVER_WORKLOAD_BUDGET}
    )
    clone = pr_checkout(origin, tmp_path, fetch_depth=2)  # HEAD and its parents
    before = git(clone, "rev-list", "--count", "HEAD")
    with fake_github() as api:
        run = run_action(clone, tmp_path, event_name="pull_request", event=pr_event(origin),
                         api_url=api.url, inputs={"comment": "false"})  # fmt: skip
    fetches = [c for c in run.git_log if c.startswith("fetch")]
    assert len(fetches) == 1 and "--depth" not in fetches[0] and "main" in fetches[0], fetches
    assert not any("--depth" in c or "--unshallow" in c for c in run.git_log)
    assert git(clone, "rev-list", "--count", "HEAD") == before  # no history lost
    assert git(clone, "rev-parse", "origin/main") == origin.base_sha
    # the gate compared with the fetched base: support-chat rose by $481.50
    assert run.outputs["past-total-monthly"] == "2685.00", run.outputs
    assert run.outputs["diff-total-monthly"] == "481.50"
    assert run.exit_code == 1 and run.outputs["passed"] == "false"


# 2. The comment left out the check's failures; budget and deadline changes were not listed.
@needs_gate
def test_2_the_comment_shows_every_failure_and_change(tmp_path: Path) -> None:
    origin = make_origin(
        tmp_path, {"costcalc.yaml": CONFIG}, {"costcalc.yaml": OVER_WORKLOAD_BUDGET}
    )
    clone = pr_checkout(origin, tmp_path, fetch_depth=1)
    with fake_github() as api:
        run = run_action(clone, tmp_path, event_name="pull_request", event=pr_event(origin),
                         api_url=api.url)  # fmt: skip
    assert run.exit_code == 1 and run.outputs["passed"] == "false"
    (body,) = _bot_comments(api)
    assert body.startswith(MARKER)
    assert "will not change" not in body
    headline = body.split("<details>")[0]
    assert "support-chat" in headline and "2,086.50" in headline and "2,000.00" in headline
    assert "5,000" in body and "26,000" in body  # the budget change and the volume change
    assert "support-chat" in run.summary and "2,086.50" in run.summary
    line = _line_of(OVER_WORKLOAD_BUDGET, "- name: support-chat")
    assert re.search(
        rf"^::error file=costcalc\.yaml,line={line}\b[^:]*::support-chat", run.stdout, re.M
    )
    assert (
        Path(run.outputs["result-file"]).is_file() and Path(run.outputs["comment-file"]).is_file()
    )
    assert Path(run.outputs["comment-file"]).read_text() == body


# 3. The PR adding the first costcalc.yaml failed a percentage limit ("rises from nothing").
@needs_gate
def test_3_a_first_config_passes_the_increase_limit_with_a_note(tmp_path: Path) -> None:
    origin = make_origin(tmp_path, {"README": "no config yet\n"}, {"costcalc.yaml": CONFIG})
    clone = pr_checkout(origin, tmp_path, fetch_depth=1)
    with fake_github() as api:
        run = run_action(clone, tmp_path, event_name="pull_request", event=pr_event(origin),
                         api_url=api.url, inputs={"fail-on-increase": "10%"})  # fmt: skip
    assert run.exit_code == 0, run.stdout + run.stderr
    assert run.outputs["passed"] == "true"
    (body,) = _bot_comments(api)  # a new config is a change: it is commented
    assert "new: no base to compare" in body and "new: no base to compare" in run.summary
    assert "price date" not in body and "rises from nothing" not in body


# 4. A head config with an error wrote no comment, left `passed` empty and printed twice.
@needs_gate
def test_4_a_broken_head_config_fails_with_passed_false_and_says_so(tmp_path: Path) -> None:
    broken = CONFIG.replace("requests_per_day: 20000\n", "requests_per_day: lots\n")
    origin = make_origin(tmp_path, {"costcalc.yaml": CONFIG}, {"costcalc.yaml": broken})
    clone = pr_checkout(origin, tmp_path, fetch_depth=1)
    with fake_github() as api:
        old = api.add(BOT, MARKER + "\nmonthly LLM cost will not change")
        run = run_action(clone, tmp_path, event_name="pull_request", event=pr_event(origin),
                         api_url=api.url)  # fmt: skip
    assert run.codes["gate"] == 2 and run.outputs["passed"] == "false"
    errors = [line for line in run.stderr.splitlines() if line.startswith("costcalc: error:")]
    assert len(errors) == 1 and "costcalc.yaml" in errors[0], run.stderr
    assert [m for m, _ in api.writes()] == ["PATCH"]  # the old comment is replaced, not left up
    body = api.by_id(old)["body"]
    assert body.startswith(MARKER) and "invalid" in body.lower() and "will not change" not in body


# 5. push, schedule and workflow_dispatch failed with `invalid object name 'origin/'`.
@needs_gate
@pytest.mark.parametrize("event_name", ["push", "schedule", "workflow_dispatch"])
def test_5_runs_without_a_pull_request_check_the_config_alone(
    tmp_path: Path, event_name: str
) -> None:
    origin = make_origin(tmp_path, {"costcalc.yaml": CONFIG}, {"costcalc.yaml": CONFIG})
    clone = git_clone_main(origin.url, tmp_path)
    with fake_github() as api:
        run = run_action(clone, tmp_path, event_name=event_name, api_url=api.url,
                         event={"repository": {"full_name": OWNER_REPO}})  # fmt: skip
    assert run.exit_code == 0, run.stdout + run.stderr
    assert run.outputs["passed"] == "true" and run.outputs["total-monthly"] == "2685.00"
    assert run.outputs["past-total-monthly"] == "" and "origin/" not in run.stderr
    assert "no base" in run.summary
    assert api.requests == [] and not [c for c in run.git_log if c.startswith("fetch")]


def git_clone_main(url: str, tmp: Path) -> Path:
    dest = tmp / "clone"
    git(tmp, "clone", "-q", "--depth", "1", url, str(dest))
    return dest


# 6. A PR that deleted the config exited 2.
@needs_gate
def test_6_a_deleted_config_is_reported_and_passes(tmp_path: Path) -> None:
    origin = make_origin(tmp_path, {"costcalc.yaml": CONFIG}, {"costcalc.yaml": None})
    clone = pr_checkout(origin, tmp_path, fetch_depth=1)
    with fake_github() as api:
        run = run_action(clone, tmp_path, event_name="pull_request", event=pr_event(origin),
                         api_url=api.url)  # fmt: skip
    assert run.exit_code == 0, run.stdout + run.stderr
    assert run.outputs["passed"] == "true"
    assert "deleted" in run.summary.lower() or "removed" in run.summary.lower()


# 7. Workload names went into the comment unescaped.
@needs_gate
def test_7_user_strings_are_escaped_in_the_comment(tmp_path: Path) -> None:
    hostile = '"chat</details><img src=x onerror=alert(1)> @acme/team\\n## ✅ passed"'
    head = CONFIG.replace("name: support-chat", f"name: {hostile}").replace(
        "requests_per_day: 20000\n", "requests_per_day: 21000\n"
    )
    origin = make_origin(tmp_path, {"costcalc.yaml": CONFIG}, {"costcalc.yaml": head})
    clone = pr_checkout(origin, tmp_path, fetch_depth=1)
    with fake_github() as api:
        run = run_action(clone, tmp_path, event_name="pull_request", event=pr_event(origin),
                         api_url=api.url)  # fmt: skip
    (body,) = _bot_comments(api)
    assert "<img" not in body and body.count("</details>") == body.count("<details>")
    assert not re.search(r"(?<![`\w])@acme/team", body.replace("`@acme/team`", ""))
    assert not re.search(r"^\W*## ✅ passed", body, re.M)
    assert "onerror" in body  # escaped, not dropped
    assert run.exit_code in (0, 1)


# 8. On a fork PR the comment got 403 and turned the job red although every budget held.
@needs_gate
@pytest.mark.parametrize("fork", [True, False], ids=["fork", "token-refused"])
def test_8_a_comment_the_token_may_not_write_does_not_fail_the_job(
    tmp_path: Path, fork: bool
) -> None:
    head = CONFIG.replace("requests_per_day: 20000\n", "requests_per_day: 21000\n")
    origin = make_origin(tmp_path, {"costcalc.yaml": CONFIG}, {"costcalc.yaml": head})
    clone = pr_checkout(origin, tmp_path, fetch_depth=1)
    event = pr_event(origin, head_repo="someone/app" if fork else OWNER_REPO)
    with fake_github(FakeGitHub(forbid_writes=True)) as api:
        run = run_action(clone, tmp_path, event_name="pull_request", event=event, api_url=api.url)
    assert run.exit_code == 0, run.stdout + run.stderr
    assert run.outputs["passed"] == "true"
    assert "80.25" in run.summary  # the report reached the job summary
    assert "not posted" in run.stderr and ("fork" in run.stderr) == fork, run.stderr
    assert not _bot_comments(api)
    if fork:  # a fork's token is read-only: costcalc does not even try
        assert api.writes() == []
    else:
        assert api.writes() == [("POST", f"/repos/{OWNER_REPO}/issues/{PR}/comments")]


# 9. The finder matched a person's comment quoting the marker; one marker for every config.
@needs_gate
def test_9_one_sticky_comment_per_config_found_by_the_bots_identity(tmp_path: Path) -> None:
    configs = {"services/api/costcalc.yaml": CONFIG, "services/web/costcalc.yaml": CONFIG}
    head = {
        "services/api/costcalc.yaml": CONFIG.replace(
            "requests_per_day: 20000\n", "requests_per_day: 21000\n"
        ),
        "services/web/costcalc.yaml": CONFIG.replace(
            "requests_per_day: 200000\n", "requests_per_day: 210000\n"
        ),
    }
    origin = make_origin(tmp_path, configs, head)
    clone = pr_checkout(origin, tmp_path, fetch_depth=1)
    from costcalc.gate import marker_for  # in the tree once h-gate is merged

    api_marker = marker_for("services/api/costcalc.yaml")
    with fake_github() as api:
        for i in range(45):  # the bot's own comment is on the second page
            api.add("someone", f"comment {i}")
        quoted = api.add("alice", f"{api_marker}\nI copied the bot's comment here")
        quoting = api.add("bob", f"> {api_marker}\n> old numbers")
        bots = api.add(BOT, f"{api_marker}\nold figures")
        run = run_action(clone, tmp_path, event_name="pull_request", event=pr_event(origin),
                         api_url=api.url, inputs={"config": "services/*/costcalc.yaml"})  # fmt: skip
    assert run.exit_code == 0, run.stdout + run.stderr
    assert api.writes(), (run.stdout, run.stderr, api.requests)
    assert api.by_id(quoted)["body"].endswith("I copied the bot's comment here")
    assert api.by_id(quoting)["body"].endswith("old numbers")
    writes = api.writes()
    assert "old figures" not in api.by_id(bots)["body"]
    assert api.by_id(bots)["body"].startswith(api_marker)
    assert writes == [("PATCH", f"/repos/{OWNER_REPO}/issues/comments/{bots}"),
                      ("POST", f"/repos/{OWNER_REPO}/issues/{PR}/comments")]  # fmt: skip
    web = api.comments[-1]["body"]
    assert web.startswith(marker_for("services/web/costcalc.yaml")) and web != api_marker
    # the token went to the API, and only to the gate step
    assert all(auth and "ghs_replaytoken" in auth for _, _, auth in api.requests)
    steps = {s.get("id"): s for s in load_action()["runs"]["steps"]}
    holders = [i for i, s in steps.items() if "github-token" in str(s.get("env", {}))]
    assert holders == ["gate"]


def test_9_the_example_workflow_has_a_concurrency_group_per_pull_request() -> None:
    flow = yaml.safe_load((REPO / "examples" / "costcalc-pull-request.yml").read_text())
    assert "github.event.pull_request.number" in flow["concurrency"]["group"]


# 10. Dependencies were installed unpinned into the job's Python; no release to pin.
def test_10_the_install_step_uses_its_own_venv_and_the_pinned_constraints(tmp_path: Path) -> None:
    """The install step runs with a stand-in Python that records what it is asked to do (a real
    install would need the package index)."""
    calls = tmp_path / "calls.log"
    fake_python = tmp_path / "python3.12"
    fake_python.write_text(
        "#!/bin/bash\n"
        f'echo "$0 $*" >> "{calls}"\n'
        'if [ "$1 $2" = "-m venv" ]; then mkdir -p "$3/bin"; cp "$0" "$3/bin/python"; fi\n'
    )
    fake_python.chmod(0o755)
    origin = make_origin(tmp_path, {"costcalc.yaml": CONFIG}, {"costcalc.yaml": CONFIG})
    clone = git_clone_main(origin.url, tmp_path)
    action = load_action()
    (setup,) = [s for s in action["runs"]["steps"] if "uses" in s]
    assert setup["uses"].startswith("actions/setup-python@")
    assert setup["with"]["update-environment"] is False  # the job's Python stays as it was
    run = run_action(clone, tmp_path, event_name="push", event={}, install=True,
                     inputs={"comment": "false"}, python_path=str(fake_python))  # fmt: skip
    venv = tmp_path / "runner" / "costcalc-venv"
    assert run.step_outputs["install"] == {"costcalc": f"{venv}/bin/costcalc"}
    made, installed = calls.read_text().splitlines()
    assert made == f"{fake_python} -m venv {venv}"
    assert installed.startswith(f"{venv}/bin/python -m pip install ")
    assert f"--constraint {REPO}/action-requirements.txt {REPO}" in installed
    pins = (REPO / "action-requirements.txt").read_text()
    assert re.search(r"^pydantic==\d", pins, re.M) and re.search(r"^tiktoken==\d", pins, re.M)


# 11. The pre-commit hook saw only a costcalc.yaml at the repository root.
@needs_gate
def test_11_pre_commit_checks_every_costcalc_config_in_the_tree(tmp_path: Path) -> None:
    (hook,) = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    files = {
        "costcalc.yaml": CONFIG,
        "services/api/costcalc-prod.yml": OVER_WORKLOAD_BUDGET.replace(
            "monthly: 5000", "monthly: 3000"
        ),
        "services/web/costcalc.yaml": CONFIG,
        "docs/settings.yaml": "not: a costcalc config\n",
    }
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    git(repo, "add", ".")
    # what pre-commit does: the staged files matching `files`, passed to `entry`
    staged = git(repo, "diff", "--cached", "--name-only").splitlines()
    chosen = [f for f in staged if re.search(hook["files"], f)]
    assert chosen == [
        "costcalc.yaml",
        "services/api/costcalc-prod.yml",
        "services/web/costcalc.yaml",
    ]
    entry = hook["entry"].split()
    proc = subprocess.run([costcalc_bin(), *entry[1:], *chosen], cwd=repo,
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "services/api/costcalc-prod.yml" in proc.stdout and "support-chat" in proc.stdout
    for name in chosen:
        assert name in proc.stdout, (name, proc.stdout)
    (repo / "services/api/costcalc-prod.yml").write_text("workloads: [\n")
    proc = subprocess.run([costcalc_bin(), *entry[1:], *chosen], cwd=repo,
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert proc.returncode == 2 and "services/api/costcalc-prod.yml" in proc.stderr


# GitLab: the documented job posts, then updates, one merge-request note per config.
@needs_gate
def test_gitlab_job_posts_then_updates_one_note(tmp_path: Path) -> None:
    head = CONFIG.replace("requests_per_day: 20000\n", "requests_per_day: 21000\n")
    origin = make_origin(tmp_path, {"costcalc.yaml": CONFIG}, {"costcalc.yaml": head})
    # GitLab's runner: a fetch of the source branch; the target branch may be missing
    clone = pr_checkout(origin, tmp_path, fetch_depth=1)
    with fake_gitlab() as api:
        person = api.add("alice", f"{MARKER}\nquoted by a person")
        env = {
            "CI_API_V4_URL": f"{api.url}/api/v4", "CI_PROJECT_ID": GITLAB_PROJECT,
            "CI_MERGE_REQUEST_IID": str(PR), "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
            "CI_PIPELINE_SOURCE": "merge_request_event", "COSTCALC_GITLAB_TOKEN": "glpat-replay",
        }  # fmt: skip
        first = run_gitlab_job(clone, env)
        second = run_gitlab_job(clone, env)
    assert first.returncode == 0 and second.returncode == 0, first.stdout + first.stderr
    mine = [n for n in api.notes if n["author"]["username"] == GITLAB_BOT]
    assert len(mine) == 1 and mine[0]["body"].startswith(MARKER) and "80.25" in mine[0]["body"]
    assert next(n for n in api.notes if n["id"] == person)["body"].endswith("quoted by a person")
    writes = [m for m, _, _ in api.requests if m in ("POST", "PUT")]
    assert writes[0] == "POST" and all(m == "PUT" for m in writes[1:])
    assert all(token == "glpat-replay" for _, _, token in api.requests)
    assert git(clone, "rev-parse", "origin/main") == origin.base_sha
    assert (clone / "costcalc-gate" / "gate.json").is_file()


# --- the second replay: a tester's own repositories ------------------------------------------

MONO = {f"services/{s}/costcalc.yaml": CONFIG for s in ("search", "support", "old")}
WARNED = CONFIG.replace("monthly: 3000\n", "monthly: 3000\n  warn_monthly: 2500\n")


def _runner_commands(stdout: str) -> list[str]:
    """The workflow commands the runner would act on in ``stdout``: `::name ...::` at a line's
    start (after blanks) and `##[` anywhere, none between `::stop-commands::T` and `::T::`."""
    found, stop = [], None
    for line in stdout.splitlines():
        text = line.strip()
        if stop is not None:
            if text == f"::{stop}::":
                stop = None
            continue
        if text.startswith("::stop-commands::"):
            stop = text.removeprefix("::stop-commands::")
        if text.startswith("::") or "##[" in text:
            found.append(text)
    assert stop is None, "commands were stopped and never resumed"
    return found


@needs_gate
def test_limits_given_as_inputs_are_no_config_change(tmp_path: Path) -> None:
    """(1) The README's warn-on-increase 5% + fail-on-increase 10% on a docs-only PR: no
    phantom `budgets.warn_increase_pct: - -> 5`, so no comment under comment-on change."""
    origin = make_origin(
        tmp_path, {"costcalc.yaml": CONFIG}, {"README": "docs only\n", "costcalc.yaml": CONFIG}
    )
    clone = pr_checkout(origin, tmp_path, fetch_depth=1)
    with fake_github() as api:
        run = run_action(clone, tmp_path, event_name="pull_request", event=pr_event(origin),
                         api_url=api.url,
                         inputs={"warn-on-increase": "5%", "fail-on-increase": "10%"})  # fmt: skip
    assert run.exit_code == 0, run.stdout + run.stderr
    assert "warn_increase" not in run.stdout + run.summary and "changed:" not in run.stdout
    assert api.writes() == [] and run.outputs["diff-total-monthly"] == "0.00"


@needs_gate
def test_a_config_deleted_under_a_glob_is_reported_removed(tmp_path: Path) -> None:
    """(2) services/old/costcalc.yaml deleted, config a glob: matched at the base too."""
    head: dict[str, str | None] = {"services/old/costcalc.yaml": None}
    origin = make_origin(tmp_path, MONO, head)
    clone = pr_checkout(origin, tmp_path, fetch_depth=1)
    with fake_github() as api:
        run = run_action(clone, tmp_path, event_name="pull_request", event=pr_event(origin),
                         api_url=api.url,
                         inputs={"config": "services/*/costcalc*.y*ml"})  # fmt: skip
    assert run.exit_code == 0, run.stdout + run.stderr
    result = json.loads(Path(run.outputs["result-file"]).read_text())
    assert {c["path"]: c["status"] for c in result["configs"]} == {
        "services/old/costcalc.yaml": "deleted",
        "services/search/costcalc.yaml": "unchanged",
        "services/support/costcalc.yaml": "unchanged",
    }
    assert run.outputs["past-total-monthly"] == "8055.00"
    assert run.outputs["total-monthly"] == "5370.00"
    assert run.outputs["diff-total-monthly"] == "-2685.00"
    assert "config removed" in run.summary
    (body,) = _bot_comments(api)  # the removal is a change: its own comment
    assert body.startswith("<!-- costcalc-gate config=services/old/costcalc.yaml -->")


@needs_gate
def test_check_only_runs_list_every_workload(tmp_path: Path) -> None:
    """(3) push: gate.json and the summary have the per-workload table."""
    origin = make_origin(tmp_path, {"costcalc.yaml": CONFIG}, {"costcalc.yaml": CONFIG})
    clone = git_clone_main(origin.url, tmp_path)
    run = run_action(clone, tmp_path, event_name="push", inputs={"comment": "false"},
                     event={"repository": {"full_name": OWNER_REPO}})  # fmt: skip
    assert run.exit_code == 0, run.stdout + run.stderr
    (config,) = json.loads(Path(run.outputs["result-file"]).read_text())["configs"]
    assert [(w["name"], w["status"], w["monthly"]) for w in config["workloads"]] == [
        ("nightly-summaries", "checked", "1080.00"),
        ("support-chat", "checked", "1605.00"),
    ]
    assert "| nightly-summaries | $1,080.00 | ✅ |" in run.summary
    assert "| support-chat | $1,605.00 | ✅ |" in run.summary
    assert re.search(r"^\s+support-chat\s+\$1,605\.00$", run.stdout, re.M), run.stdout


def test_pre_commit_skips_the_copied_workflow() -> None:
    """(4) .github/workflows/costcalc.yml, where the example workflow goes, is no config."""
    (hook,) = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())

    def chosen(path: str) -> bool:  # pre-commit: `files` matches and `exclude` does not
        return bool(re.search(hook["files"], path)) and not re.search(hook["exclude"], path)

    assert not chosen(".github/workflows/costcalc.yml")
    assert not chosen(".github/workflows/costcalc-monorepo.yaml")
    assert chosen("costcalc.yaml") and chosen("services/api/costcalc-prod.yml")
    assert chosen("deploy/.github/costcalc.yaml")  # only the repository's own .github/
    # GitLab CI files and includes, and copies of the example workflows, are no configs either
    for ci_file in (".gitlab/ci/costcalc.yml", "ci/costcalc.gitlab-ci.yml",
                    "docs/costcalc-pull-request.yml", "costcalc-monorepo.yaml"):  # fmt: skip
        assert not chosen(ci_file), ci_file


@needs_gate
def test_workload_names_cannot_issue_workflow_commands(tmp_path: Path) -> None:
    """(5) A workload named `::error::pwned` (and one with `##[error]`) over its budget: the
    job log has costcalc's own annotations, the rest behind ::stop-commands::, and no table
    line that would be a command even without it."""
    head = OVER_WORKLOAD_BUDGET.replace("name: support-chat", 'name: "::error::pwned"').replace(
        "name: nightly-summaries", 'name: "n ##[error]boom"'
    )
    origin = make_origin(tmp_path, {"costcalc.yaml": CONFIG}, {"costcalc.yaml": head})
    clone = pr_checkout(origin, tmp_path, fetch_depth=1)
    with fake_github() as api:
        run = run_action(clone, tmp_path, event_name="pull_request", event=pr_event(origin),
                         api_url=api.url, inputs={"comment": "false"})  # fmt: skip
    assert run.exit_code == 1
    commands = _runner_commands(run.stdout)
    assert commands[-1].startswith("::stop-commands::costcalc-")
    assert all(c.startswith("::error file=costcalc.yaml,") for c in commands[:-1]), commands
    assert any("%3A%3Aerror%3A%3Apwned" in c or "::error::pwned" in c for c in commands[:-1])
    assert len(set(re.findall(r"::stop-commands::(\S+)", run.stdout))) == 1
    stopped = run.stdout.split(commands[-1], 1)[1]
    assert "pwned" in stopped and "boom" in stopped  # the report still names them
    assert not [ln for ln in stopped.splitlines()[:-1]
                if ln.strip().startswith("::") or "##[" in ln]  # fmt: skip


@needs_gate
def test_markers_carry_the_repository_path_from_a_subfolder(tmp_path: Path) -> None:
    """(7) `cd services/search && costcalc gate`, then the same in services/support: two
    comments, each marked with its path from the repository's top."""
    base = {f"services/{s}/costcalc.yaml": CONFIG for s in ("search", "support")}
    raised = WARNED.replace("requests_per_day: 20000\n", "requests_per_day: 21000\n")
    head = {f"services/{s}/costcalc.yaml": raised for s in ("search", "support")}
    origin = make_origin(tmp_path, base, head)
    clone = pr_checkout(origin, tmp_path, fetch_depth=1)
    with fake_github() as api:
        for service in ("search", "support"):
            run = run_action(clone / "services" / service, tmp_path, event_name="pull_request",
                             event=pr_event(origin), api_url=api.url)  # fmt: skip
            assert run.exit_code == 0, run.stdout + run.stderr
            # the annotation names the file as the repository does, too
            assert f"::warning file=services/{service}/costcalc.yaml,line=" in run.stdout
    assert [m for m, _ in api.writes()] == ["POST", "POST"]
    assert [b.splitlines()[0] for b in _bot_comments(api)] == [
        "<!-- costcalc-gate config=services/search/costcalc.yaml -->",
        "<!-- costcalc-gate config=services/support/costcalc.yaml -->",
    ]


@needs_gate
def test_a_standing_warning_updates_but_never_creates_a_comment(tmp_path: Path) -> None:
    """(8) A total over warn_monthly on a docs-only PR: no new comment; an existing one of
    the bot is brought up to date."""
    origin = make_origin(
        tmp_path, {"costcalc.yaml": WARNED}, {"README": "docs\n", "costcalc.yaml": WARNED}
    )
    clone = pr_checkout(origin, tmp_path, fetch_depth=1)
    with fake_github() as api:
        first = run_action(clone, tmp_path, event_name="pull_request", event=pr_event(origin),
                           api_url=api.url)  # fmt: skip
        assert first.exit_code == 0 and "::warning file=costcalc.yaml" in first.stdout
        assert api.writes() == []
        old = api.add(BOT, MARKER + "\nold figures")
        second = run_action(clone, tmp_path, event_name="pull_request", event=pr_event(origin),
                            api_url=api.url)  # fmt: skip
    assert second.exit_code == 0
    assert [m for m, _ in api.writes()] == ["PATCH"]
    assert "2,500" in api.by_id(old)["body"] and "old figures" not in api.by_id(old)["body"]


@needs_gate
@pytest.mark.parametrize("fetch_depth", [1, 0], ids=["shallow", "full"])
def test_merge_group_fetches_the_base_it_compares_with(tmp_path: Path, fetch_depth: int) -> None:
    """(9) merge_group on the default shallow checkout: the base comes from the event and
    is fetched by costcalc gate when missing, never with --depth; a full clone is not
    fetched at all."""
    origin = make_origin(
        tmp_path, {"costcalc.yaml": CONFIG}, {"costcalc.yaml": OVER_WORKLOAD_BUDGET}
    )
    clone = checkout(origin, tmp_path / "clone", ref="refs/heads/gh-readonly-queue/main/pr-7",
                     sha=origin.merge_sha, fetch_depth=fetch_depth)  # fmt: skip
    event = {
        "merge_group": {"base_ref": "refs/heads/main", "base_sha": origin.base_sha,
                        "head_ref": "refs/heads/gh-readonly-queue/main/pr-7",
                        "head_sha": origin.merge_sha},
        "repository": {"full_name": OWNER_REPO},
    }  # fmt: skip
    with fake_github() as api:
        run = run_action(clone, tmp_path, event_name="merge_group", event=event,
                         api_url=api.url)  # fmt: skip
    assert run.exit_code == 1 and run.outputs["past-total-monthly"] == "2685.00", run.stderr
    assert "is not a commit" not in run.stderr and api.requests == []
    fetches = [c for c in run.git_log if c.startswith("fetch")]
    if fetch_depth == 0:
        assert fetches == []
    else:
        assert len(fetches) == 1 and "refs/heads/main" in fetches[0], fetches
    assert not any("--depth" in c or "--unshallow" in c for c in run.git_log)


@needs_gate
def test_outputs_are_in_cents_as_the_comment_shows_them(tmp_path: Path) -> None:
    """(10) 20,020 requests a day cost $2,686.605 a month: the outputs say 2686.61 (half up,
    as the comment), not 2686.605."""
    head = CONFIG.replace("requests_per_day: 20000\n", "requests_per_day: 20020\n")
    origin = make_origin(tmp_path, {"costcalc.yaml": CONFIG}, {"costcalc.yaml": head})
    clone = pr_checkout(origin, tmp_path, fetch_depth=1)
    with fake_github() as api:
        run = run_action(clone, tmp_path, event_name="pull_request", event=pr_event(origin),
                         api_url=api.url)  # fmt: skip
    assert run.exit_code == 0, run.stdout + run.stderr
    assert run.outputs["total-monthly"] == "2686.61"
    assert run.outputs["diff-total-monthly"] == "1.61"
    (body,) = _bot_comments(api)
    assert "$2,686.61" in body and "+$1.61" in body


@needs_gate
def test_an_invalid_head_config_leaves_unknown_outputs_empty_and_says_so_once(
    tmp_path: Path,
) -> None:
    """(11) total and diff are unknown (empty), the past total is the base's; the error is
    the annotation and the one stderr line, not a third copy on stdout."""
    broken = CONFIG.replace("requests_per_day: 20000\n", "requests_per_day: lots\n")
    origin = make_origin(tmp_path, {"costcalc.yaml": CONFIG}, {"costcalc.yaml": broken})
    clone = pr_checkout(origin, tmp_path, fetch_depth=1)
    with fake_github() as api:
        run = run_action(clone, tmp_path, event_name="pull_request", event=pr_event(origin),
                         api_url=api.url)  # fmt: skip
    assert run.codes["gate"] == 2 and run.outputs["passed"] == "false"
    assert run.outputs["total-monthly"] == "" and run.outputs["diff-total-monthly"] == ""
    assert run.outputs["past-total-monthly"] == "2685.00"
    log = (run.stdout + run.stderr).splitlines()
    said = [ln for ln in log if "lots" in ln]
    assert len(said) == 2, said
    assert said[0].startswith("::error file=costcalc.yaml,line=")
    assert said[1].startswith("costcalc: error:")
