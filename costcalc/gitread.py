"""Reading a config from a file or from git: ``REF:PATH`` through ``git show``.

The operand comes from the user and is never read as one of git's options; a ref that git
cannot resolve, a path that is a folder, and text that is not UTF-8 are each one line.
"""

from __future__ import annotations

import functools
import os
import re
import subprocess

from costcalc.errors import EnvironmentFailure, InputFileError, UsageError


def read_config_text(spec: str, allow_missing_ref: bool = False) -> tuple[str, str] | None:
    """(text, where) of a config: a file path, or ``REF:PATH`` read with ``git show``.

    With ``allow_missing_ref`` a path that does not exist at REF gives None (a config added
    by this change: the base is empty).
    """
    if os.path.exists(spec) or ":" not in spec:
        from costcalc.yamlfile import read_text

        return read_text(spec, "config file"), spec
    ref, _, path = spec.partition(":")
    if not ref or not path:
        raise UsageError(
            f"{spec!r}: expected a config file or REF:PATH such as origin/main:costcalc.yaml"
        )
    if ref.startswith("-"):  # git would read it as one of its options
        raise UsageError(f"{spec!r}: a git ref cannot begin with '-'")
    kind = _git(["cat-file", "-t"], spec)
    if (
        kind.returncode != 0
        and allow_missing_ref
        and _git(["cat-file", "-e"], f"{ref}^{{commit}}").returncode == 0
    ):
        return None  # REF exists without the file: the config is new
    if kind.returncode == 0 and kind.stdout.strip() == b"tree":
        raise InputFileError(spec, "is a folder, expected a config file")
    shown = _git(["show"], spec)
    if shown.returncode != 0:
        lines = shown.stderr.decode("utf-8", "replace").strip().splitlines()
        # git's cause is its "fatal:" line; "hint:" lines after it only suggest
        causes = [ln for ln in lines if not ln.startswith("hint:")]
        reason = causes[0] if causes else (lines[0] if lines else "git show failed")
        raise UsageError(f"cannot read {spec}: {reason.removeprefix('fatal: ')}")
    try:
        return shown.stdout.decode("utf-8"), spec
    except UnicodeDecodeError:
        raise InputFileError(spec, "is not valid UTF-8 text") from None


def _git(command: list[str], operand: str) -> subprocess.CompletedProcess[bytes]:
    """``git COMMAND [--end-of-options] OPERAND``: the operand, which comes from the user, is
    never read as an option (git before 2.24 has no ``--end-of-options``; there an operand
    that begins with "-" was refused before)."""
    if operand.startswith("-"):  # pragma: no cover - read_config_text refuses these first
        raise UsageError(f"{operand!r}: a git ref cannot begin with '-'")
    try:
        return subprocess.run(
            ["git", *command, *_end_of_options(), operand], capture_output=True, check=False
        )
    except FileNotFoundError:  # the machine lacks a tool, the input is fine: exit 3
        needed = operand.removesuffix("^{commit}")  # as the user wrote it
        raise EnvironmentFailure("git", f"not installed (needed to read {needed})") from None


@functools.cache
def _end_of_options() -> tuple[str, ...]:
    """``("--end-of-options",)`` when this git knows it (2.24 and later), else nothing."""
    try:
        found = subprocess.run(["git", "--version"], capture_output=True, check=False)
    except OSError:
        return ()
    version = re.search(rb"(\d+)\.(\d+)", found.stdout)
    if version is None:
        return ()
    return ("--end-of-options",) if (int(version[1]), int(version[2])) >= (2, 24) else ()


def commit_exists(ref: str) -> bool:
    """Whether ``ref`` names a commit here (a base that is not fetched does not)."""
    if not ref or ref.startswith("-"):
        raise UsageError(f"{ref!r}: expected a git ref such as origin/main")
    return _git(["cat-file", "-e"], f"{ref}^{{commit}}").returncode == 0


def _git_run(args: list[str], timeout: float = 60) -> subprocess.CompletedProcess[bytes] | None:
    """``git ARGS`` (no operand from the user in ARGS' options); None when git is missing."""
    try:
        return subprocess.run(["git", *args], capture_output=True, check=False, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired):
        return None


def repo_prefix() -> str | None:
    """Where the working directory is inside its repository (``services/search/``, ``""`` at
    the top), or None outside a git work tree."""
    found = _git_run(["rev-parse", "--show-prefix"])
    if found is None or found.returncode != 0:
        return None
    return found.stdout.decode("utf-8", "surrogateescape").strip()


