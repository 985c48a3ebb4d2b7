"""Where ``costcalc gate`` runs: GitHub Actions, GitLab CI or neither, read from the
environment a CI job gives (``detect_ci(os.environ)``).

The context says which pull request or merge request the run is for, the base branch to
compare with (none on push, schedule and manual runs: check-only mode), whether the change
comes from a fork (its token is read-only), and the API and token to comment with. Nothing
here touches the network.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from costcalc.errors import CostcalcError, InputFileError, open_input

Platform = Literal["github", "gitlab"]

GITHUB_API = "https://api.github.com"
GITHUB_BOT = "github-actions[bot]"
"""The login of the comments the workflow's own ``GITHUB_TOKEN`` writes."""
BOT_LOGIN_ENV = "COSTCALC_BOT_LOGIN"
"""The login of the bot that writes the comments, when the token is not the workflow's own
(a GitHub App's ``my-app[bot]``, a personal token's user, a GitLab project token's bot)."""
GITLAB_TOKEN_ENVS = ("COSTCALC_GITLAB_TOKEN", "GITLAB_TOKEN", "CI_JOB_TOKEN")
"""Where the GitLab token is read from, first found wins: a project or personal access token
may write merge-request notes; the job's own token often may not (GitLab says which)."""

PULL_REQUEST_EVENTS = ("pull_request", "pull_request_target")
MAX_EVENT_BYTES = 64 * 1024 * 1024
"""GitHub caps a webhook payload at 25 MB: a larger event file is not one."""


@dataclass(frozen=True)
class CiContext:
    """The CI run: its platform, event, pull request and where to comment on it."""

    platform: Platform | None = None
    """``github``, ``gitlab``, or None outside CI (nothing is posted)."""
    event: str | None = None
    """GitHub's ``GITHUB_EVENT_NAME`` (``pull_request``, ``push``, ...), GitLab's
    ``CI_PIPELINE_SOURCE`` (``merge_request_event``, ``push``, ``schedule``, ...)."""
    pull_request: int | None = None
    """The pull request's number (GitHub) or merge request's iid (GitLab); None otherwise."""
    base_ref: str | None = None
    """The git ref to compare with (``origin/main``); None on push, schedule and manual runs."""
    fork: bool = False
    """The change comes from another repository (a fork): on GitHub's ``pull_request`` event
    its token is read-only."""
    api_url: str | None = None
    """``https://api.github.com``, a GitHub Enterprise ``https://HOST/api/v3``, or GitLab's
    ``https://HOST/api/v4``; no trailing slash."""
    repository: str | None = None
    """``owner/name`` (GitHub), the project's path (GitLab)."""
    project_id: str | None = None
    """GitLab: the merge request's project id (notes are written there)."""
    token: str | None = field(default=None, repr=False)
    """Never printed: left out of ``repr``."""
    token_source: str | None = None
    """The variable the token came from (``GITHUB_TOKEN``, ``CI_JOB_TOKEN``, ...)."""
    bot_login: str | None = None
    """The login whose comments are ours (``$COSTCALC_BOT_LOGIN``; on GitHub by default
    ``github-actions[bot]``; on GitLab by default the token's own user)."""
    web_url: str | None = None
    """The repository's or project's web page (links to GitLab notes are made from it)."""
    summary_path: str | None = None
    """``$GITHUB_STEP_SUMMARY``: the job summary file, appended to."""
    output_path: str | None = None
    """``$GITHUB_OUTPUT``: the step's outputs file, appended to."""


def detect_ci(env: Mapping[str, str]) -> CiContext:
    """The CI context described by ``env`` (``os.environ``): GitHub Actions when
    ``GITHUB_ACTIONS=true``, GitLab CI when ``GITLAB_CI=true``, else an empty context.

    A pull-request event whose event file is missing or not the event's JSON, a number or
    URL that is not one, is bad input (``CostcalcError``, one line naming the file or
    variable)."""
    if env.get("GITHUB_ACTIONS") == "true":
        return _github(env)
    if env.get("GITLAB_CI") == "true":
        return _gitlab(env)
    return CiContext()


def _get(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "")
    return value or None


def _api_url(env: Mapping[str, str], name: str, default: str) -> str:
    url = _get(env, name) or default
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() not in ("http", "https") or not rest.strip("/"):
        raise CostcalcError(f"${name}: expected an http(s) URL of the API, got {url!r}")
    return url.rstrip("/")


# --- GitHub Actions ------------------------------------------------------------------------


