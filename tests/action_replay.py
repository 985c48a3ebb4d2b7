"""Replay the GitHub Action as the runner does: real git repositories (an origin with a base
branch, a pull-request head, and the `refs/pull/N/merge` commit GitHub makes), clones made the
way actions/checkout makes them, action.yml's `run:` steps executed by bash with the runner's
`${{ }}` expressions substituted, `GITHUB_*` variables and an event file, and a fake GitHub REST
API on 127.0.0.1 that keeps the pull request's comments."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml

REPO = Path(__file__).resolve().parent.parent
BOT = "github-actions[bot]"
OWNER_REPO = "acme/app"
PR = 7
GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(cwd: Path, *args: str) -> str:
    proc = subprocess.run(
        ["git", *args], cwd=cwd, env={**os.environ, **GIT_ENV},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, (args, proc.stderr)
    return proc.stdout.strip()


def commit(work: Path, files: Mapping[str, str | None], message: str) -> str:
    """Write (or, for None, delete) files in ``work`` and commit them; returns the SHA."""
    for name, text in files.items():
        path = work / name
        if text is None:
            git(work, "rm", "-q", name)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        git(work, "add", name)
    git(work, "commit", "-q", "--allow-empty", "-m", message)
    return git(work, "rev-parse", "HEAD")


@dataclass
class Origin:
    """The repository on GitHub: main (with history and a tag), a PR branch, refs/pull/N/*."""

    url: str
    base_sha: str
    head_sha: str
    merge_sha: str
    main_commits: int


def make_origin(
    tmp: Path, base: Mapping[str, str], head: Mapping[str, str | None], history: int = 5
) -> Origin:
    """main has ``history`` commits, the last one writing ``base`` (tagged v1.0.0 two commits
    before); the PR branch writes ``head``; refs/pull/7/merge merges it into main."""
    work = tmp / "origin-work"
    work.mkdir()
    git(work, "init", "-q", "-b", "main")
    for i in range(history - 1):
        commit(work, {"README": f"revision {i}\n"}, f"main {i}")
        if i == history - 3:
            git(work, "tag", "-a", "v1.0.0", "-m", "v1.0.0")
    base_sha = commit(work, dict(base), "base config")
    git(work, "checkout", "-q", "-b", "feature")
    head_sha = commit(work, dict(head), "head config")
    git(work, "checkout", "-q", "--detach", "main")
    git(work, "merge", "-q", "--no-ff", "-m", f"Merge {head_sha} into {base_sha}", "feature")
    merge_sha = git(work, "rev-parse", "HEAD")
    git(work, "checkout", "-q", "main")
    git(work, "update-ref", f"refs/pull/{PR}/head", head_sha)
    git(work, "update-ref", f"refs/pull/{PR}/merge", merge_sha)
    bare = tmp / "origin.git"
    git(tmp, "clone", "-q", "--bare", str(work), str(bare))
    git(bare, "fetch", "-q", str(work), "+refs/pull/*:refs/pull/*")
    return Origin(f"file://{bare}", base_sha, head_sha, merge_sha, history)


def checkout(origin: Origin, dest: Path, *, ref: str, sha: str, fetch_depth: int) -> Path:
    """What actions/checkout does: init, add origin, fetch (fetch-depth 1: the one commit;
    0: every branch and tag, then the ref), check out detached."""
    dest.mkdir()
    git(dest, "init", "-q")
    git(dest, "remote", "add", "origin", origin.url)
    if fetch_depth == 0:
        git(dest, "fetch", "-q", "--prune", "--tags", "origin",
            "+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*")  # fmt: skip
        git(dest, "fetch", "-q", "origin", f"+{sha}:{ref}")
    else:
        git(dest, "fetch", "-q", "--no-tags", f"--depth={fetch_depth}", "origin", f"+{sha}:{ref}")
    git(dest, "checkout", "-q", "--detach", sha)
    return dest


# --- the fake GitHub REST API ---------------------------------------------------------------


@dataclass
class FakeGitHub:
    """Issue comments of one pull request. ``forbid_writes``: the token of a fork PR (403)."""

    comments: list[dict[str, Any]] = field(default_factory=list)
    requests: list[tuple[str, str, str | None]] = field(default_factory=list)
    forbid_writes: bool = False
    url: str = ""
    per_page_cap: int = 30
    _next_id: int = 1000

    def add(self, login: str, body: str) -> int:
        self._next_id += 1
        self.comments.append({"id": self._next_id, "body": body, "user": {"login": login,
                              "type": "Bot" if login.endswith("[bot]") else "User"}})  # fmt: skip
        return self._next_id

    def writes(self) -> list[tuple[str, str]]:
        return [(m, p) for m, p, _ in self.requests if m in ("POST", "PATCH")]

    def by_id(self, comment_id: int) -> dict[str, Any]:
        return next(c for c in self.comments if c["id"] == comment_id)


def _handler(api: FakeGitHub) -> type[BaseHTTPRequestHandler]:
    prefix = f"/repos/{OWNER_REPO}/issues"

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # quiet
            pass

        def _send(self, status: int, payload: object, headers: Mapping[str, str] = {}) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> dict[str, Any]:
            length = int(self.headers.get("Content-Length") or 0)
            return json.loads(self.rfile.read(length) or b"{}")  # type: ignore[no-any-return]

        def _record(self) -> tuple[str, dict[str, list[str]]]:
            parts = urlsplit(self.path)
            api.requests.append((self.command, parts.path, self.headers.get("Authorization")))
            return parts.path, parse_qs(parts.query)

        def do_GET(self) -> None:
            path, query = self._record()
            if path == f"{prefix}/{PR}/comments":
                per_page = min(int(query.get("per_page", ["30"])[0]), 100, api.per_page_cap)
                page = int(query.get("page", ["1"])[0])
                chunk = api.comments[(page - 1) * per_page : page * per_page]
                headers = {}
                if page * per_page < len(api.comments):
                    nxt = f"{api.url}{path}?per_page={per_page}&page={page + 1}"
                    headers["Link"] = f'<{nxt}>; rel="next"'
                return self._send(200, chunk, headers)
            if path == "/user":  # an installation token may not read /user
                return self._send(403, {"message": "Resource not accessible by integration"})
            self._send(404, {"message": "Not Found"})

        def _write(self) -> None:
            path, _ = self._record()
            body = self._body()
            if api.forbid_writes:
                return self._send(403, {"message": "Resource not accessible by integration"})
            if self.command == "POST" and path == f"{prefix}/{PR}/comments":
                new_id = api.add(BOT, body["body"])
                return self._send(201, {**api.by_id(new_id), "html_url": f"{api.url}/c/{new_id}"})
            match = re.fullmatch(rf"{prefix}/comments/(\d+)", path)
            if self.command == "PATCH" and match:
                found = [c for c in api.comments if c["id"] == int(match.group(1))]
                if not found:
                    return self._send(404, {"message": "Not Found"})
                found[0]["body"] = body["body"]
                return self._send(200, {**found[0], "html_url": f"{api.url}/c/{match.group(1)}"})
            self._send(404, {"message": "Not Found"})

        do_POST = _write
        do_PATCH = _write

    return Handler


@contextmanager
def fake_github(api: FakeGitHub | None = None) -> Iterator[FakeGitHub]:
    api = api or FakeGitHub()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(api))
    api.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


# --- the runner -------------------------------------------------------------------------------

EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def load_action() -> dict[str, Any]:
    return yaml.safe_load((REPO / "action.yml").read_text())  # type: ignore[no-any-return]


def costcalc_bin() -> str:
    found = Path(sys.executable).parent / "costcalc"
    return str(found) if found.exists() else str(shutil.which("costcalc"))


@dataclass
class Run:
    codes: dict[str, int]
    outputs: dict[str, str]
    step_outputs: dict[str, dict[str, str]]
    summary: str
    stdout: str
    stderr: str
    git_log: list[str]

    @property
    def exit_code(self) -> int:
        """The job's result: the first failing step's code, else 0."""
        return next((c for c in self.codes.values() if c != 0), 0)


def _parse_output_file(text: str) -> dict[str, str]:
    """$GITHUB_OUTPUT: `name=value` lines and `name<<DELIM` ... `DELIM` blocks."""
    out: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delim = line.split("<<", 1)
            value = []
            for more in lines:
                if more == delim:
                    break
                value.append(more)
            out[name] = "\n".join(value)
        elif "=" in line:
            name, value1 = line.split("=", 1)
            out[name] = value1
    return out


def run_action(
    workdir: Path,
    tmp: Path,
    *,
    event_name: str,
    event: Mapping[str, Any],
    inputs: Mapping[str, str] = {},
    api_url: str = "http://127.0.0.1:9",
    env: Mapping[str, str] = {},
    install: bool = False,
    python_path: str = sys.executable,
) -> Run:
    """Run action.yml's steps in ``workdir`` as the runner does. `uses:` steps are skipped
    (setup-python's output python-path is ``python_path``); the install step is replaced by
    the test environment's costcalc unless ``install`` (then it runs, with PYTHON from env)."""
    action = load_action()
    given = {k: str(v.get("default", "")) for k, v in action["inputs"].items()}
    given.update(inputs)
    runner = tmp / "runner"
    runner.mkdir(exist_ok=True)
    (runner / "event.json").write_text(json.dumps(event))
    summary = runner / "step_summary.md"
    summary.touch()
    shim = runner / "shim"
    shim.mkdir(exist_ok=True)
    git_log = runner / "git.log"
    git_log.write_text("")
    real_git = shutil.which("git")
    (shim / "git").write_text(
        f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{git_log}"\nexec "{real_git}" "$@"\n'
    )
    (shim / "git").chmod(0o755)
    base_env = {
        k: v for k, v in os.environ.items()
        if not k.startswith(("GITHUB_", "GITLAB", "CI_", "RUNNER_", "COSTCALC_BOT", "COSTCALC_GITLAB"))
        and k != "CI"
    }  # fmt: skip
    base_env.update(GIT_ENV)
    pull = event.get("pull_request") or {}
    base_env.update(
        CI="true",
        GITHUB_ACTIONS="true",
        GITHUB_EVENT_NAME=event_name,
        GITHUB_EVENT_PATH=str(runner / "event.json"),
        GITHUB_REPOSITORY=OWNER_REPO,
        GITHUB_API_URL=api_url,
        GITHUB_SERVER_URL="https://github.com",
        GITHUB_WORKSPACE=str(workdir),
        GITHUB_ACTION_PATH=str(REPO),
        GITHUB_STEP_SUMMARY=str(summary),
        GITHUB_BASE_REF=str(pull.get("base", {}).get("ref", "")),
        GITHUB_HEAD_REF=str(pull.get("head", {}).get("ref", "")),
        GITHUB_REF=f"refs/pull/{PR}/merge" if pull else "refs/heads/main",
        RUNNER_TEMP=str(runner),
        RUNNER_OS="Linux",
        PATH=f"{shim}{os.pathsep}{base_env.get('PATH', '')}",
    )
    base_env.update(env)
    context: dict[str, str] = {
        "github.token": "ghs_replaytoken",
        "github.action_path": str(REPO),
        "github.base_ref": base_env["GITHUB_BASE_REF"],
        **{f"inputs.{k}": v for k, v in given.items()},
    }
    step_outputs: dict[str, dict[str, str]] = {"python": {"python-path": python_path}}

    def expand(text: str) -> str:
        def one(match: re.Match[str]) -> str:
            expr = match.group(1)
            step = re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", expr)
            if step:
                return step_outputs.get(step.group(1), {}).get(step.group(2), "")
            assert expr in context, f"the replay does not know the expression {expr!r}"
            return context[expr]

        return EXPRESSION.sub(one, text)

    # the defaults may themselves be expressions (github-token: ${{ github.token }})
    for key in list(context):
        context[key] = expand(context[key])

    codes: dict[str, int] = {}
    out, err = [], []
    for index, step in enumerate(action["runs"]["steps"]):
        step_id = step.get("id", f"step{index}")
        if "uses" in step:
            continue
        assert "${{" not in step["run"], f"step {step_id}: an expression inside run: (injection)"
        output_file = runner / f"output-{step_id}"
        output_file.write_text("")
        if step_id == "install" and not install:
            step_outputs["install"] = {"costcalc": costcalc_bin()}
            continue
        script = runner / f"step-{step_id}.sh"
        script.write_text(step["run"])
        step_env = {k: expand(str(v)) for k, v in step.get("env", {}).items()}
        proc = subprocess.run(
            # the runner's command line for `shell: bash`
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=workdir, env={**base_env, **step_env, "GITHUB_OUTPUT": str(output_file)},
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        out.append(proc.stdout)
        err.append(proc.stderr)
        codes[step_id] = proc.returncode
        step_outputs[step_id] = _parse_output_file(output_file.read_text())
        assert "Traceback" not in proc.stderr, proc.stderr
        if proc.returncode != 0:
            break
    outputs = {k: expand(str(v["value"])) for k, v in action["outputs"].items()}
    return Run(
        codes, outputs, step_outputs, summary.read_text(), "".join(out), "".join(err),
        git_log.read_text().splitlines(),
    )  # fmt: skip


def pr_event(origin: Origin, *, head_repo: str = OWNER_REPO) -> dict[str, Any]:
    repo = {"full_name": OWNER_REPO}
    return {
        "action": "synchronize",
        "number": PR,
        "pull_request": {
            "number": PR,
            "base": {"ref": "main", "sha": origin.base_sha, "repo": repo},
            "head": {"ref": "feature", "sha": origin.head_sha, "repo": {"full_name": head_repo}},
        },
        "repository": repo,
    }


def pr_checkout(origin: Origin, tmp: Path, fetch_depth: int) -> Path:
    return checkout(origin, tmp / "clone", ref=f"refs/remotes/pull/{PR}/merge",
                    sha=origin.merge_sha, fetch_depth=fetch_depth)  # fmt: skip


# --- GitLab: the merge request's notes and the example job's script -------------------------

GITLAB_PROJECT = "42"
GITLAB_BOT = "project_42_bot_0123abcd"


@dataclass
class FakeGitLab:
    notes: list[dict[str, Any]] = field(default_factory=list)
    requests: list[tuple[str, str, str | None]] = field(default_factory=list)
    url: str = ""
    _next_id: int = 500

    def add(self, username: str, body: str) -> int:
        self._next_id += 1
        user_id = 7 if username == GITLAB_BOT else 99
        self.notes.append({"id": self._next_id, "body": body,
                           "author": {"username": username, "id": user_id}})  # fmt: skip
        return self._next_id


def _gitlab_handler(api: FakeGitLab) -> type[BaseHTTPRequestHandler]:
    notes = f"/api/v4/projects/{GITLAB_PROJECT}/merge_requests/{PR}/notes"

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _send(self, status: int, payload: object) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _path(self) -> str:
            path = urlsplit(self.path).path
            token = self.headers.get("PRIVATE-TOKEN") or self.headers.get("JOB-TOKEN")
            api.requests.append((self.command, path, token))
            return path

        def do_GET(self) -> None:
            path = self._path()
            if path == "/api/v4/user":
                return self._send(200, {"id": 7, "username": GITLAB_BOT})
            if path == notes:
                return self._send(200, api.notes)
            self._send(404, {"message": "404 Not Found"})

        def do_POST(self) -> None:
            path = self._path()
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if path != notes:
                return self._send(404, {"message": "404 Not Found"})
            new_id = api.add(GITLAB_BOT, body["body"])
            self._send(201, next(n for n in api.notes if n["id"] == new_id))

        def do_PUT(self) -> None:
            path = self._path()
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            found = [n for n in api.notes if path == f"{notes}/{n['id']}"]
            if not found:
                return self._send(404, {"message": "404 Not Found"})
            found[0]["body"] = body["body"]
            self._send(200, found[0])

    return Handler


@contextmanager
def fake_gitlab() -> Iterator[FakeGitLab]:
    api = FakeGitLab()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _gitlab_handler(api))
    api.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def run_gitlab_job(workdir: Path, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """examples/gitlab-ci.yml's `script` as the runner's bash runs it, after a `before_script`
    whose install is replaced by this environment's costcalc on PATH."""
    job = yaml.safe_load((REPO / "examples" / "gitlab-ci.yml").read_text())["costcalc"]
    base_env = {
        k: v for k, v in os.environ.items()
        if not k.startswith(("GITHUB_", "GITLAB", "CI_", "RUNNER_", "COSTCALC_BOT", "COSTCALC_GITLAB"))
        and k != "CI"
    }  # fmt: skip
    base_env.update(GIT_ENV, CI="true", GITLAB_CI="true", **job["variables"])
    base_env["PATH"] = f"{Path(costcalc_bin()).parent}{os.pathsep}{base_env['PATH']}"
    base_env.update(env)
    script = "set -eo pipefail\n" + "\n".join(job["script"])
    return subprocess.run(["bash", "--noprofile", "--norc", "-c", script], cwd=workdir,
                          env=base_env, capture_output=True, text=True, timeout=120)  # fmt: skip
