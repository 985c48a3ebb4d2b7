"""Which configs a gate run covers: the files and globs given, matched in the work tree and,
with a base, in the base's tree too, so a config the change deletes is still gated (reported
as removed, its cost in the past total)."""

from __future__ import annotations

import fnmatch
import glob
import os
import posixpath
from collections.abc import Sequence

from costcalc.errors import UsageError, path_arguments
from costcalc.gitread import commit_exists, fetch_base, fork_point, tree_files

GLOB_CHARS = frozenset("*?[")


def find_configs(
    patterns: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    base: str | None = None,
    *,
    fetch_base_ref: bool = False,
) -> list[str]:
    """Each of ``patterns`` (one path or glob, or a list of them), or the files its glob
    matches (``**`` spans folders), in the work tree and, when ``base`` is a git ref, at
    ``base`` (where HEAD's history left it: ``gitread.fork_point``): sorted, each once. A
    glob that matches nothing in either is bad input (a deleted config may be named, not
    globbed).

    ``fetch_base_ref``: first fetch ``base`` (``origin/BRANCH``) when this clone lacks it, as
    a CI checkout often does (``merge_group``, a shallow ``pull_request`` checkout)."""
    names = path_arguments(patterns, "patterns", "find_configs")
    if base is not None and fetch_base_ref:
        failed = fetch_base(base)
        if failed and not commit_exists(base):
            raise UsageError(f"base {base!r} is not a commit here and fetching it failed: {failed}")
    out: list[str] = []
    at: str | None = None
    for arg in names:
        if GLOB_CHARS.isdisjoint(arg) or os.path.exists(arg):
            out.append(os.path.normpath(arg).replace(os.sep, "/"))  # ./a.yaml is a.yaml
            continue
        found = {os.path.normpath(p) for p in glob.glob(arg, recursive=True) if os.path.isfile(p)}
        if base is not None and not os.path.isabs(arg):
            at = at or fork_point(base)  # the gate compares there (a config main added since
            found |= set(_at_base(arg, at))  # is not this change's to delete)
        if not found:
            raise UsageError(f"no config matches {arg!r}")
        out += sorted(p.replace(os.sep, "/") for p in found)
    return list(dict.fromkeys(out))


def _at_base(pattern: str, base: str) -> list[str]:
    """The files at ``base`` that ``pattern`` matches, by glob's rules: ``*`` stays within one
    folder and skips hidden names unless the pattern's part starts with a dot."""
    parts = posixpath.normpath(pattern.replace(os.sep, "/")).split("/")
    fixed = 0
    while fixed < len(parts) - 1 and GLOB_CHARS.isdisjoint(parts[fixed]):
        fixed += 1
    folder = "/".join(parts[:fixed]) or "."
    return [
        os.path.normpath(name)
        for name in tree_files(base, folder)
        if _match(posixpath.normpath(name).split("/"), parts)
    ]


def _match(names: list[str], parts: list[str]) -> bool:
    if not parts:
        return not names
    head, rest = parts[0], parts[1:]
    if head == "**":  # zero or more folders (not hidden ones), as glob(recursive=True)
        return _match(names, rest) or (
            bool(names) and not names[0].startswith(".") and _match(names[1:], parts)
        )
    if not names:
        return False
    name = names[0]
    if name.startswith(".") and not head.startswith(".") and not GLOB_CHARS.isdisjoint(head):
        return False
    return fnmatch.fnmatchcase(name, head) and _match(names[1:], rest)


def repo_path(path: str, prefix: str | None) -> str:
    """``path`` (relative to here) as the repository names it, with ``/``, given ``prefix``
    (``gitread.repo_prefix``): the same config gets the same marker and annotation from any
    folder. Outside git (``prefix`` None), ``path`` as given."""
    if not prefix or os.path.isabs(path):
        return path.replace(os.sep, "/")
    joined = posixpath.normpath(prefix + path.replace(os.sep, "/"))
    return path.replace(os.sep, "/") if joined.startswith("../") or joined == ".." else joined
