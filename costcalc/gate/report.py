"""``gate_configs``: each config's budgets, warning levels, policies and increase limits, and
what changed against the base, in one ``GateReport`` that every output is rendered from.

Without a base (a push, a schedule, a manual run) the configs are checked alone. A config
missing at the base is new (increase limits pass, with a note); one missing in the work tree
but present at the base is deleted (reported, passes); one that cannot be read or validated
is invalid (the report fails; the caller exits 2, after writing its outputs).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Literal
from urllib.parse import quote

from pydantic import BaseModel

from costcalc.budget import (
    NEW_NOTE,
    CheckReport,
    Failure,
    ProjectConfig,
    WorkloadDiff,
    check,
    diff_configs,
    headline,
    load_config,
    monthly_costs,
)
from costcalc.errors import CostcalcError, InputFileError, UsageError, path_argument
from costcalc.gate.configs import repo_path
from costcalc.gitread import (
    commit_exists,
    fork_point,
    read_config_text,
    renamed_files,
    repo_prefix,
)
from costcalc.money import MoneyOut, usd
from costcalc.units import Threshold, given_threshold
from costcalc.yamlfile import line_of, parse_yaml, read_text

if TYPE_CHECKING:
    from costcalc.prices import PriceTable

Status = Literal["checked", "new", "deleted", "changed", "unchanged", "invalid"]
NO_BASE_NOTE = "no base: increase limits not checked"


class GateIssue(BaseModel):
    """A failure (``level`` error) or a passed warning level of one config."""

    kind: str
    """total-budget, workload-budget, increase, increase-pct, increase-unchecked (the base
    config could not be read), batch-eligible, invalid-config."""
    workload: str | None
    message: str
    """Plain text, as the config and the user wrote it (renderers escape it)."""
    line: int | None
    """The line in the config of the workload or budget it is about (for annotations)."""
    level: Literal["error", "warning"]


class ConfigGate(BaseModel):
    path: str
    """As the repository names it (from its top, with ``/``; outside git, as given)."""
    status: Status
    """checked (no base), new, deleted, changed, unchanged, or invalid (``error`` says why)."""
    passed: bool
    failures: list[GateIssue]
    warnings: list[GateIssue]
    changes: list[str]
    """Every change a reviewer should see: per workload, then budgets and policies."""
    workloads: list[WorkloadDiff]
    """Each workload's row; without a base their status is ``checked`` (no past, no diff)."""
    total_monthly: MoneyOut | None
    """None when the config is invalid."""
    past_total_monthly: MoneyOut | None
    """The base's total (also of an invalid head config, when the base's can be priced)."""
    diff_total_monthly: MoneyOut | None
    headline: str
    notes: list[str]
    prices_as_of: dt.date | None
    changed: bool
    """Worth a new comment: a cost or config change, or a failure. A warning alone is not
    (a config that stays over its warning level would comment on every pull request); it
    still updates the config's existing comment."""
    marker: str
    error: str | None = None
    """Why the config is invalid (one line)."""
    base_error: str | None = None
    """Why the base's config could not be read (one line): then the past total and the change
    are unknown (None), never $0, and an increase limit fails as not checked."""


class GateReport(BaseModel):
    passed: bool
    configs: list[ConfigGate]
    base: str | None
    prices_as_of: dt.date | None
    """The first config's price date (each config has its own)."""
    total_monthly: MoneyOut | None
    """The configs' monthly totals added up; None when a config is invalid (unknown)."""
    past_total_monthly: MoneyOut | None
    diff_total_monthly: MoneyOut | None


def marker_for(path: str | os.PathLike[str]) -> str:
    """The hidden first line of a config's comment, one per config path."""
    shown = path_argument(path, "path", "marker_for")
    return f"<!-- costcalc-gate config={quote(shown, safe='/')} -->"


