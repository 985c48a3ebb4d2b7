"""The gate's outputs, all from one ``GateReport``: the pull-request comment of each config
(``comment_body``), the job summary (``gate_markdown``), the terminal table and GitHub's
``::error`` annotations.

Every string from a config or a user (workload names, paths, messages quoting them) goes
through ``md`` before it reaches Markdown: HTML and Markdown syntax written as text,
newlines and control characters flattened, ``@mentions`` broken with a zero-width space, so
a name can neither close the ``<details>``, add an image or a heading, nor ping a team.

(No ``from __future__ import annotations`` here: the module defines ``annotations``.)
"""

from typing import TYPE_CHECKING

from costcalc.money import signed_usd, usd
from costcalc.render.tables import COMMENT_LIMIT, cut_to_fit, markdown_table, md, plain, text_table

if TYPE_CHECKING:
    from costcalc.budget import WorkloadDiff
    from costcalc.gate.report import ConfigGate, GateIssue, GateReport

__all__ = ["COMMENT_LIMIT", "annotations", "comment_body", "gate_markdown", "gate_table", "md",
           "plain"]  # fmt: skip


def _icon(c: "ConfigGate") -> str:
    if c.failures:
        return "❌"
    if c.warnings:
        return "⚠️"
    return "🗑️" if c.status == "deleted" else "✅"


def _verdict(c: "ConfigGate") -> str:
    if c.status == "invalid":
        return "the config is invalid"
    parts = []
    if c.failures:
        parts.append(f"failed ({len(c.failures)})")
    else:
        parts.append("config removed" if c.status == "deleted" else "passed")
    if c.warnings:
        parts.append(f"{len(c.warnings)} warning{'s' if len(c.warnings) != 1 else ''}")
    return ", ".join(parts)


def _issue_line(issue: "GateIssue") -> str:
    icon = "❌" if issue.level == "error" else "⚠️"
    at = f" (line {issue.line})" if issue.line is not None else ""
    return f"- {icon} {md(issue.message)}{at}"


def _diff_cell(diff: object, past: object) -> str:
    from decimal import Decimal

    if diff is None:  # unknown: the base config could not be read
        return "-"
    assert isinstance(diff, Decimal)
    if diff == 0:
        return "$0.00"
    pct = f" ({'+' if diff > 0 else ''}{(diff / past * 100).quantize(Decimal('0.1'))}%)" if (
        isinstance(past, Decimal) and past
    ) else ""  # fmt: skip
    return signed_usd(diff) + pct


def _rows(report: "GateReport", c: "ConfigGate") -> list[list[str]]:
    flagged = {i.workload: i.level for i in [*c.failures, *c.warnings] if i.workload}
    failed = {i.workload for i in c.failures if i.workload}

    def check(w: "WorkloadDiff") -> str:
        if w.name in failed:
            return "❌"
        return "⚠️" if w.name in flagged else "✅"

    def changed(w: "WorkloadDiff") -> str:
        if w.status == "unchanged":
            return ""
        label = {"added": "added", "removed": "removed"}.get(w.status, "")
        shown = "; ".join(md(ch) for ch in w.changes if w.status == "changed")
        return "; ".join(p for p in (label, shown) if p)

    if report.base is None:
        return [
            [md(w.name), usd(w.monthly) if w.monthly is not None else "-", check(w)]
            for w in c.workloads
        ]
    return [
        [
            md(w.name),
            usd(w.past_monthly) if w.past_monthly is not None else "-",
            usd(w.monthly) if w.monthly is not None else "-",
            _diff_cell(w.diff if w.status != "checked" else None, w.past_monthly),
            check(w) if w.status != "removed" else "",
            changed(w),
        ]
        for w in c.workloads
    ]


