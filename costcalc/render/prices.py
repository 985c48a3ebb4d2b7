"""What `costcalc prices` shows: the price sheet of one model, the price list, stale prices,
what a price update changed, and the audit against genai-prices or LiteLLM."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from costcalc.money import usd_price
from costcalc.prices import COMPONENT_LABELS
from costcalc.render.tables import Row, csv_text, text_table

if TYPE_CHECKING:  # each command imports only what it renders (start-up time)
    from costcalc.prices.audit import AuditRow, PriceAudit
    from costcalc.prices.sheet import PriceList, PriceSheet, StaleReport
    from costcalc.prices.update import PriceUpdate, PriceUpdateRemoval


def price_sheet_table(sheet: PriceSheet) -> str:
    teaching = "  [teaching rate, not a list price]" if sheet.teaching else ""
    lines = [f"{sheet.model}  {sheet.name}  ({sheet.provider}){teaching}"]
    since = (
        f"in effect since {sheet.effective_from}"
        if sheet.effective_from
        else f"since release ({sheet.released})"
        if sheet.released
        else "no start date in the data (they stand for any earlier day)"
    )
    lines.append(f"prices on {sheet.on}: {since}; {sheet.provenance}")
    if sheet.note:
        lines.append(f"note: {sheet.note}")
    if sheet.deprecated is not None:
        when = "retired" if sheet.deprecated <= sheet.on else "to be retired"
        lines.append(f"{when} on {sheet.deprecated} ({sheet.deprecation})")
    elif sheet.deprecation:
        lines.append(f"retired: {sheet.deprecation}")
    if sheet.description:
        lines.append(sheet.description)
    names = [*sheet.aliases, *sheet.snapshots]
    if names:
        lines.append("also answers to: " + ", ".join(names))
    facts = [
        f"context {sheet.context_window:,} tokens"
        if sheet.context_window is not None
        else "context window not known"
    ]
    if sheet.max_input_tokens:
        facts.append(f"max input {sheet.max_input_tokens:,}")
    if sheet.max_output_tokens:
        facts.append(f"max output {sheet.max_output_tokens:,}")
    facts.append(f"encoding {sheet.encoding or 'estimated (provider token_estimate)'}")
    lines.append(" · ".join(facts))
    lines.append("")
    rows: list[Row] = []
    for tier in sheet.tiers:
        scope = (
            "all requests"
            if tier.above_input_tokens is None
            else (f"input > {tier.above_input_tokens:,}")
        )
        for mode in tier.modes:
            if not mode.available:
                rows.append([scope, mode.mode, "-", "unavailable", mode.reason])
                continue
            for r in mode.prices:
                rows.append(
                    [
                        scope,
                        mode.mode,
                        COMPONENT_LABELS[r.component],
                        usd_price(r.usd_per_mtok),
                        r.basis + (f" ({r.note})" if r.note else ""),
                    ]
                )
            if mode.per_1k_requests is not None:
                note = mode.per_1k_requests_note
                rows.append(
                    [
                        scope,
                        mode.mode,
                        "fee per request",
                        f"{usd_price(mode.per_1k_requests)} per 1,000 requests",
                        f"assumed ({note})" if note else "published",
                    ]
                )
    lines.append(
        text_table(
            ["requests", "mode", "component", f"{sheet.currency} / 1M tokens", "basis"],
            rows,
            right=[3],
        ).rstrip("\n")
    )
    if len(sheet.periods) > 1:
        lines.append("")
        lines.append("price history:")
        fees = any(p.per_1k_requests is not None for p in sheet.periods)
        lines.append(
            text_table(
                ["from", "input", "output", *(["fee / 1k requests"] * fees), "checked", "source"],
                [
                    [
                        str(p.effective_from or "release"),
                        usd_price(p.input),
                        usd_price(p.output),
                        *([_opt_price(p.per_1k_requests)] if fees else []),
                        str(p.as_of) if p.origin is None else f"read {p.as_of}",
                        p.source if p.origin is None else f"{p.origin} (cites {p.source})",
                    ]
                    for p in sheet.periods
                ],
                right=[1, 2, 3] if fees else [1, 2],
            ).rstrip("\n")
        )
    if sheet.batch_rule is not None:
        b = sheet.batch_rule
        lines.append("")
        limits = f"{b.max_requests:,} requests or " if b.max_requests else ""
        size = f"{b.max_bytes:,} bytes per file" if b.max_bytes else "no documented file size"
        typical = (
            f"typical {b.typical_turnaround_hours.normalize():f} h"
            if b.typical_turnaround_hours
            else "no typical turnaround published"
        )
        window = (
            f"at most {b.completion_window_hours.normalize():f} h"
            if b.completion_window_hours
            else "no completion window documented"
        )
        lines.append(f"batch: {limits}{size}; {typical}, {window} ({b.source})")
    return "\n".join(lines) + "\n"


def _opt_price(value: Any) -> str:
    return usd_price(value) if value is not None else "-"


def price_list_rows(lst: PriceList) -> tuple[list[str], list[list[str]]]:
    headers = [
        "provider",
        "model",
        "input",
        "cached",
        "output",
        "batch in",
        "batch out",
        "modes",
        "context",
        "checked",
    ]
    rows = []
    for m in lst.models:
        mark = "*" if m.batch_assumed else ""
        rows.append(
            [
                m.provider,
                m.model + (" (teaching)" if m.teaching else ""),
                usd_price(m.input),
                _opt_price(m.cached_input),
                usd_price(m.output),
                _opt_price(m.batch_input) + mark,
                _opt_price(m.batch_output) + mark,
                ",".join(m.modes),
                f"{m.context_window:,}" if m.context_window is not None else "-",
                str(m.as_of),
            ]
        )
    return headers, rows


def price_list_table(lst: PriceList) -> str:
    headers, rows = price_list_rows(lst)
    out = text_table(headers, rows, right=[2, 3, 4, 5, 6, 8])
    note = f"{lst.currency} per 1M tokens, prices on {lst.on}."
    if any(m.batch_assumed for m in lst.models):
        note += " * batch price assumed from the provider's batch rule."
    fees = [m for m in lst.models if m.per_1k_requests is not None]
    if fees:
        each = ", ".join(
            f"{m.model} {usd_price(m.per_1k_requests or Decimal(0))}" for m in fees[:5]
        )
        more = f" and {len(fees) - 5} more" if len(fees) > 5 else ""
        note += (
            f" A fee per request besides the tokens, per 1,000 requests: {each}{more}"
            " (csv and json: per_1k_requests)."
        )
    return out + note + "\n"


def price_list_csv(lst: PriceList) -> str:
    headers = [
        "provider",
        "model",
        "teaching",
        "currency",
        "input",
        "cached_input",
        "output",
        "batch_input",
        "batch_output",
        "batch_assumed",
        "modes",
        "context_window",
        "as_of",
        "per_1k_requests",
    ]
    rows = [
        [
            m.provider,
            m.model,
            str(m.teaching).lower(),
            lst.currency,
            *(
                "" if v is None else format(v.normalize(), "f")
                for v in (m.input, m.cached_input, m.output, m.batch_input, m.batch_output)
            ),
            str(m.batch_assumed).lower(),
            " ".join(m.modes),
            m.context_window if m.context_window is not None else "",
            m.as_of,
            "" if m.per_1k_requests is None else format(m.per_1k_requests.normalize(), "f"),
        ]
        for m in lst.models
    ]
    return csv_text(headers, rows)


def stale_table(report: StaleReport) -> str:
    if not report.stale:
        return (
            f"all {report.checked} models were checked within {report.days} days "
            f"(today is {report.today})\n"
        )
    rows = [[s.provider, s.model, str(s.as_of), str(s.days_old)] for s in report.stale]
    head = (
        f"{len(report.stale)} of {report.checked} models were last checked more than "
        f"{report.days} days ago:\n"
    )
    return head + text_table(["provider", "model", "checked", "days"], rows, right=[3])


def _opt(value: Any) -> str:
    return "-" if value is None else usd_price(value)


LISTED = 40
"""Models added or removed that a table lists (JSON lists them all)."""


def price_update_table(update: PriceUpdate) -> str:
    lines = [
        f"prices update {update.on}: {update.format} from {update.source}",
        f"kept in {update.written}: {update.models:,} models"
        + (
            f" ({update.skipped:,} left out: no token price, not text generation, or a price "
            "above $100,000 per 1M tokens or per 1,000 requests)"
        ),
        f"compared with the data in use before, {update.previous}, as in effect on {update.on}:",
        "",
    ]
    for title, refs in (("models added", update.added), ("models removed", update.removed)):
        if not refs:
            lines.append(f"{title}: none")
            continue
        lines.append(f"{title} ({len(refs):,}):")
        rows = [[r.provider, r.model] for r in refs[:LISTED]]
        lines.append(text_table(["provider", "model"], rows))
        if len(refs) > LISTED:
            lines.append(f"... and {len(refs) - LISTED:,} more (--format json lists every one)")
    if update.changed:
        lines.append(f"prices changed ({len(update.changed):,}), USD per 1M tokens:")
        rows = [
            [
                c.provider,
                c.model + (f" (was {c.was})" if c.was else ""),
                c.component,
                _opt(c.old),
                _opt(c.new),
            ]
            for c in update.changed
        ]
        lines.append(
            text_table(["provider", "model", "component", "old", "new"], rows, right=[3, 4])
        )
    else:
        lines.append("prices changed: none")
    moved = [
        p for p in update.providers if p.before != p.after or p.added or p.removed or p.changed
    ]
    counts = [[p.provider, p.before, p.after, p.added, p.removed, p.changed] for p in moved]
    if counts:
        lines.append("models per provider (providers with a change):")
        lines.append(
            text_table(
                ["provider", "before", "after", "added", "removed", "changed"],
                counts,
                right=[1, 2, 3, 4, 5],
            )
        )
    still = len(update.providers) - len(moved)
    lines.append(f"{still} {'provider' if still == 1 else 'providers'} without a change")
    lines.append(
        f'prices from it now say "from {update.origin}"; a model it does not list keeps the '
        "shipped prices; `costcalc prices update --remove` goes back to the shipped prices."
    )
    return "\n".join(line.rstrip("\n") for line in lines) + "\n"


def price_update_removal_table(removal: PriceUpdateRemoval) -> str:
    if removal.removed:
        return f"removed {removal.path}: costcalc uses {removal.now} again\n"
    return f"no updated prices at {removal.path}: costcalc uses {removal.now}\n"


def _audit_rows(rows: list[AuditRow], notes: dict[str, int], status: bool) -> list[list[str]]:
    out = []
    for r in rows:
        parts = []
        if r.ours_basis and r.ours_basis != "published":
            parts.append(f"Ours: {r.ours_basis}")
        if r.theirs_basis and r.theirs_basis != "published":
            parts.append(f"Theirs: {r.theirs_basis}")
        if r.comment:
            parts.append(f"genai-prices says: {r.comment}")
        if r.known:
            parts.append(f"Known: {r.known}")
        mark = ""
        if parts:
            text = " ".join(p if p.endswith(".") else p + "." for p in parts)
            mark = f"[{notes.setdefault(text, len(notes) + 1)}]"
        cells = [r.provider, r.model, r.field, r.ours or "-", r.theirs or "-"]
        if status:
            verdict = "known" if r.known else "beyond" if r.exceeds else "within"
            cells += [r.difference or "", verdict]
        out.append([*cells, mark])
    return out


def price_audit_table(audit: PriceAudit) -> str:
    tol = f"{audit.tolerance.normalize():f}%"
    lines = [
        f"prices audit: {audit.models} curated models ({audit.matched} listed by theirs) against "
        f"{audit.against}, prices on {audit.on}",
        f"tolerance: prices {tol}, context windows and token limits "
        f"{audit.context_tolerance.normalize():f}% (USD per 1M tokens; ours - theirs)",
        "",
    ]
    notes: dict[str, int] = {}
    if audit.disagreements:
        beyond = sum(1 for r in audit.disagreements if r.exceeds)
        known = sum(1 for r in audit.disagreements if r.known)
        counts = f"{len(audit.disagreements)}; {beyond} beyond the tolerance"
        lines.append(f"disagreements ({counts}{f', {known} known' if known else ''}):")
        rows = _audit_rows(audit.disagreements, notes, status=True)
        headers = ["provider", "model", "field", "ours", "theirs", "difference", "", ""]
        lines.append(text_table(headers, rows, right=[3, 4, 5]).rstrip("\n"))
    else:
        lines.append("disagreements: none")
    if audit.one_sided:
        lines.append("")
        lines.append(f"only one side states ({len(audit.one_sided)}; not a failure):")
        rows = _audit_rows(audit.one_sided, notes, status=False)
        headers = ["provider", "model", "field", "ours", "theirs", ""]
        lines.append(text_table(headers, rows).rstrip("\n"))
    if notes:
        lines.append("")
        lines += [f"[{n}] {text}" for text, n in notes.items()]
    if audit.unused_known:
        lines.append("")
        lines.append("known disagreements the audit no longer finds (drop them from the file):")
        lines += [f"  {k.model}: {k.field}" for k in audit.unused_known]
    lines.append("")
    failing = sum(1 for r in audit.disagreements if r.exceeds and not r.known)
    if audit.failed:
        what = "disagreement" if failing == 1 else "disagreements"
        lines.append(f"FAILED: {failing} unexplained {what} beyond the tolerance (exit 1)")
    else:
        lines.append("ok: no unexplained disagreement beyond the tolerance")
    return "\n".join(lines) + "\n"