def gate_configs(
    configs: Sequence[str | os.PathLike[str]],
    base: str | None = None,
    *,
    fail_on_increase: Threshold | None = None,
    warn_on_increase: Threshold | None = None,
    table: PriceTable | None = None,
) -> GateReport:
    """Gate each config of ``configs`` (paths in the work tree) against the git ref ``base``
    (None: check only). ``fail_on_increase`` and ``warn_on_increase`` (``10%`` or ``500``)
    replace the config's ``max_increase(_pct)`` and ``warn_increase(_pct)`` of their kind."""
    from costcalc.prices import load_price_table

    if isinstance(configs, str):
        raise TypeError("gate_configs: configs must be a list of paths, got str")
    fail = given_threshold(fail_on_increase) or (None, None)
    warn = given_threshold(warn_on_increase, "warn_on_increase")
    if base is not None and not commit_exists(base):
        raise UsageError(f"base {base!r} is not a commit here ({_fetch_hint(base)})")
    # compared where this branch left the base, not at the base's tip: a change merged into
    # the base since would read as this one's (and an innocent change could fail for it)
    at = fork_point(base) if base is not None else None
    table = table or load_price_table()
    prefix = repo_prefix()
    gates = []
    local_paths = list(dict.fromkeys(_shown_path(p) for p in configs))
    shown = {local: repo_path(local, prefix) for local in local_paths}
    # a config renamed by the change is compared with its old self, not gated as new (and
    # the old name is not gated again as deleted); both named from the repository's top, so
    # the gate finds the rename from any folder
    renames = renamed_files(at) if at and prefix is not None else {}
    renamed = {new: old for new, old in renames.items() if new in shown.values()}
    # ... and one renamed out of the configs given (costcalc.yaml -> costcalc.yml) is gated
    # where it went, not passed as deleted (a decrease)
    moved = {old: new for new, old in renames.items() if new not in shown.values()}
    done: set[str] = set()
    for local in local_paths:
        if shown[local] in renamed.values() and not os.path.lexists(local):
            continue
        limits = (fail, warn or (None, None))
        base_path = renamed.get(shown[local])
        if shown[local] in moved and not os.path.lexists(local):
            base_path, local = shown[local], os.path.relpath(moved[shown[local]], prefix or ".")
            shown[local] = moved[base_path]
        if shown[local] in done:
            continue
        done.add(shown[local])
        gate = _gate_one(local, shown[local], base, *limits, table,
                         base_path=base_path, at=at)  # fmt: skip
        gates.append(gate)
    totals = [g.total_monthly for g in gates if g.total_monthly is not None]
    total = sum(totals, Decimal(0)) if len(totals) == len(gates) else None
    past = [g.past_total_monthly for g in gates if g.past_total_monthly is not None]
    unknown_base = any(g.base_error for g in gates)
    past_total = sum(past, Decimal(0)) if base is not None and not unknown_base else None
    diff = total - past_total if total is not None and past_total is not None else None
    return GateReport(
        passed=all(g.passed for g in gates),
        configs=gates,
        base=base,
        prices_as_of=next((g.prices_as_of for g in gates if g.prices_as_of), None),
        total_monthly=total,
        past_total_monthly=past_total,
        diff_total_monthly=diff,
    )


def _fetch_hint(base: str) -> str:
    """How to get the ref ``base`` that this clone lacks, in the terms of that ref."""
    if any(c in base for c in "^~:@{}\\ ") or base.startswith("refs/"):
        return "check its name, or fetch the commit it names first"
    if base.startswith("origin/"):
        branch = base.removeprefix("origin/")
        fetch = f"git fetch origin {branch}:refs/remotes/origin/{branch}"
    else:
        fetch = f"git fetch origin {base}:refs/heads/{base}"
    return f"check its name, or fetch it first: costcalc gate --fetch-base, or {fetch}"