def tree_files(ref: str, folder: str = ".") -> list[str]:
    """Every file at commit ``ref`` under ``folder``, named relative to the working directory
    as the work tree names them (``../c/costcalc.yaml`` from a sibling folder)."""
    if ref.startswith("-") or folder.startswith("-"):
        raise UsageError(f"{ref!r}: a git ref cannot begin with '-'")
    found = _git_run(["ls-tree", "-r", "-z", "--name-only", f"{ref}^{{commit}}", "--", folder])
    if found is None or found.returncode != 0:
        return []
    names = found.stdout.decode("utf-8", "surrogateescape").split("\0")
    return [n for n in names if n]


def renamed_files(ref: str) -> dict[str, str]:
    """Files the work tree has under another name than at commit ``ref``, as git's rename
    detection pairs them: new path -> old path, both from the repository's top (a config
    moved into the folder the gate runs in came from outside it, which ``--relative`` hides)."""
    if ref.startswith("-"):
        raise UsageError(f"{ref!r}: a git ref cannot begin with '-'")
    # diff.relative=false, not --no-relative (git 2.28): a user's config cannot make it relative
    found = _git_run(["-c", "diff.relative=false", "diff", "-M", "--name-status", "-z",
                      f"{ref}^{{commit}}"])  # fmt: skip
    if found is None or found.returncode != 0:
        return {}
    fields = found.stdout.decode("utf-8", "surrogateescape").split("\0")
    pairs: dict[str, str] = {}
    i = 0
    while i < len(fields) and fields[i]:
        status = fields[i]
        if status.startswith(("R", "C")):  # a status, then the old and the new path
            if status.startswith("R") and i + 2 < len(fields):
                pairs[fields[i + 2]] = fields[i + 1]
            i += 3
        else:
            i += 2
    return pairs


def fork_point(ref: str) -> str:
    """Where HEAD's history left ``ref``'s (``git merge-base REF HEAD``): the commit a change
    is to be compared with, so that what ``ref`` gained since (another pull request merged
    into main) is not taken for this change's. On GitHub's default pull-request checkout (a
    merge of the change into the base's tip) it is that tip. ``ref`` itself, with a warning,
    when git finds no common commit (a shallow clone without the history between)."""
    if ref.startswith("-"):
        raise UsageError(f"{ref!r}: a git ref cannot begin with '-'")
    # asked for twice a gate run (its configs found, then gated): worked out, and warned of,
    # once per repository, HEAD and ref, each as the commit it is now
    here = _git_run(["rev-parse", "--show-toplevel", "HEAD", f"{ref}^{{commit}}"])
    if here is None or here.returncode != 0:
        return _fork_point(ref)
    key = (here.stdout, ref)
    if key not in _FORKS:
        _FORKS[key] = _fork_point(ref)
    return _FORKS[key]


_FORKS: dict[tuple[bytes, str], str] = {}
"""``fork_point``'s answers by (repository, HEAD and the ref's commit; the ref's name)."""


def _fork_point(ref: str) -> str:
    found = _git_run(["merge-base", f"{ref}^{{commit}}", "HEAD"])
    if found is not None and found.returncode == 0 and (sha := found.stdout.decode().strip()):
        tip = _git_run(["rev-parse", f"{ref}^{{commit}}"])
        same = tip is not None and tip.returncode == 0 and tip.stdout.decode().strip() == sha
        return ref if same else sha  # the ref's name where it is the same commit (in messages)
    import warnings

    from costcalc.errors import CostcalcWarning

    warnings.warn(
        f"no common commit of {ref} and HEAD here (a shallow clone?): compared with {ref} "
        "itself, so what it gained since this branch began shows as this change's (fetch "
        "more history, e.g. git fetch --unshallow)",
        CostcalcWarning,
        stacklevel=3,
    )
    return ref


FETCH_TIMEOUT_S = 600


def fetch_base(ref: str) -> str | None:
    """Fetch the branch ``origin/BRANCH`` (or ``BRANCH``) that ``ref`` names when this clone
    lacks it; never
    with ``--depth``, which would cut the history of a full clone and of the commits the base
    shares with HEAD. Returns git's reason when the fetch failed, else None (nothing to do
    for a ref that is here, or that is not a branch of origin)."""
    if commit_exists(ref) or any(c in ref for c in "^~:@{}\\ ") or ref.startswith("refs/"):
        return None
    if ref.startswith("origin/"):
        branch = ref.removeprefix("origin/")
        spec = f"+refs/heads/{branch}:refs/remotes/origin/{branch}"
    else:  # a bare branch name (base: main): made a local branch, as it is named
        branch = ref
        spec = f"refs/heads/{branch}:refs/heads/{branch}"
    if not branch or branch.startswith("-"):
        return None
    done = _git_run(["fetch", "--quiet", "--no-tags", "origin", spec], FETCH_TIMEOUT_S)
    if done is None:
        return "git fetch could not run (git missing or timed out)"
    if done.returncode != 0:
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        causes = [ln for ln in lines if not ln.startswith("hint:")]
        return (causes[0] if causes else "git fetch failed").removeprefix("fatal: ")
    return None
