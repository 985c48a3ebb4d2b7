"""`costcalc gate`: the pull-request gate (check + diff of each config, comment, summary,
annotations and step outputs, from one result)."""

from __future__ import annotations

import collections
import hashlib
import importlib
import os
import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import click

import costcalc
from costcalc.cli import (
    CheckFailed,
    PathType,
    emit,
    format_option,
    out_is_no_input,
    prices_option,
    read_price_files,
)
from costcalc.errors import CostcalcError, EnvironmentFailure, InputFileError, UsageError

CENT = Decimal("0.01")


@click.command()
@click.argument("configs", nargs=-1, type=PathType(), metavar="[CONFIG ...]")
@click.option(
    "--base",
    metavar="REF",
    help="Git ref to compare with (default: the pull "
    "request's base in CI; none elsewhere: budgets and policies checked alone).",
)
@click.option(
    "--fetch-base/--no-fetch-base",
    default=None,
    help="Fetch the base (origin/BRANCH) when the clone lacks it, never with --depth "
    "(default: on in CI).",
)
@click.option(
    "--fail-on-increase",
    metavar="10%|500",
    help="Fail when a config's monthly total rises by more than this (replaces "
    "budgets.max_increase or max_increase_pct).",
)
@click.option(
    "--warn-on-increase",
    metavar="5%|200",
    help="Warn, without failing, when a monthly total rises by more than this.",
)
@click.option(
    "--comment",
    type=click.Choice(["auto", "github", "gitlab", "none"]),
    default="auto",
    show_default=True,
    help="Post one sticky comment per config (auto: on a PR/MR in CI).",
)
@click.option(
    "--comment-on",
    type=click.Choice(["change", "always", "never"]),
    default="change",
    show_default=True,
    help="change: create a comment only when the cost or config changed or a check "
    "failed (a warning alone only updates an existing one); always: create it anyway; "
    "never: read and write no comment at all.",
)
@click.option(
    "--summary",
    metavar="FILE",
    help="Append the Markdown to FILE (default: $GITHUB_STEP_SUMMARY when set).",
)
@click.option(
    "--annotations/--no-annotations",
    default=None,
    help="Write ::error/::warning lines on stdout (default: in GitHub Actions).",
)
@click.option(
    "--out-dir",
    metavar="DIR",
    help="Write gate.json and one <config>.md comment per config into DIR.",
)
@format_option("table", "json", "markdown")
@prices_option
def gate(
    configs: tuple[str, ...],
    base: str | None,
    fetch_base: bool | None,
    fail_on_increase: str | None,
    warn_on_increase: str | None,
    comment: str,
    comment_on: str,
    summary: str | None,
    annotations: bool | None,
    out_dir: str | None,
    fmt: str,
    price_files: tuple[str, ...],
) -> None:
    """Gate a pull request on its LLM costs: check each CONFIG (default costcalc.yaml; globs
    such as 'services/*/costcalc.yaml' are expanded) and compare it with --base.

    Exit 0 when every budget, policy and increase limit holds (warnings do not fail), 1 when
    one fails, 2 when a config is invalid (the outputs and comment still say so), 3 when
    posting a comment failed (a fork's read-only token is a warning, not a failure).
    When $GITHUB_OUTPUT is set, appends passed, total-monthly, past-total-monthly,
    diff-total-monthly (USD rounded to cents, as the comment shows them; empty when
    unknown), result-file and comment-file to it.

    \b
    Examples:
        costcalc gate --base origin/main
        costcalc gate 'services/*/costcalc.yaml' --base origin/main --warn-on-increase 5%
        costcalc gate --comment none --format markdown
    """
    env = os.environ
    output_file = env.get("GITHUB_OUTPUT") or None
    summary_name = "--summary" if summary else "$GITHUB_STEP_SUMMARY"
    summary = summary or env.get("GITHUB_STEP_SUMMARY") or None
    if output_file:
        _check_appendable(output_file)
    try:
        if summary:  # refused before anything is printed, as --out is
            _check_appendable(summary)
        in_ci = bool(env.get("GITHUB_ACTIONS") or env.get("GITLAB_CI"))
        ctx = _ci_context() if in_ci and (base is None or comment != "none") else None
        if base is None and ctx is not None:
            base = getattr(ctx, "base_ref", None) or None
        fetch = in_ci if fetch_base is None else fetch_base
        paths = costcalc.find_configs(configs or ("costcalc.yaml",), base, fetch_base_ref=fetch)
        # no report is written over (or appended to) a file it reads (--out-dir's files, named
        # after the configs as the gate names them, are checked before they are written)
        prices_read = read_price_files(price_files)
        out_is_no_input(output_file, [*paths, *prices_read], "$GITHUB_OUTPUT")
        out_is_no_input(summary, [*paths, *prices_read], summary_name)
        table = costcalc.load_price_table(price_files)
        report = costcalc.gate_configs(
            paths,
            base,
            fail_on_increase=fail_on_increase,
            warn_on_increase=warn_on_increase,
            table=table,
        )
    except (CostcalcError, EnvironmentFailure):  # git missing too: the job reads false
        if output_file:
            _append(output_file, {"passed": "false"})
        raise
    bodies = [costcalc.gate_comment_body(report, c) for c in report.configs]
    files = _write_out_dir(out_dir, report, bodies, prices_read) if out_dir else {}
    in_actions = env.get("GITHUB_ACTIONS") == "true"
    if annotations if annotations is not None else in_actions:
        emit("".join(line + "\n" for line in costcalc.gate_annotations(report)))
    with _commands_stopped(in_actions):
        _report(report, fmt, summary, output_file, files, comment, comment_on, ctx, bodies)
    invalid = [c for c in report.configs if c.status == "invalid"]
    if invalid:
        names = ", ".join(c.path for c in invalid[1:])
        more = f" (and {len(invalid) - 1} more invalid: {names})" if len(invalid) > 1 else ""
        raise UsageError(f"{invalid[0].error}{more}")
    if not report.passed:
        raise CheckFailed()