def _shown_path(path: str | os.PathLike[str]) -> str:
    """The path as the comment, the marker and git name it: relative to here when inside."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"gate_configs: a config must be a path, got {type(path).__name__}")
    shown = os.path.normpath(os.fspath(path))
    if os.path.isabs(shown):
        relative = os.path.relpath(shown)
        shown = shown if relative.startswith("..") else relative
    return shown.replace(os.sep, "/")


def _gate_one(
    path: str,
    shown: str,
    base: str | None,
    fail: tuple[Decimal | None, Decimal | None],
    warn: tuple[Decimal | None, Decimal | None],
    table: PriceTable,
    *,
    base_path: str | None = None,
    at: str | None = None,
) -> ConfigGate:
    # its name at the base (read at ``at``, where this branch left it: ``fork_point``), from
    # the repository's top (another when the change renamed it)
    at = at or base
    at_base = f"{at}:{base_path or shown}" if at else None
    base_cfg, base_error, at_base_found = None, None, False
    try:
        if at_base is not None and read_config_text(at_base, allow_missing_ref=True):
            at_base_found = True
            base_cfg = load_config(at_base)
    except CostcalcError as exc:
        base_error = " ".join(str(exc).split())
    if base_cfg is not None:  # the command line's limits are no change of the config
        base_cfg = _with_limits(base_cfg, fail, warn)
    if not os.path.lexists(path) and at_base_found:
        return _deleted(shown, base_cfg, base_error, table).model_copy(
            update={"base_error": base_error}
        )
    try:
        text = read_text(path, "config file")
        head = _with_limits(load_config(path), fail, warn)
        gate = _gate_valid(path, text, head, base_cfg, base, table, base_error)
    except CostcalcError as exc:
        invalid = _invalid(shown, exc, _past_total(base_cfg, table))
        return invalid.model_copy(update={"base_error": base_error})
    if base_path is not None:
        gate.notes.insert(0, f"renamed from {base_path}")
        gate = gate.model_copy(update={"status": "changed", "changed": True})
    return gate.model_copy(update={"path": shown, "marker": marker_for(shown)})


def _with_limits(
    cfg: ProjectConfig,
    fail: tuple[Decimal | None, Decimal | None],
    warn: tuple[Decimal | None, Decimal | None],
) -> ProjectConfig:
    """The config with the command line's limits in place of its own of the same kind."""
    given = {
        "max_increase": fail[0], "max_increase_pct": fail[1],
        "warn_increase": warn[0], "warn_increase_pct": warn[1],
    }  # fmt: skip
    update = {k: v for k, v in given.items() if v is not None}
    return cfg.model_copy(update={"budgets": cfg.budgets.model_copy(update=update)})


def _gate_valid(
    path: str,
    text: str,
    head: ProjectConfig,
    base_cfg: ProjectConfig | None,
    base: str | None,
    table: PriceTable,
    base_error: str | None,
) -> ConfigGate:
    if base is None:
        status: Status = "checked"
        no_base = NO_BASE_NOTE
    elif base_cfg is None:
        status, no_base = "new", NEW_NOTE
    else:
        status, no_base = "unchanged", ""
    if base_error:  # the base config is broken (this change may fix it): its cost is unknown
        status, no_base = "changed", f"the base config could not be read ({base_error})"
    report = check(head, path, base_cfg, table, no_base_note=no_base)
    notes = list(report.notes)
    if status == "new" and NEW_NOTE not in notes:
        notes.append(NEW_NOTE)
    if base_error and no_base not in notes:
        notes.append(no_base)
    failures = _issues(report, report.failures, text)
    if base_error and (head.budgets.max_increase is not None or
                       head.budgets.max_increase_pct is not None):  # fmt: skip
        # fail closed: a base nobody can read must not let any increase through
        keys = [k for k in ("max_increase", "max_increase_pct") if k in _budget_keys(text)]
        failures.append(GateIssue(
            kind="increase-unchecked", workload=None, level="error",
            line=line_of(text, ("budgets", keys[0])) if keys else None,
            message=f"increase limits could not be checked: the base config could not be "
                    f"read ({base_error})"))  # fmt: skip
        notes.remove(no_base)  # the failure says it
    if base is None or base_error:
        rows = [
            WorkloadDiff(name=w.name, status="checked", past_monthly=None,
                         monthly=w.monthly_cost, diff=Decimal(0), changes=[])
            for w in report.workloads
        ]  # fmt: skip
        changes: list[str] = []
        title = f"monthly LLM cost {usd(report.total_monthly)}"
        if base_error:
            title += " (the change is unknown: the base config could not be read)"
        past = diff_total = None
    else:
        d = diff_configs(base_cfg, head, f"{base}:{path}", path, table)
        rows, title = d.workloads, d.headline
        changes = [f"{w.name}: {c}" for w in d.workloads for c in w.changes]
        changes += d.config_changes
        notes += [n for n in d.notes if n not in notes and n != NEW_NOTE]
        past, diff_total = d.past_total_monthly, d.diff_total_monthly
        if status == "unchanged" and (changes or diff_total):
            status = "changed"
        if status == "new":
            title = f"new config: monthly LLM cost {usd(report.total_monthly)}"
    warnings = _issues(report, report.warnings, text)
    return ConfigGate(
        path=path,
        status=status,
        passed=not failures,
        failures=failures,
        warnings=warnings,
        changes=changes,
        workloads=rows,
        total_monthly=report.total_monthly,
        past_total_monthly=past,
        diff_total_monthly=diff_total,
        headline=title,
        notes=notes,
        prices_as_of=report.prices_as_of,
        changed=status in ("new", "changed") or bool(failures),
        marker=marker_for(path),
        base_error=base_error,
    )


