"""What `costcalc prices` shows: the price sheet of one model, the price list, stale prices,
and what a price update changed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from costcalc.money import usd_price
from costcalc.prices import COMPONENT_LABELS
from costcalc.render.tables import Row, csv_text, text_table

if TYPE_CHECKING:  # each command imports only what it renders (start-up time)
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
        else "since release"
    )
    lines.append(f"prices on {sheet.on}: {since}; {sheet.provenance}")
    if sheet.note:
        lines.append(f"note: {sheet.note}")
    if sheet.description:
        lines.append(sheet.description)
    names = [*sheet.aliases, *sheet.snapshots]
    if names:
        lines.append("also answers to: " + ", ".join(names))
    facts = [
        f"context {sheet.context_window:,} tokens"
        if sheet.context_window
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
        lines.append(
            text_table(
                ["from", "input", "output", "checked", "source"],
                [
                    [
                        str(p.effective_from or "release"),
                        usd_price(p.input),
                        usd_price(p.output),
                        str(p.as_of) if p.origin is None else f"read {p.as_of}",
                        p.source if p.origin is None else f"{p.origin} (cites {p.source})",
                    ]
                    for p in sheet.periods
                ],
                right=[1, 2],
            ).rstrip("\n")
        )
    if sheet.batch_rule is not None:
        b = sheet.batch_rule
        lines.append("")
        limits = f"{b.max_requests:,} requests or " if b.max_requests else ""
        lines.append(
            f"batch: {limits}{b.max_bytes:,} bytes per file; typical "
            f"{b.typical_turnaround_hours.normalize():f} h, at most "
            f"{b.completion_window_hours.normalize():f} h ({b.source})"
        )
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
                f"{m.context_window:,}" if m.context_window else "-",
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
            "" if m.context_window is None else m.context_window,
            m.as_of,
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


def price_update_table(update: PriceUpdate) -> str:
    lines = [
        f"prices update {update.on}: {update.format} from {update.source}",
        f"kept in {update.written}: {update.models:,} models"
        + (f" ({update.skipped:,} left out: no token price, or not text generation)"),
        f"compared with the data in use before, {update.previous}, as in effect on {update.on}:",
        "",
    ]
    for title, refs in (("models added", update.added), ("models removed", update.removed)):
        if not refs:
            lines.append(f"{title}: none")
            continue
        lines.append(f"{title} ({len(refs):,}):")
        lines.append(text_table(["provider", "model"], [[r.provider, r.model] for r in refs]))
    if update.changed:
        lines.append(f"prices changed ({len(update.changed):,}), USD per 1M tokens:")
        rows = [
            [c.provider, c.model, c.component, _opt(c.old), _opt(c.new)] for c in update.changed
        ]
        lines.append(
            text_table(["provider", "model", "component", "old", "new"], rows, right=[3, 4])
        )
    else:
        lines.append("prices changed: none")
    lines.append("per provider:")
    counts = [
        [p.provider, p.before, p.after, p.added, p.removed, p.changed] for p in update.providers
    ]
    lines.append(
        text_table(
            ["provider", "before", "after", "added", "removed", "changed"],
            counts,
            right=[1, 2, 3, 4, 5],
        )
    )
    lines.append(
        f'prices from it now say "from {update.origin}"; '
        "`costcalc prices update --remove` goes back to the shipped prices."
    )
    return "\n".join(line.rstrip("\n") for line in lines) + "\n"


def price_update_removal_table(removal: PriceUpdateRemoval) -> str:
    if removal.removed:
        return f"removed {removal.path}: costcalc uses {removal.now} again\n"
    return f"no updated prices at {removal.path}: costcalc uses {removal.now}\n"
