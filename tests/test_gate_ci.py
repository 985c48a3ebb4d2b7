"""detect_ci: GitHub Actions and GitLab CI read from the variables and event file a job gives;
push, schedule and manual runs have no base (check only); forks are recognised; a missing or
malformed event file is one line of bad input naming it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from costcalc.errors import CostcalcError, InputFileError
from costcalc.gate.ci import CiContext, detect_ci


def pull_request_event(
    head: str | None = "acme/shop", number: int = 7, base: str = "main"
) -> dict[str, object]:
    return {
        "action": "synchronize",
        "number": number,
        "pull_request": {
            "number": number,
            "base": {"ref": base, "repo": {"full_name": "acme/shop"}},
            "head": {"ref": "feature", "repo": None if head is None else {"full_name": head}},
        },
    }


def github_env(
    tmp_path: Path, event: str = "pull_request", payload: object = None, **extra: str
) -> dict[str, str]:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(pull_request_event() if payload is None else payload), "utf-8")
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": event,
        "GITHUB_EVENT_PATH": str(path),
        "GITHUB_REPOSITORY": "acme/shop",
        "GITHUB_API_URL": "https://api.github.com",
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_TOKEN": "ghs_secret",
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "GITHUB_OUTPUT": str(tmp_path / "output"),
    }
    env.update(extra)
    return env


def test_outside_ci_there_is_no_context() -> None:
    assert detect_ci({}) == CiContext()
    assert detect_ci({"GITHUB_ACTIONS": "false", "CI": "true"}).platform is None


def test_a_github_pull_request(tmp_path: Path) -> None:
    ctx = detect_ci(github_env(tmp_path))
    assert ctx == CiContext(
        platform="github",
        event="pull_request",
        pull_request=7,
        base_ref="origin/main",
        fork=False,
        api_url="https://api.github.com",
        repository="acme/shop",
        token="ghs_secret",
        token_source="GITHUB_TOKEN",
        bot_login="github-actions[bot]",
        web_url="https://github.com/acme/shop",
        summary_path=str(tmp_path / "summary.md"),
        output_path=str(tmp_path / "output"),
    )
    assert "ghs_secret" not in repr(ctx)


@pytest.mark.parametrize("event", ["pull_request", "pull_request_target"])
@pytest.mark.parametrize(
    ("head", "fork"), [("acme/shop", False), ("ACME/Shop", False), ("eve/shop", True), (None, True)]
)
def test_a_fork_is_a_head_repository_other_than_this_one(
    tmp_path: Path, event: str, head: str | None, fork: bool
) -> None:
    ctx = detect_ci(github_env(tmp_path, event, pull_request_event(head, 12, "release/1.x")))
    assert (ctx.event, ctx.pull_request, ctx.base_ref, ctx.fork) == (
        event,
        12,
        "origin/release/1.x",
        fork,
    )


@pytest.mark.parametrize("event", ["push", "schedule", "workflow_dispatch", "release"])
def test_runs_without_a_pull_request_have_no_base(tmp_path: Path, event: str) -> None:
    # the event file is not needed, so not read: even a broken one does not matter
    env = github_env(tmp_path, event)
    Path(env["GITHUB_EVENT_PATH"]).write_text("{not json", "utf-8")
    ctx = detect_ci(env)
    assert (ctx.platform, ctx.event, ctx.pull_request, ctx.base_ref, ctx.fork) == (
        "github",
        event,
        None,
        None,
        False,
    )
    assert detect_ci({k: v for k, v in env.items() if k != "GITHUB_EVENT_PATH"}).base_ref is None


def test_a_merge_queue_compares_with_its_base(tmp_path: Path) -> None:
    payload = {
        "merge_group": {"base_ref": "refs/heads/main", "head_ref": "gh-readonly-queue/main/pr-7"}
    }
    ctx = detect_ci(github_env(tmp_path, "merge_group", payload))
    assert (ctx.pull_request, ctx.base_ref) == (None, "origin/main")


def test_github_enterprise_and_a_custom_bot(tmp_path: Path) -> None:
    env = github_env(
        tmp_path,
        GITHUB_API_URL="https://ghe.example.com/api/v3/",
        GITHUB_SERVER_URL="https://ghe.example.com",
        COSTCALC_BOT_LOGIN="cost-bot[bot]",
        GITHUB_STEP_SUMMARY="",
        GITHUB_TOKEN="",
    )
    ctx = detect_ci(env)
    assert ctx.api_url == "https://ghe.example.com/api/v3"
    assert ctx.web_url == "https://ghe.example.com/acme/shop"
    assert ctx.bot_login == "cost-bot[bot]"
    assert (ctx.summary_path, ctx.token, ctx.token_source) == (None, None, None)


def test_a_bad_api_url_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(
        CostcalcError,
        match=r"^\$GITHUB_API_URL: expected an http\(s\) URL of the API, got 'ftp://x'$",
    ):
        detect_ci(github_env(tmp_path, GITHUB_API_URL="ftp://x"))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "event.json: no such event file"),
        ("", "event.json: is empty, expected the pull_request event's JSON"),
        ('{"pull_request": {"number": 7,', "event.json:1: invalid JSON: Expecting property name"),
        ("[1, 2]", "event.json: expected a JSON object (the pull_request event), got JSON"),
        (b"\xff\xfe{}", "event.json: is not UTF-8 text: expected the event's JSON"),
        ("{}", "event.json: pull_request.number: expected the pull request's number"),
        (
            '{"pull_request": {"number": "7"}}',
            "event.json: pull_request.number: expected the pull request's number",
        ),
        (
            '{"pull_request": {"number": 7, "base": {}}}',
            "event.json: pull_request.base.ref: expected the base branch's name",
        ),
    ],
)
def test_a_missing_or_malformed_event_file_is_one_line_naming_it(
    tmp_path: Path, content: str | bytes | None, message: str
) -> None:
    env = github_env(tmp_path)
    path = Path(env["GITHUB_EVENT_PATH"])
    if content is None:
        path.unlink()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, "utf-8")
    with pytest.raises(InputFileError) as err:
        detect_ci(env)
    assert str(err.value).startswith(str(tmp_path))
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_a_pull_request_without_an_event_file_variable(tmp_path: Path) -> None:
    env = github_env(tmp_path)
    del env["GITHUB_EVENT_PATH"]
    with pytest.raises(
        CostcalcError, match=r"^\$GITHUB_EVENT_PATH: not set \(the pull_request event's JSON"
    ):
        detect_ci(env)


# --- GitLab -----------------------------------------------------------------------------

GITLAB = {
    "GITLAB_CI": "true",
    "CI_PIPELINE_SOURCE": "merge_request_event",
    "CI_MERGE_REQUEST_IID": "3",
    "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
    "CI_MERGE_REQUEST_PROJECT_ID": "42",
    "CI_MERGE_REQUEST_SOURCE_PROJECT_ID": "42",
    "CI_MERGE_REQUEST_PROJECT_PATH": "acme/shop",
    "CI_MERGE_REQUEST_PROJECT_URL": "https://gitlab.example/acme/shop",
    "CI_PROJECT_ID": "42",
    "CI_PROJECT_PATH": "acme/shop",
    "CI_API_V4_URL": "https://gitlab.example/api/v4",
    "CI_JOB_TOKEN": "job-secret",
    "GITLAB_USER_LOGIN": "alice",
}


def test_a_gitlab_merge_request_with_a_project_token() -> None:
    ctx = detect_ci({**GITLAB, "COSTCALC_GITLAB_TOKEN": "glpat-secret"})
    assert ctx == CiContext(
        platform="gitlab",
        event="merge_request_event",
        pull_request=3,
        base_ref="origin/main",
        fork=False,
        api_url="https://gitlab.example/api/v4",
        repository="acme/shop",
        project_id="42",
        token="glpat-secret",
        token_source="COSTCALC_GITLAB_TOKEN",
        bot_login=None,  # the token's user, asked of the API
        web_url="https://gitlab.example/acme/shop",
    )
    assert detect_ci({**GITLAB, "GITLAB_TOKEN": "glpat-2"}).token_source == "GITLAB_TOKEN"


def test_a_gitlab_job_token_writes_as_the_pipelines_user() -> None:
    ctx = detect_ci(GITLAB)
    assert (ctx.token, ctx.token_source, ctx.bot_login) == ("job-secret", "CI_JOB_TOKEN", "alice")
    assert detect_ci({**GITLAB, "COSTCALC_BOT_LOGIN": "ci-bot"}).bot_login == "ci-bot"


def test_a_gitlab_fork_and_a_push_pipeline() -> None:
    fork = detect_ci({**GITLAB, "CI_MERGE_REQUEST_SOURCE_PROJECT_ID": "99", "CI_PROJECT_ID": "99"})
    assert (fork.fork, fork.project_id) == (True, "42")  # notes go to the merge request's project
    push = {k: v for k, v in GITLAB.items() if not k.startswith("CI_MERGE_REQUEST_")}
    ctx = detect_ci(
        {
            **push,
            "CI_PIPELINE_SOURCE": "push",
            "CI_API_V4_URL": "",
            "CI_SERVER_URL": "https://git.corp/",
        }
    )
    assert (ctx.event, ctx.pull_request, ctx.base_ref, ctx.fork) == ("push", None, None, False)
    assert (ctx.api_url, ctx.project_id) == ("https://git.corp/api/v4", "42")


@pytest.mark.parametrize("iid", ["abc", "0", "-1", "３"])
def test_a_bad_merge_request_iid_names_the_variable(iid: str) -> None:
    with pytest.raises(CostcalcError, match=r"^\$CI_MERGE_REQUEST_IID: expected a number, got "):
        detect_ci({**GITLAB, "CI_MERGE_REQUEST_IID": iid})