def _budget_keys(text: str) -> set[str]:
    """The keys under ``budgets:`` the config's own text sets (a limit may come from a flag)."""
    data = parse_yaml(text, "config")
    budgets = data.get("budgets") if isinstance(data, dict) else None
    return set(budgets) if isinstance(budgets, dict) else set()


def _issues(report: CheckReport, found: list[Failure], text: str) -> list[GateIssue]:
    index = {w.name: i for i, w in enumerate(report.workloads)}
    out = []
    for f in found:
        if f.workload is not None and f.workload in index:
            where: tuple[int | str, ...] = ("workloads", index[f.workload])
        else:
            key = {"total-budget": "monthly", "increase": "max_increase",
                   "increase-pct": "max_increase_pct"}.get(f.kind, "")  # fmt: skip
            if f.level == "warning":
                key = {"monthly": "warn_monthly", "max_increase": "warn_increase",
                       "max_increase_pct": "warn_increase_pct"}.get(key, key)  # fmt: skip
            where = ("budgets", key)
        out.append(GateIssue(kind=f.kind, workload=f.workload, message=f.message,
                             line=line_of(text, where), level=f.level))  # fmt: skip
    return out


def _past_total(old: ProjectConfig | None, table: PriceTable) -> Decimal | None:
    try:
        return monthly_costs(old, table, "the base config").total_monthly if old else None
    except CostcalcError:
        return None


def _deleted(
    path: str, old: ProjectConfig | None, base_error: str | None, table: PriceTable
) -> ConfigGate:
    past: Decimal | None = None
    notes = [f"the base config could not be read ({base_error})"] if base_error else []
    try:
        if old is not None:
            past = monthly_costs(old, table, "the base config").total_monthly
    except CostcalcError as exc:
        notes.append(f"the base config could not be priced ({exc})")
    was = f" (it cost {usd(past)} a month)" if past is not None else ""
    return ConfigGate(
        path=path, status="deleted", passed=True, failures=[], warnings=[],
        changes=[f"config removed{was}"], workloads=[], total_monthly=Decimal(0),
        past_total_monthly=past, diff_total_monthly=-past if past is not None else None,
        headline=headline(-(past or Decimal(0)), past or Decimal(0)), notes=notes,
        prices_as_of=None, changed=True, marker=marker_for(path),
    )  # fmt: skip


def _invalid(path: str, exc: CostcalcError, past: Decimal | None) -> ConfigGate:
    message = " ".join(str(exc).split())
    line = exc.line if isinstance(exc, InputFileError) else None
    issue = GateIssue(kind="invalid-config", workload=None, message=message, line=line,
                      level="error")  # fmt: skip
    return ConfigGate(
        path=path, status="invalid", passed=False, failures=[issue], warnings=[], changes=[],
        workloads=[], total_monthly=None, past_total_monthly=past, diff_total_monthly=None,
        headline="the config is invalid", notes=[], prices_as_of=None, changed=True,
        marker=marker_for(path), error=message,
    )  # fmt: skip