def _github(env: Mapping[str, str]) -> CiContext:
    event = _get(env, "GITHUB_EVENT_NAME")
    repository = _get(env, "GITHUB_REPOSITORY")
    number: int | None = None
    base_ref: str | None = None
    fork = False
    if event in PULL_REQUEST_EVENTS:
        payload = _event_payload(env)
        number, base, head_repo = _pull_request(payload, env["GITHUB_EVENT_PATH"])
        base_ref = f"origin/{base}"
        # a deleted fork has no head repository: from elsewhere, as a fork is
        fork = head_repo is None or head_repo.lower() != (repository or "").lower()
    elif event == "merge_group":
        payload = _event_payload(env)
        ref = _dig(payload, "merge_group", "base_ref")
        if isinstance(ref, str) and ref:
            base_ref = "origin/" + ref.removeprefix("refs/heads/")
    # push, schedule, workflow_dispatch and the rest: no base, check only
    server = (_get(env, "GITHUB_SERVER_URL") or "https://github.com").rstrip("/")
    return CiContext(
        platform="github",
        event=event,
        pull_request=number,
        base_ref=base_ref,
        fork=fork,
        api_url=_api_url(env, "GITHUB_API_URL", GITHUB_API),
        repository=repository,
        token=_get(env, "GITHUB_TOKEN"),
        token_source="GITHUB_TOKEN" if _get(env, "GITHUB_TOKEN") else None,
        bot_login=_get(env, BOT_LOGIN_ENV) or GITHUB_BOT,
        web_url=f"{server}/{repository}" if repository else None,
        summary_path=_get(env, "GITHUB_STEP_SUMMARY"),
        output_path=_get(env, "GITHUB_OUTPUT"),
    )


def _event_payload(env: Mapping[str, str]) -> dict[str, Any]:
    """The event's JSON (``$GITHUB_EVENT_PATH``), an object; else bad input naming it."""
    from costcalc.jsonlines import JsonError, parse_json

    path = _get(env, "GITHUB_EVENT_PATH")
    event = env.get("GITHUB_EVENT_NAME")
    if path is None:
        raise CostcalcError(
            f"$GITHUB_EVENT_PATH: not set (the {event} event's JSON is needed for the pull "
            "request and its base branch)"
        )
    with open_input(path, "event file") as stream:
        data = stream.read(MAX_EVENT_BYTES + 1)
    if len(data) > MAX_EVENT_BYTES:
        raise InputFileError(path, f"more than {MAX_EVENT_BYTES:,} bytes: not a GitHub event")
    if not data.strip():
        raise InputFileError(path, f"is empty, expected the {event} event's JSON")
    try:
        payload = parse_json(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise InputFileError(path, "is not UTF-8 text: expected the event's JSON") from None
    except JsonError as exc:
        raise InputFileError(path, exc.reason, line=exc.line) from None
    if not isinstance(payload, dict):
        raise InputFileError(path, f"expected a JSON object (the {event} event), got JSON")
    return payload


def _dig(obj: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def _pull_request(payload: dict[str, Any], path: str) -> tuple[int, str, str | None]:
    """The pull request's number, base branch and head repository (None: deleted)."""
    number = _dig(payload, "pull_request", "number")
    if not isinstance(number, int) or isinstance(number, bool) or number < 1:
        raise InputFileError(path, "pull_request.number: expected the pull request's number")
    base = _dig(payload, "pull_request", "base", "ref")
    if not isinstance(base, str) or not base.strip():
        raise InputFileError(path, "pull_request.base.ref: expected the base branch's name")
    head = _dig(payload, "pull_request", "head", "repo", "full_name")
    return number, base, head if isinstance(head, str) else None


# --- GitLab CI -----------------------------------------------------------------------------


def _gitlab(env: Mapping[str, str]) -> CiContext:
    iid_text = _get(env, "CI_MERGE_REQUEST_IID")
    iid: int | None = None
    if iid_text is not None:
        if not iid_text.isascii() or not iid_text.isdigit() or int(iid_text) < 1:
            raise CostcalcError(f"$CI_MERGE_REQUEST_IID: expected a number, got {iid_text!r}")
        iid = int(iid_text)
    target = _get(env, "CI_MERGE_REQUEST_TARGET_BRANCH_NAME")
    project = _get(env, "CI_MERGE_REQUEST_PROJECT_ID") or _get(env, "CI_PROJECT_ID")
    source = _get(env, "CI_MERGE_REQUEST_SOURCE_PROJECT_ID")
    server = _get(env, "CI_SERVER_URL")
    default_api = f"{server.rstrip('/')}/api/v4" if server else "https://gitlab.com/api/v4"
    token_source = next((name for name in GITLAB_TOKEN_ENVS if _get(env, name)), None)
    return CiContext(
        platform="gitlab",
        event=_get(env, "CI_PIPELINE_SOURCE"),
        pull_request=iid,
        base_ref=f"origin/{target}" if iid is not None and target else None,
        fork=iid is not None and source is not None and source != project,
        api_url=_api_url(env, "CI_API_V4_URL", default_api),
        repository=_get(env, "CI_MERGE_REQUEST_PROJECT_PATH") or _get(env, "CI_PROJECT_PATH"),
        project_id=project,
        token=_get(env, token_source) if token_source else None,
        token_source=token_source,
        # the job's token writes as the user who started the pipeline
        bot_login=_get(env, BOT_LOGIN_ENV)
        or (_get(env, "GITLAB_USER_LOGIN") if token_source == "CI_JOB_TOKEN" else None),
        web_url=_get(env, "CI_MERGE_REQUEST_PROJECT_URL") or _get(env, "CI_PROJECT_URL"),
    )