@contextmanager
def _commands_stopped(in_actions: bool) -> Iterator[None]:
    """In GitHub Actions, the runner reads no workflow command in what is printed inside:
    a workload named ``::error::x`` stays text (GitHub's ``::stop-commands::`` with a token
    nobody can guess, then the token to resume). The annotations are printed before."""
    if not in_actions:
        yield
        return
    token = f"costcalc-{secrets.token_hex(16)}"
    emit(f"::stop-commands::{token}\n")
    try:
        yield
    finally:
        emit(f"::{token}::\n")


def _report(
    report: Any,
    fmt: str,
    summary: str | None,
    output_file: str | None,
    files: dict[str, str],
    comment: str,
    comment_on: str,
    ctx: Any,
    bodies: list[str],
) -> None:
    emit(costcalc.render_result(report, fmt))
    if summary:
        _append_text(summary, costcalc.render_result(report, "markdown"))
    if output_file:
        _append(
            output_file,
            {
                "passed": "true" if report.passed else "false",
                "total-monthly": _cents(report.total_monthly),
                "past-total-monthly": _cents(report.past_total_monthly),
                "diff-total-monthly": _cents(report.diff_total_monthly),
                "result-file": files.get("result", ""),
                "comment-file": files.get("comment", ""),
            },
        )
    if comment != "none":
        _publish(ctx, comment, comment_on, report, bodies)


def _ci_context() -> Any:
    ci = importlib.import_module("costcalc.gate.ci")
    return ci.detect_ci(os.environ)