def comment_body(report: "GateReport", config: "ConfigGate", limit: int = COMMENT_LIMIT) -> str:
    """One config's pull-request comment: its marker, a headline with the verdict and the cost
    change, every failure, warning and change, the table, then notes in ``<details>``; cut
    to ``limit`` characters (saying so) when longer."""
    c = config
    arrow = ""
    if c.diff_total_monthly:
        arrow = " 📈" if c.diff_total_monthly > 0 else " 📉"
    title = f"### {_icon(c)} costcalc {md(c.path)}: {_verdict(c)}"
    if c.status != "invalid":
        title += f" · {md(c.headline)}{arrow}"
    if c.status == "invalid":
        body = [
            "The config could not be read, so nothing was checked:",
            "",
            f"> {md(c.error or '')}",
        ]
        return "\n".join([c.marker, title, "", *body, ""]) + "\n"
    issues = [_issue_line(i) for i in [*c.failures, *c.warnings]]
    changes = [f"- 📝 {md(ch)}" for ch in c.changes]
    rows = _rows(report, c)
    if report.base is None:
        headers, right = ["Workload", "Monthly", "Check"], [1]
    else:
        headers, right = ["Workload", "Previous", "New", "Diff", "Check", "Changes"], [1, 2, 3]
    totals = []
    if c.total_monthly is not None and c.workloads:
        past = c.past_total_monthly
        totals = (
            [["**All workloads**", f"**{usd(c.total_monthly)}**", ""]]
            if report.base is None
            else [
                [
                    "**All workloads**",
                    f"**{usd(past)}**" if past is not None else "-",
                    f"**{usd(c.total_monthly)}**",
                    f"**{_diff_cell(c.diff_total_monthly, past)}**",
                    "",
                    "",
                ]
            ]
        )
    foot = [f"- {md(n)}" for n in c.notes]
    where = f"base {md(report.base)}" if report.base else "no base (checked alone)"
    dated = f"prices of {c.prices_as_of}; " if c.prices_as_of else ""
    foot.append(f"- {dated}{where}; head {md(c.path)}")

    def assemble(keep: int, cut: str) -> str:
        parts = [c.marker, title, ""]
        if issues or changes:
            parts += [*issues[:keep], *changes[:keep], ""]
        if rows:
            parts += [markdown_table(headers, rows[:keep] + totals, right).rstrip("\n"), ""]
        if cut:
            parts += [cut, ""]
        parts += ["<details><summary>Notes</summary>", "", *foot, "", "</details>"]
        return "\n".join(parts) + "\n"

    return cut_to_fit(assemble, max(len(issues), len(changes), len(rows)), limit)


def gate_markdown(report: "GateReport", limit: int = COMMENT_LIMIT) -> str:
    """The job summary: each config's comment, one after the other, within ``limit``."""
    if not report.configs:
        return "### costcalc: no config to check\n"
    share = limit // len(report.configs)
    return "\n".join(comment_body(report, c, share) for c in report.configs)


def gate_table(report: "GateReport") -> str:
    lines = []
    for c in report.configs:
        lines.append(f"costcalc gate {plain(c.path)}: {_verdict(c)}")
        if c.status == "invalid":
            continue  # the error is the command's one error line (and the annotation)
        lines.append(f"  {plain(c.headline)}")
        lines += [f"  {i.level}: {plain(i.message)}" for i in [*c.failures, *c.warnings]]
        lines += [f"  changed: {plain(ch)}" for ch in c.changes]
        money = [usd(w.monthly) if w.monthly is not None else "-" for w in c.workloads]
        if report.base is None:
            headers, right = ["workload", "monthly"], [1]
            rows = [[plain(w.name), m] for w, m in zip(c.workloads, money, strict=True)]
        else:
            headers, right = ["workload", "previous", "new", "diff"], [1, 2, 3]
            rows = [
                [plain(w.name), usd(w.past_monthly) if w.past_monthly is not None else "-", m,
                 signed_usd(w.diff) if w.status != "checked" else "-"]
                for w, m in zip(c.workloads, money, strict=True)
            ]  # fmt: skip
        if rows:
            table = text_table(headers, rows, right=right)
            lines += ["", *("  " + ln for ln in table.rstrip("\n").splitlines()), ""]
        lines += [f"  note: {plain(n)}" for n in c.notes]
    base = f"base {plain(report.base)}" if report.base else "no base"
    configs = f"{len(report.configs)} config(s)"
    if report.passed:
        lines.append(f"passed: {configs}, {base}")
    else:
        failed = sum(1 for c in report.configs if not c.passed)
        lines.append(f"FAILED: {failed} of {configs}, {base}")
    return "\n".join(lines) + "\n"


def _command_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _command_property(text: str) -> str:
    return _command_data(text).replace(":", "%3A").replace(",", "%2C")


def annotations(report: "GateReport") -> list[str]:
    """GitHub workflow commands, one per failure (``::error``) and warning (``::warning``),
    at the line of the workload or budget in its config."""
    out = []
    for c in report.configs:
        for issue in [*c.failures, *c.warnings]:
            props = [f"file={_command_property(c.path)}"]
            if issue.line is not None:
                props.append(f"line={issue.line}")
            props.append(f"title={_command_property('costcalc ' + issue.kind)}")
            out.append(f"::{issue.level} {','.join(props)}::{_command_data(issue.message)}")
    return out
