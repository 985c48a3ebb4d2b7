"""Budgets in CI: `costcalc check` and `costcalc diff`, as a table and as Markdown.

Every string from a config or a user (workload names, models, paths, messages and changes
quoting them) is escaped as the gate escapes it: ``plain`` in the table (no line a CI runner
reads as a workflow command), ``md`` in Markdown (no HTML, image, heading or @mention)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING

from costcalc.money import signed_usd, usd
from costcalc.render.tables import (
    COMMENT_LIMIT,
    capitalized,
    cut_to_fit,
    markdown_table,
    md,
    plain,
    text_table,
)

if TYPE_CHECKING:  # each command imports only what it renders (start-up time)
    from costcalc.budget import CheckReport, DiffReport, WorkloadCost


def _diff_text(diff: Decimal, past: Decimal | None) -> str:
    if diff == 0:
        return "$0.00"
    pct = (
        f" ({'+' if diff > 0 else ''}{(diff / past * 100).quantize(Decimal('0.1'))}%)"
        if past
        else ""
    )
    return signed_usd(diff) + pct


def check_rows(
    r: CheckReport, text: Callable[[object], str] = plain
) -> tuple[list[str], list[list[str]]]:
    """The check's table; ``text`` escapes the user's strings for the format."""
    headers = ["workload", "model", "mode", "requests/month", "monthly", "budget", "through batch"]

    def star(w: WorkloadCost, mode: str) -> str:
        return "*" if mode in w.assumed_modes else ""

    rows = [
        [
            text(w.name),
            text(w.model),
            w.mode,
            f"{w.monthly_requests:,.0f}",
            usd(w.monthly_cost) + star(w, w.mode),
            usd(w.budget) if w.budget is not None else "-",
            usd(w.batch_monthly_cost) + star(w, "batch")
            if w.batch_monthly_cost is not None
            else "-",
        ]
        for w in r.workloads
    ]
    return headers, rows


ASSUMED_NOTE = "* includes prices assumed from the provider's rule"


def _assumed_note(r: CheckReport) -> list[str]:
    return [ASSUMED_NOTE] if any(w.assumed_modes for w in r.workloads) else []


def _check_summary(r: CheckReport) -> str:
    budget = f" (budget {usd(r.budget_monthly)})" if r.budget_monthly is not None else ""
    base = f"; base {usd(r.past_total_monthly)}" if r.past_total_monthly is not None else ""
    return f"monthly total {usd(r.total_monthly)}{budget}{base}, prices of {r.prices_as_of}"


def check_table(r: CheckReport) -> str:
    headers, rows = check_rows(r)
    verdict = "passed" if r.passed else f"FAILED ({len(r.failures)})"
    lines = [f"costcalc check {plain(r.config)}: {verdict}", _check_summary(r), ""]
    lines.append(text_table(headers, rows, right=[3, 4, 5, 6]).rstrip("\n"))
    lines += _assumed_note(r)
    if r.failures:
        lines += ["", "failures:", *(f"  - {plain(f.message)}" for f in r.failures)]
    if r.warnings:
        lines += ["", "warnings:", *(f"  - {plain(f.message)}" for f in r.warnings)]
    lines += [f"note: {plain(n)}" for n in r.notes]
    return "\n".join(lines) + "\n"


def check_markdown(r: CheckReport, limit: int = COMMENT_LIMIT) -> str:
    """The check as Markdown, cut to ``limit`` characters (GitHub's comment limit) as the
    gate's comment is, saying so, when longer."""
    headers, rows = check_rows(r, md)
    icon = "✅ passed" if r.passed else f"❌ failed ({len(r.failures)})"
    failures = [f"- ❌ {md(f.message)}" for f in r.failures]
    warnings = [f"- ⚠️ {md(f.message)}" for f in r.warnings]

    def assemble(keep: int, cut: str) -> str:
        parts = [
            f"### costcalc check: {icon}",
            "",
            capitalized(_check_summary(r)) + ".",
            "",
            markdown_table(headers, rows[:keep], right=[3, 4, 5, 6]).rstrip("\n"),
            *(line for note in _assumed_note(r) for line in ("", "\\" + note)),
        ]
        if failures:
            parts += ["", *failures[:keep]]
        if warnings:
            parts += ["", *warnings[:keep]]
        if cut:
            parts += ["", cut]
        parts += [f"\n_{md(n)}_" for n in r.notes]
        return "\n".join(parts) + "\n"

    return cut_to_fit(assemble, max(len(rows), len(failures), len(warnings)), limit)


def diff_rows(d: DiffReport, text: Callable[[object], str] = plain) -> list[list[str]]:
    """The diff's table rows; ``text`` escapes the user's strings for the format."""
    rows = [
        [
            text(w.name) + ("" if w.status in ("changed", "unchanged") else f" ({w.status})"),
            usd(w.past_monthly) if w.past_monthly is not None else "-",
            usd(w.monthly) if w.monthly is not None else "-",
            _diff_text(w.diff, w.past_monthly),
        ]
        for w in d.workloads
    ]
    return rows


def diff_table(d: DiffReport) -> str:
    rows = diff_rows(d)
    rows.append(["all workloads", usd(d.past_total_monthly), usd(d.total_monthly),
                 _diff_text(d.diff_total_monthly, d.past_total_monthly)])  # fmt: skip
    lines = [
        d.headline,
        "",
        text_table(["workload", "previous", "new", "diff"], rows, right=[1, 2, 3]).rstrip("\n"),
    ]
    for w in d.workloads:
        if w.changes:
            lines.append(f"  {plain(w.name)}: " + "; ".join(plain(c) for c in w.changes))
    lines += [f"  {plain(c)}" for c in d.config_changes]
    if d.failed:
        lines += ["", f"FAILED: {plain(d.failure)}"]
    lines += [f"note: {plain(n)}" for n in d.notes]
    base, head = plain(d.base), plain(d.head)
    lines.append(f"\nbase {base}, head {head}, prices of {d.prices_as_of}")
    return "\n".join(lines) + "\n"


def diff_markdown(d: DiffReport, limit: int = COMMENT_LIMIT) -> str:
    """The pull-request comment: headline, table, collapsible details, hidden marker; cut to
    ``limit`` characters (GitHub's comment limit) with a note when it would be longer."""
    from costcalc.budget import MARKER

    arrow = "📈" if d.diff_total_monthly > 0 else "📉" if d.diff_total_monthly < 0 else ""
    head = [MARKER, f"### 💰 costcalc: {d.headline} {arrow}".rstrip(), ""]
    total_row = [
        "**All workloads**",
        f"**{usd(d.past_total_monthly)}**",
        f"**{usd(d.total_monthly)}**",
        f"**{_diff_text(d.diff_total_monthly, d.past_total_monthly)}**",
    ]
    table_head = ["| Workload | Previous | New | Diff |", "|---|---:|---:|---:|"]
    rows = ["| " + " | ".join(r) + " |" for r in diff_rows(d, md)]
    total = "| " + " | ".join(total_row) + " |"
    verdict = ["", f"❌ **Cost check failed:** {md(d.failure)}."] if d.failed else []
    details = []
    for w in d.workloads:
        if w.status == "unchanged":
            continue
        details.append(f"- **{md(w.name)}** ({w.status}): {_diff_text(w.diff, w.past_monthly)}")
        details += [f"  - {md(c)}" for c in w.changes]
    if d.config_changes:
        details += ["- **Budgets and policies**", *(f"  - {md(c)}" for c in d.config_changes)]
    unchanged = sum(1 for w in d.workloads if w.status == "unchanged")
    same = f"{unchanged} workload{'s' if unchanged != 1 else ''} without cost changes. "
    foot = [
        "",
        *(f"_Note: {md(n)}._" for n in d.notes),
        f"{same if unchanged else ''}Prices of {d.prices_as_of}; base {md(d.base)}, head "
        f"{md(d.head)}.",
    ]

    def assemble(table_rows: list[str], detail_lines: list[str], note: str) -> str:
        body = [*head, *table_head, *table_rows, total, *verdict, "",
                "<details><summary>Details</summary>", "", *detail_lines]  # fmt: skip
        if note:
            body += ["", note]
        return "\n".join([*body, "", "</details>", *foot]) + "\n"

    text = assemble(rows, details, "")
    if len(text) <= limit:
        return text
    # too long for one comment: drop the rows of unchanged workloads first (what changed is
    # what a reviewer reads), then detail lines, then the other rows, and say so
    same_rows = sum(1 for w in d.workloads if w.status == "unchanged")
    keep_same, keep_details, keep_changed = same_rows, len(details), len(rows) - same_rows

    def shown() -> list[str]:
        out, same = [], 0
        changed = 0
        for row, w in zip(rows, d.workloads, strict=True):
            if w.status == "unchanged":
                same += 1
                if same <= keep_same:
                    out.append(row)
            else:
                changed += 1
                if changed <= keep_changed:
                    out.append(row)
        return out

    while len(text) > limit and (keep_same or keep_details or keep_changed):
        if keep_same:
            keep_same = max(0, keep_same - max(1, keep_same // 4))
        elif keep_details:
            keep_details = max(0, keep_details - max(1, keep_details // 4))
        else:
            keep_changed = max(0, keep_changed - max(1, keep_changed // 4))
        kept = shown()
        note = (
            f"_Truncated to fit GitHub's {limit:,}-character comment limit: "
            f"{len(rows) - len(kept):,} table rows (unchanged workloads first) and "
            f"{len(details) - keep_details:,} detail lines left out. The JSON output "
            "(`--format json`) has everything._"
        )
        text = assemble(kept, details[:keep_details], note)
    return text