def _publish(ctx: Any, comment: str, comment_on: str, report: Any, bodies: list[str]) -> None:
    ctx = ctx if ctx is not None else _ci_context()
    platform = getattr(ctx, "platform", None)
    if comment == "auto" and (platform is None or getattr(ctx, "pull_request", None) is None):
        return  # not a pull or merge request: nothing to comment on
    if comment != "auto" and platform != comment:
        raise UsageError(f"--comment {comment}: not running in {comment} CI")
    if getattr(ctx, "pull_request", None) is None:
        raise UsageError(f"--comment {comment}: this run is not for a pull or merge request")
    comments = importlib.import_module("costcalc.gate.comments")
    for config, body in zip(report.configs, bodies, strict=True):
        outcome = comments.publish_comment(
            ctx, config.marker, body, changed=config.changed, comment_on=comment_on
        )
        if getattr(outcome, "action", None) == "skipped":
            click.echo(
                f"costcalc: warning: comment on {config.path} not posted: "
                f"{getattr(outcome, 'reason', None) or 'not allowed'}",
                err=True,
            )


def _cents(value: Decimal | None) -> str:
    """Money as the comment shows it: rounded half up to cents; empty when unknown."""
    return "" if value is None else str(value.quantize(CENT, ROUND_HALF_UP))


def _file_names(paths: list[str]) -> list[str]:
    """Each config's comment file name in --out-dir: its path with ``__`` for ``/``; where two
    paths give one name (``svc/new/costcalc.yaml``, ``svc__new__costcalc.yaml``; ``A`` and
    ``a`` on a file system that ignores case), each gets a hash of its path after it."""
    names = [p.replace("/", "__").replace(os.sep, "__").lstrip(".") or "config" for p in paths]
    seen = collections.Counter(n.casefold() for n in names)
    return [
        f"{n}-{hashlib.sha256(p.encode('utf-8', 'surrogateescape')).hexdigest()[:12]}"
        if seen[n.casefold()] > 1
        else n
        for n, p in zip(names, paths, strict=True)
    ]


def _write_out_dir(
    out_dir: str, report: Any, bodies: list[str], prices_read: list[str]
) -> dict[str, str]:
    from costcalc.atomic import write_file
    from costcalc.errors import os_failure

    folder = Path(out_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a full or read-only disk: 3; a path under a file: bad input, 2
        raise os_failure(out_dir, exc, "cannot create the folder") from None
    configs = [config.path for config in report.configs]
    files = _out_dir_files(out_dir, configs)
    for target in files:  # before any is written: none replaces a file the gate read
        out_is_no_input(str(target), [*configs, *prices_read], "--out-dir")
    result, *targets = files
    write_file(str(result), costcalc.render_result(report, "json"), True)
    written = {"result": str(result.resolve())}
    for target, body in zip(targets, bodies, strict=True):
        write_file(str(target), body, True)
        written.setdefault("comment", str(target.resolve()))
    return written


def _out_dir_files(out_dir: str, configs: list[str]) -> list[Path]:
    """What ``--out-dir`` holds after the gate: gate.json, then each config's comment."""
    folder = Path(out_dir)
    return [folder / "gate.json", *(folder / f"{name}.md" for name in _file_names(configs))]


def _check_appendable(path: str) -> None:
    """Refuse a file the runner gives ($GITHUB_OUTPUT, $GITHUB_STEP_SUMMARY, --summary) that
    would block or cannot be appended to."""
    from costcalc.atomic import not_regular

    kind = not_regular(Path(path))
    if kind in ("a FIFO", "a socket", "a directory"):
        raise InputFileError(path, f"is {kind}, expected a file to append to")


def _append_text(path: str, text: str) -> None:
    """Append to a file the runner gives ($GITHUB_OUTPUT, $GITHUB_STEP_SUMMARY)."""
    from costcalc.errors import os_failure

    _check_appendable(path)  # again: something may have appeared meanwhile
    try:
        with open(path, "a", encoding="utf-8") as f:
            f.write(text)
    except OSError as exc:
        raise os_failure(path, exc, "cannot append to it") from None


def _append(path: str, values: dict[str, str]) -> None:
    """``key=value`` lines; a value with a newline in the runner's heredoc form."""
    lines = []
    for key, value in values.items():
        if "\n" in value or "\r" in value:
            end = f"ghadelimiter_{uuid.uuid4()}"
            lines.append(f"{key}<<{end}\n{value}\n{end}\n")
        else:
            lines.append(f"{key}={value}\n")
    _append_text(path, "".join(lines))
